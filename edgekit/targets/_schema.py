"""The schema of ``targets/<id>.yaml``: what one vendor toolchain accepts and how to hand off to it.

Every file is validated by :class:`TargetSpec` (unknown keys rejected, closed sets as enums,
units in key names). ``targets/schema.json`` is generated from it for editor completion
(``python -m edgekit.targets.schema_json``).
"""

from __future__ import annotations

import re
import string
from typing import Literal

from pydantic import Field, model_validator

from edgekit.metrics import Interval, Metric, Provenance
from edgekit.vocab import ComputeUnit, Precision, StrictModel

SCHEMA_VERSION = 1

# The runtime keys of the published latency table (shared/data/published-latency.csv).
Runtime = Literal[
    "onnxruntime", "openvino", "tensorrt", "tflite", "edgetpu", "ncnn", "rknn", "qnn", "stm32cube-ai", "esp-dl"
]
# What edgekit hands the toolchain for one precision.
HandoffInput = Literal["fp32-onnx", "fp16-onnx", "qdq-onnx", "fp32-onnx+calibration"]
ActivationDtype = Literal["uint8", "int8", "int16"]
# Calibration files a toolchain that quantizes by itself reads (written next to the artifact).
CalibrationFile = Literal["png-list", "npy-nchw", "npy-nhwc-unnormalized", "raw-nhwc-list"]
Layout = Literal["NCHW", "NHWC"]
FigureBasis = Literal["measured", "published", "estimate"]

# Placeholders every hand-off template may use; export fills them (see edgekit.targets.handoff).
CONTEXT_PLACEHOLDERS = frozenset({
    "onnx", "stem", "precision", "input_name", "batch", "channels", "height", "width",
    "input_shape_x", "input_shape_csv", "input_chw_csv", "mean", "std", "mean_255", "std_255", "norm_255",
    "mean_nested", "std_nested", "calib_list", "calib_npy_nchw", "calib_npy_nhwc", "calib_raw_list",
})  # fmt: skip
# Placeholders holding the user's text (file and input names; every handoff parameter is one too). Commands
# render them only quoted: {name:sh} is one shell word, {name:py} a Python literal inside a quoted heredoc.
FREE_TEXT_PLACEHOLDERS = frozenset({"onnx", "stem", "input_name"})
QUOTING_SPECS = frozenset({"sh", "py"})
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)(\w+)\1")


class Toolchain(StrictModel):
    """The vendor tool that consumes edgekit's artifact."""

    name: str
    min_version: str | None = Field(None, description="oldest version the data in this file was checked against")
    install: str = Field(description="how a user gets it (pip command or vendor SDK page)")
    docs_url: str


class Quantization(StrictModel):
    """The INT8 format the toolchain accepts."""

    handoff: Literal["qdq-onnx", "toolchain-calibrated"] = Field(
        description="qdq-onnx: edgekit quantizes (QDQ); toolchain-calibrated: fp32 ONNX + calibration files"
    )
    activation_dtype: ActivationDtype
    weight_dtype: Literal["int8"] = "int8"
    activations_symmetric: bool
    weights_symmetric: bool
    per_channel: bool
    calibration_files: list[CalibrationFile] = Field(default_factory=list)
    source: str = Field(description="where these requirements are documented")

    @model_validator(mode="after")
    def _calibration_needed(self) -> Quantization:
        if self.handoff == "toolchain-calibrated" and not self.calibration_files:
            raise ValueError("a toolchain-calibrated target must list calibration_files")
        return self


class OperatorSupport(StrictModel):
    """Which ONNX operators the toolchain converts: an allow-list or a deny-list, with its source."""

    supported: list[str] | None = Field(None, description="allow-list of ai.onnx op types")
    unsupported: list[str] | None = Field(None, description="deny-list: every other ai.onnx op converts")
    domains: list[str] = Field(default_factory=lambda: ["ai.onnx"], description="op domains accepted at all")
    folded_by_converter: list[str] = Field(
        default_factory=list, description="ops the converter folds away before the runtime sees them"
    )
    source: str = Field(description="URL of the list, or how it was derived")

    @model_validator(mode="after")
    def _one_list(self) -> OperatorSupport:
        if (self.supported is None) == (self.unsupported is None):
            raise ValueError("ops needs exactly one of 'supported' (allow-list) or 'unsupported' (deny-list)")
        return self

    def supports(self, op_type: str, domain: str = "") -> bool:
        """True when an op of this type and domain converts (``""`` is the ai.onnx domain)."""
        if (domain or "ai.onnx") not in self.domains:
            return False
        if domain not in ("", "ai.onnx"):
            return True  # a listed custom domain is accepted as a whole
        if op_type in self.folded_by_converter:
            return True
        if self.supported is not None:
            return op_type in self.supported
        return op_type not in (self.unsupported or [])


class RuntimeOverhead(StrictModel):
    """Memory the runtime itself adds beyond weights and activations, with its basis."""

    # Finite and at most 1 TiB: an inf or NaN overhead would make every candidate fit or none.
    value: float = Field(ge=0, le=2**20, allow_inf_nan=False, description="MB (2**20 bytes)")
    low: float | None = Field(None, ge=0, le=2**20, allow_inf_nan=False, description="MB; required for estimates")
    high: float | None = Field(None, ge=0, le=2**20, allow_inf_nan=False, description="MB; required for estimates")
    basis: FigureBasis
    source: str = Field(description="citation URL, or the command that measured it")
    host: str | None = Field(None, description="measured: host the figure was measured on")
    tool_versions: dict[str, str] | None = None
    n_samples: int | None = Field(None, ge=1)
    note: str | None = None

    @model_validator(mode="after")
    def _evidence(self) -> RuntimeOverhead:
        if self.basis == "measured" and (self.host is None or self.tool_versions is None or self.n_samples is None):
            raise ValueError("a measured runtime_overhead_mb needs host, tool_versions and n_samples")
        if self.basis == "estimate" and (self.low is None or self.high is None):
            raise ValueError("an estimated runtime_overhead_mb needs low and high")
        if self.low is not None and self.high is not None and not self.low <= self.value <= self.high:
            raise ValueError(f"runtime_overhead_mb value {self.value} lies outside [{self.low}, {self.high}]")
        return self

    def metric(self) -> Metric:
        """The figure as a :class:`Metric` (estimates become *predicted* with their interval)."""
        if self.basis == "measured":
            provenance = Provenance(kind="measured", host=self.host, tool_versions=self.tool_versions,
                                    n_samples=self.n_samples, note=self.source)  # fmt: skip
        elif self.basis == "published":
            provenance = Provenance(kind="published", citation=self.source, note=self.note)
        else:
            interval = Interval(low=self.low or 0.0, high=self.high or 0.0)
            provenance = Provenance(kind="predicted", predictor=f"estimate: {self.source}", interval=interval,
                                    note=self.note)  # fmt: skip
        return Metric(name="runtime_overhead_mb", value=self.value, unit="MB", provenance=provenance)


class Handoff(StrictModel):
    """Command templates the user runs on their side, with per-precision values."""

    tool: str
    commands: list[str] = Field(min_length=1, description=(
        "str.format templates, run in the export folder; user text ({onnx}, {stem}, {input_name}, parameters) "
        "only as {name:sh} (a shell word) or, inside a <<'EOF' heredoc, {name:py} (a Python literal)"))  # fmt: skip
    per_precision: dict[Precision, dict[str, str]] = Field(default_factory=dict)
    parameters: dict[str, str] = Field(default_factory=dict, description="defaults the user may override")
    produces: str = Field(description="what the user ends up with, e.g. '{stem}.engine'")
    docs_url: str

    def quoting_problems(self) -> list[str]:
        """Placeholders rendered in the wrong way for where they sit (user text unquoted, a spec on edgekit's own)."""
        free = FREE_TEXT_PLACEHOLDERS | set(self.parameters)
        fields = [f for command in self.commands for f in _fields_in_context(command)]
        where: dict[str, set[str]] = {}
        for field, _, context in fields:
            where.setdefault(field, set()).add(context)
        fields += [(field, spec, context) for per in self.per_precision.values() for key, value in per.items()
                   for context in where.get(key, set()) for field, spec, _ in _fields_in_context(value)]  # fmt: skip
        problems = []
        for field, spec, context in fields:
            if field in free and spec != context:
                problems.append(f"{{{field}}} holds user text: write {{{field}:{context}}} there")
            elif field not in free and spec:
                problems.append(f"{{{field}:{spec}}}: only user text ({', '.join(sorted(free))}) takes a quoting spec")
        if any(spec for _, _, spec, _ in string.Formatter().parse(self.produces)):
            problems.append("produces is a description: its placeholders take no spec")
        return sorted(set(problems))

    def placeholders(self) -> set[str]:
        """Every ``{name}`` used by the commands, ``produces`` and the per-precision values."""
        values = [v for per in self.per_precision.values() for v in per.values()]
        names: set[str] = set()
        for template in [*self.commands, self.produces, *values]:
            names |= {field for _, field, _, _ in string.Formatter().parse(template) if field}
        return names


class VerificationSpec(StrictModel):
    """How (and whether) edgekit can convert and run the artifact on this machine."""

    verifier: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="the edgekit runtime (edgekit.runtimes) that converts and runs it here",
    )
    python_packages: list[str] = Field(default_factory=list, description="import names the runtime's converter needs")
    extra: str | None = Field(None, description="pip extra that installs them, e.g. 'openvino'")
    requires_cuda: bool = False
    note: str | None = None


class TargetSpec(StrictModel):
    """One vendor toolchain: what it accepts, how edgekit hands off to it, how it is verified."""

    schema_version: Literal[1]
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    vendor: str
    description: str
    runtime: Runtime
    compute_units: list[ComputeUnit] = Field(min_length=1)
    precisions: list[Precision] = Field(min_length=1)
    precision_inputs: dict[Precision, HandoffInput]
    quantization: Quantization | None = None
    opset_min: int = Field(ge=1)
    opset_max: int = Field(ge=1)
    opset_preferred: int = Field(ge=1, description="opset edgekit exports for this target")
    opset_source: str
    dynamic_shapes: bool = Field(description="False: inputs must be fully static (batch 1)")
    input_layout: Layout = Field(description="layout of the deployed model's input after conversion")
    ops: OperatorSupport
    toolchain: Toolchain
    handoff: Handoff
    verification: VerificationSpec
    runtime_overhead_mb: RuntimeOverhead
    notes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> TargetSpec:
        if set(self.precision_inputs) != set(self.precisions):
            raise ValueError(f"precision_inputs keys {sorted(self.precision_inputs)} must equal precisions "
                             f"{sorted(self.precisions)}")  # fmt: skip
        if ("int8" in self.precisions) != (self.quantization is not None):
            raise ValueError("quantization is required exactly when int8 is among precisions")
        if not self.opset_min <= self.opset_preferred <= self.opset_max:
            raise ValueError(f"opset_preferred {self.opset_preferred} outside [{self.opset_min}, {self.opset_max}]")
        self._check_int8_input()
        self._check_placeholders()
        return self

    def _check_int8_input(self) -> None:
        if self.quantization is None:
            return
        expected = "qdq-onnx" if self.quantization.handoff == "qdq-onnx" else "fp32-onnx+calibration"
        if self.precision_inputs.get("int8") != expected:
            raise ValueError(f"int8 precision_input must be {expected!r} for handoff {self.quantization.handoff!r}")

    def _check_placeholders(self) -> None:
        known = set(CONTEXT_PLACEHOLDERS) | set(self.handoff.parameters)
        per_precision = [set(self.handoff.per_precision.get(p, {})) for p in self.precisions]
        known |= set.intersection(*per_precision) if per_precision else set()
        unknown = self.handoff.placeholders() - known
        if unknown:
            raise ValueError(f"handoff uses unknown placeholders {sorted(unknown)}; known: {sorted(known)}")
        problems = self.handoff.quoting_problems()
        if problems:
            raise ValueError(f"handoff quoting: {'; '.join(problems)}")

    def precision_input(self, precision: str) -> HandoffInput:
        """What edgekit hands over for ``precision`` (caller checks support first)."""
        return self.precision_inputs[precision]  # type: ignore[index]

    @property
    def needs_static_shapes(self) -> bool:
        """True when the artifact must have fully static input shapes."""
        return not self.dynamic_shapes


def _fields_in_context(template: str) -> list[tuple[str, str, str]]:
    """``(field, spec, context)`` of each placeholder: context ``py`` inside a quoted heredoc's body, else ``sh``.

    Raises:
        ValueError: a heredoc with an unquoted delimiter (the shell would expand ``$(...)`` in its body),
            or a conversion such as ``{name!r}``.
    """
    found, closing = [], None
    for line in template.splitlines():
        if closing is not None and line.strip() == closing:
            closing = None
            continue
        context = "sh" if closing is None else "py"
        for _, field, spec, conversion in string.Formatter().parse(line):
            if field is None:
                continue
            if conversion:
                raise ValueError(f"handoff placeholder {{{field}!{conversion}}}: conversions are not supported")
            found.append((field, spec or "", context))
        heredoc = _HEREDOC.search(line) if closing is None else None
        if heredoc:
            closing = heredoc.group(2)
            if not heredoc.group(1):
                raise ValueError(f"handoff heredoc <<{closing} must quote its delimiter (<<'{closing}')")
    return found
