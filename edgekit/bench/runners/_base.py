"""The Runner extension point: how one runtime loads a model and runs one inference.

A runner does the runtime-specific part (load, place inputs, run, sync); the protocol in
:func:`edgekit.bench.measure` does the timing, and :mod:`edgekit.bench.run` adds child
processes, peak RSS, the fingerprint and provenance. Runners live in the runtime modules of
:mod:`edgekit.runtimes` (loaded on first lookup, plug-ins too) and import their runtime lazily.
"""

from __future__ import annotations

import abc
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from edgekit._registry import Registry
from edgekit.bench.measure import IntervalTimer
from edgekit.errors import MissingDependencyError
from edgekit.runtimes import RUNTIMES

Device = Literal["cpu", "cuda"]


class ModelSource(BaseModel):
    """A registry model, built by the runner itself (torch runners)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["model"] = "model"
    name: str
    weights: str = Field("none", description="weights policy: imagenet | none | checkpoint path")
    input_px: int | None = Field(None, description="input side; the model's own crop size when None")


class ArtifactSource(BaseModel):
    """A file a runtime loads directly: ``.onnx``, OpenVINO ``.xml``, ncnn ``.param``, ..."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["artifact"] = "artifact"
    path: Path
    input_px: int | None = Field(None, description="input side, needed only when the file's is symbolic")


Source = ModelSource | ArtifactSource


@dataclass
class PreparedRun:
    """A loaded model with its inputs in place: ``run()`` is exactly one timed inference.

    Attributes:
        run: one inference on the prepared inputs (nothing else happens inside).
        input_shape: the NCHW shape fed to the model.
        sync: waits for the device to finish (``None`` on synchronous CPU runtimes).
        timer: device-side interval timer (CUDA events), or ``None`` for the wall clock.
        settings: runtime settings that shape the numbers (threads, providers, hints), recorded.
        close: releases the session.
    """

    run: Callable[[], object]
    input_shape: tuple[int, ...]
    sync: Callable[[], object] | None = None
    timer: IntervalTimer | None = None
    settings: dict[str, str] = field(default_factory=dict)
    close: Callable[[], None] = lambda: None


class Runner(abc.ABC):
    """One runtime on one device, e.g. ``onnxruntime-cpu``.

    Subclasses set the class attributes, implement :meth:`prepare`, and register with
    :func:`~edgekit.bench.runners.register_runner`. They must not import their runtime at
    module level: listing runners has to stay cheap.

    Example:
        >>> @register_runner
        ... class EchoRunner(Runner):
        ...     name = "echo-cpu"
        ...     family = "echo"
        ...     device = "cpu"
        ...     artifact_suffixes = (".echo",)
        ...     packages = ()
        ...
        ...     def prepare(self, source, batch, threads):
        ...         data = Path(source.path).read_bytes()
        ...         return PreparedRun(run=lambda: data[::-1], input_shape=(batch, len(data)),
        ...                            settings={"threads": str(threads)})
        >>> get_runner("echo-cpu").unavailable_reason() is None
        True
    """

    name: ClassVar[str]
    family: ClassVar[str]  # runtime family: torch | onnxruntime | openvino | ncnn | ...
    device: ClassVar[Device]
    # File suffixes the runner loads directly; registry models are exported to the first one.
    artifact_suffixes: ClassVar[tuple[str, ...]] = ()
    # True when the runner builds registry models itself (torch eager).
    builds_models: ClassVar[bool] = False
    # Distribution names whose versions are recorded with every measurement.
    packages: ClassVar[tuple[str, ...]] = ()
    # The optional module the runtime lives in and the pip extra that installs it, if any.
    optional_module: ClassVar[tuple[str, str] | None] = None

    def unavailable_reason(self) -> str | None:
        """Why this runner cannot run here (missing package, no GPU, ...), or ``None``."""
        if self.optional_module is None:
            return None
        module, extra = self.optional_module
        try:
            importlib.import_module(module)
        except ImportError:
            return f"{module} is not installed (pip install 'edgekit[{extra}]')"
        return None

    def require_available(self) -> None:
        """Raise unless the runner can run here.

        Raises:
            MissingDependencyError: with :meth:`unavailable_reason` as the message.
        """
        reason = self.unavailable_reason()
        if reason:
            raise MissingDependencyError(f"{self.name}: {reason}")

    def accepts(self, source: Source) -> bool:
        """Whether :meth:`prepare` can load this source."""
        if isinstance(source, ModelSource):
            return self.builds_models
        return Path(source.path).suffix.lower() in self.artifact_suffixes

    @abc.abstractmethod
    def prepare(self, source: Source, batch: int, threads: int) -> PreparedRun:
        """Load the model, place random inputs of ``batch`` images, and return the run.

        Raises:
            BadInputError: the source cannot be loaded or has an incompatible input.
            MissingDependencyError: the runtime is not installed.
        """


R = type[Runner]
# Filled by the runtime modules (see edgekit.runtimes) on first lookup, and by register_runner.
RUNNERS: Registry[R] = Registry("runner", discover=RUNTIMES.discover)


def register_runner(cls: R) -> R:
    """Class decorator that adds a runner to the registry.

    Raises:
        ValueError: the name is taken, not lower-case, or a class attribute is missing.
    """
    for attribute in ("name", "family", "device"):
        if not isinstance(getattr(cls, attribute, None), str):
            raise ValueError(f"runner {cls.__name__} must set the class attribute {attribute!r}")
    if cls.name != cls.name.lower() or " " in cls.name:
        raise ValueError(f"runner names are lower-case without spaces, got {cls.name!r}")
    return RUNNERS.register(cls.name, cls)


def registered() -> dict[str, type[Runner]]:
    """The registry's live mapping (name → class), without discovery."""
    return RUNNERS.entries
