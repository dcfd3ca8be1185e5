"""What every pass shares: the artifact it transforms, its typed config, its report, its registry.

A pass is a small class: a pydantic ``Config`` (``extra="forbid"``), declared ``capabilities``
and a pure ``_apply(artifact, config) -> PassResult``. Subclasses register themselves in
:data:`PASSES` by ``name`` when they are defined; a second pass with the same name raises.
Passes of other distributions load from the ``edgekit.passes`` entry-point group.

Example:
    >>> class Identity(Pass):
    ...     name = "identity_example"
    ...     config_class = PassConfig
    ...     capabilities = Capabilities(input_kind="onnx", output_kind="onnx", precision="fp32", parity="fp32")
    ...     def _apply(self, artifact, config):
    ...         return PassResult(artifact=artifact, report=PassReport(pass_name=self.name))
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from edgekit._registry import Registry
from edgekit.errors import BadInputError
from edgekit.metrics import Metric, computed
from edgekit.models import Preprocessing
from edgekit.vocab import PassPrecision, bad_input

ArtifactKind = Literal["torch", "onnx"]
# How the verifier compares a pass's output with its input (tolerances in edgekit.verify).
ParityKind = Literal["fp32", "fp16", "int8", "lossy"]


@dataclass(frozen=True)
class Artifact:
    """A model between passes: a ``torch.nn.Module`` or an ``onnx.ModelProto``.

    ``input_shape`` is the batch-1 NCHW shape; ``preprocessing`` says how images become that
    input (calibration and fidelity images are made with it).
    """

    kind: ArtifactKind
    model: Any
    input_shape: tuple[int, ...]
    preprocessing: Preprocessing

    def with_model(self, model: Any, kind: ArtifactKind | None = None) -> Artifact:
        """Return a copy holding another model (and kind)."""
        return replace(self, model=model, kind=kind or self.kind)


class PassConfig(BaseModel):
    """Base of every pass config: typed fields with defaults, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Capabilities(BaseModel):
    """What a pass consumes and produces, and what it needs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input_kind: ArtifactKind
    output_kind: ArtifactKind
    precision: PassPrecision = Field(description="numeric precision of the weights it produces")
    parity: ParityKind = Field(description="which named tolerance verifies it against its input")
    needs_calibration: bool = False
    dependencies: tuple[str, ...] = Field((), description="Python packages imported by run()")


class PassReport(BaseModel):
    """What a pass did: computed figures and plain-language notes (no printing)."""

    model_config = ConfigDict(extra="forbid")

    pass_name: str
    status: Literal["applied", "kept_input"] = "applied"
    metrics: list[Metric] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def metric(self, name: str) -> Metric:
        """Return the metric called ``name``.

        Raises:
            KeyError: the report has no such metric.
        """
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(f"{self.pass_name} reported no metric {name!r}")

    def add(self, name: str, value: float, unit: str, method: str) -> None:
        """Append a *computed* metric."""
        self.metrics.append(computed(name, value, unit, method))


@dataclass(frozen=True)
class PassResult:
    """The transformed artifact and the report of the transform."""

    artifact: Artifact
    report: PassReport


# Built-in passes register when edgekit.passes imports their modules; plug-ins through entry points.
PASSES: Registry[type[Pass]] = Registry("pass", listing="inline", entry_point_group="edgekit.passes")


class Pass(ABC):
    """Base class of every transform. Subclasses set ``name``, ``config_class``, ``capabilities``."""

    name: ClassVar[str]
    config_class: ClassVar[type[PassConfig]]
    capabilities: ClassVar[Capabilities]
    description: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if inspect.isabstract(cls):
            return
        PASSES.register(cls.name, cls)

    def parse_config(self, raw: PassConfig | Mapping[str, Any] | None = None) -> PassConfig:
        """Validate a config (a model, a mapping, or None for the defaults).

        Raises:
            BadInputError: unknown keys or invalid values, named in one line.
        """
        if isinstance(raw, self.config_class):
            return raw
        data = raw.model_dump() if isinstance(raw, BaseModel) else dict(raw or {})
        try:
            return self.config_class.model_validate(data)
        except ValidationError as exc:
            raise bad_input(exc, f"invalid config for pass {self.name}", empty="config") from exc

    def run(self, artifact: Artifact, config: PassConfig | Mapping[str, Any] | None = None) -> PassResult:
        """Apply the pass to ``artifact``; the input is never modified.

        Raises:
            BadInputError: the artifact is of the wrong kind or the config is invalid.
        """
        if artifact.kind != self.capabilities.input_kind:
            raise BadInputError(f"pass {self.name} runs on {self.capabilities.input_kind} models, not {artifact.kind}")
        return self._apply(artifact, self.parse_config(config))

    @abstractmethod
    def _apply(self, artifact: Artifact, config: Any) -> PassResult:
        """Transform ``artifact`` under a validated ``config``."""


def method_of(pass_name: str) -> str:
    """The provenance ``method`` string of figures a pass computes."""
    return f"edgekit.passes.{pass_name}@1"


def registered_passes() -> dict[str, type[Pass]]:
    """Every registered pass class by name (a copy)."""
    return PASSES.items()


def list_passes(pattern: str | None = None) -> list[str]:
    """Names of the registered passes, optionally filtered by an fnmatch pattern."""
    return PASSES.names(pattern)


def get_pass(name: str) -> Pass:
    """Return an instance of the pass called ``name``.

    Raises:
        UnknownNameError: no such pass (lists close matches).
    """
    return PASSES.get(name)()
