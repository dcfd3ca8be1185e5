"""Pre-flight: does an ONNX artifact meet a target's rules before anything is written or converted?

Checks, each reported with the op, input or tensor it concerns and the target it fails: the
graph is valid ONNX (``onnx.checker``: topological order, no cycle, tensor data as long as its
shape) and an image classifier edgekit can hand off (one float32 N×3×H×W input of sane size);
then every operator supported (sub-graphs included), opset in range, static input shapes where
the target needs them, the requested precision accepted, and an int8 model's quantization format
(QDQ vs toolchain-calibrated, activation dtype, symmetry, per-channel weights).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import onnx
from pydantic import BaseModel, ConfigDict, Field

from edgekit.errors import BadInputError
from edgekit.onnx_io import load_onnx, structure_problem
from edgekit.targets._registry import get_target
from edgekit.targets._schema import Quantization, TargetSpec
from edgekit.targets.handoff import unsafe_text

CheckName = Literal["graph", "input", "op", "opset", "static-shape", "precision", "quantization"]
_QDQ_OPS = frozenset({"QuantizeLinear", "DequantizeLinear"})
_INTEGER_OPS = frozenset({"QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger", "DynamicQuantizeLinear"})
_WEIGHT_CONSUMERS = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul"})
_DTYPE_NAMES = {onnx.TensorProto.UINT8: "uint8", onnx.TensorProto.INT8: "int8", onnx.TensorProto.INT16: "int16",
                onnx.TensorProto.UINT16: "uint16"}  # fmt: skip
_EXAMPLE_NODES = 2  # node names quoted per unsupported op
# Bounds of a classifier input: above them a file is broken or hostile (a 10**9-px side would exhaust memory
# when edgekit generates its parity and calibration images), not a network anyone deploys on a device.
MAX_SIDE_PX = 2048
MAX_STATIC_BATCH = 64
_CLASSIFIER = "edgekit exports image classifiers with one float32 N×3×H×W input"


class PreflightIssue(BaseModel):
    """One rule the artifact breaks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    check: CheckName
    message: str
    op_type: str | None = None
    count: int | None = Field(None, description="nodes of op_type in the graph")


class PreflightReport(BaseModel):
    """The verdict of every check for one (artifact, target, precision)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: str
    precision: str
    opset: int
    op_counts: dict[str, int]
    input_shapes: dict[str, list[int | str]]
    issues: list[PreflightIssue]

    @property
    def passed(self) -> bool:
        """True when no check failed."""
        return not self.issues

    def summary(self) -> str:
        """One line: ``pre-flight passed ...`` or every failure, ``;``-separated."""
        if self.passed:
            return f"pre-flight passed for target {self.target} ({self.precision}, opset {self.opset})"
        return f"pre-flight failed for target {self.target}: " + "; ".join(i.message for i in self.issues)


def _all_nodes(graph: onnx.GraphProto) -> Iterator[onnx.NodeProto]:
    for node in graph.node:
        yield node
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                yield from _all_nodes(attribute.g)
            elif attribute.type == onnx.AttributeProto.GRAPHS:
                for subgraph in attribute.graphs:
                    yield from _all_nodes(subgraph)


def default_opset(model: onnx.ModelProto) -> int:
    """The ai.onnx opset the model imports (0 when it imports none)."""
    versions = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    return versions[0] if versions else 0


def detect_precision(model: onnx.ModelProto) -> str:
    """``int8`` when quantized (QDQ or integer ops), ``fp16`` when float weights are fp16, else ``fp32``."""
    ops = {n.op_type for n in _all_nodes(model.graph)}
    if ops & (_QDQ_OPS | _INTEGER_OPS):
        return "int8"
    dtypes = {t.data_type for t in model.graph.initializer}
    if onnx.TensorProto.FLOAT16 in dtypes and onnx.TensorProto.FLOAT not in dtypes:
        return "fp16"
    return "fp32"


def _has_qdq(model: onnx.ModelProto) -> bool:
    return any(n.op_type in _QDQ_OPS for n in _all_nodes(model.graph))


def _op_issues(model: onnx.ModelProto, spec: TargetSpec) -> tuple[Counter[str], list[PreflightIssue]]:
    counts: Counter[str] = Counter()
    unsupported: dict[str, list[str]] = {}
    for node in _all_nodes(model.graph):
        label = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}::{node.op_type}"
        counts[label] += 1
        if not spec.ops.supports(node.op_type, node.domain):
            unsupported.setdefault(label, []).append(node.name or "<unnamed>")
    issues = []
    for label, names in sorted(unsupported.items()):
        examples = ", ".join(names[:_EXAMPLE_NODES])
        issues.append(PreflightIssue(
            check="op", op_type=label, count=len(names),
            message=(f"operator {label} ({len(names)} node{'s' if len(names) > 1 else ''}, e.g. {examples}) is not "
                     f"supported by target {spec.id} ({spec.toolchain.name}; list: {spec.ops.source.split()[0]})"),
        ))  # fmt: skip
    return counts, issues


def _shape_of(value: onnx.ValueInfoProto) -> list[int | str]:
    dims = value.type.tensor_type.shape.dim
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in dims]


def graph_inputs(model: onnx.ModelProto) -> dict[str, list[int | str]]:
    """Real inputs (initializers excluded) and their shapes, symbolic dims as strings."""
    initializers = {t.name for t in model.graph.initializer}
    return {v.name: _shape_of(v) for v in model.graph.input if v.name not in initializers}


def _input_problem(model: onnx.ModelProto) -> str | None:
    """Why the model is not an image classifier edgekit can feed and hand off, or None."""
    initializers = {t.name for t in model.graph.initializer}
    inputs = [v for v in model.graph.input if v.name not in initializers]
    if len(inputs) != 1:
        return f"the model has {len(inputs)} inputs ({', '.join(repr(v.name) for v in inputs[:3])}); {_CLASSIFIER}"
    (value,) = inputs
    why = unsafe_text(value.name)
    if why:
        return f"input name {value.name!r} cannot be written into a hand-off script: it {why}"
    if not value.type.HasField("tensor_type"):
        return f"input {value.name!r} is not a tensor; {_CLASSIFIER}"
    elem_type = value.type.tensor_type.elem_type
    if elem_type != onnx.TensorProto.FLOAT:
        known = elem_type in onnx.TensorProto.DataType.values()
        dtype = onnx.TensorProto.DataType.Name(elem_type).lower() if known else f"element type {elem_type}"
        return f"input {value.name!r} is {dtype}; {_CLASSIFIER}"
    return _input_shape_problem(value.name, _shape_of(value))


def _input_shape_problem(name: str, shape: list[int | str]) -> str | None:
    if len(shape) != 4:
        return f"input {name!r} has rank {len(shape)} (shape {shape}); {_CLASSIFIER}"
    batch, channels, height, width = shape
    if not all(isinstance(d, int) and d > 0 for d in (channels, height, width)):
        return f"input {name!r} needs static C, H, W (shape {shape}); {_CLASSIFIER}"
    if channels != 3:
        return f"input {name!r} has {channels} channels (shape {shape}); {_CLASSIFIER} (RGB, channels first)"
    if height != width:
        return f"input {name!r} is {height}×{width} px; edgekit's preprocessing feeds square crops"
    if height > MAX_SIDE_PX or (isinstance(batch, int) and batch > MAX_STATIC_BATCH):
        return (f"input {name!r} has shape {shape}; edgekit takes classifier inputs up to "
                f"{MAX_STATIC_BATCH}×3×{MAX_SIDE_PX}×{MAX_SIDE_PX}")  # fmt: skip
    return None


def structure_issues(model: onnx.ModelProto, path: Path | None = None) -> list[PreflightIssue]:
    """Graph validity (``onnx.checker``) first, then the classifier input; empty when both hold.

    ``model`` must carry its weights (as :func:`edgekit.onnx_io.load_onnx` returns it) unless ``path`` is given.
    """
    problem = structure_problem(model, path)
    if problem:
        return [PreflightIssue(check="graph", message=f"not a valid ONNX graph: {problem}")]
    problem = _input_problem(model)
    return [PreflightIssue(check="input", message=problem)] if problem else []


def require_structure(model: onnx.ModelProto, spec: TargetSpec, path: Path | None = None) -> None:
    """Raise unless :func:`structure_issues` finds nothing (run before any file is written or tool started).

    Raises:
        BadInputError: ``pre-flight failed for target <id>: <why>``.
    """
    issues = structure_issues(model, path)
    if issues:
        raise BadInputError(f"pre-flight failed for target {spec.id}: " + "; ".join(i.message for i in issues))


def _shape_issues(inputs: dict[str, list[int | str]], spec: TargetSpec) -> list[PreflightIssue]:
    if not spec.needs_static_shapes:
        return []
    issues = []
    for name, shape in inputs.items():
        dynamic = [d for d in shape if not isinstance(d, int) or d <= 0]
        if dynamic:
            issues.append(PreflightIssue(check="static-shape", message=(
                f"input {name} has dynamic dims {dynamic} (shape {shape}); target {spec.id} needs static shapes "
                "(export with a static batch of 1)")))  # fmt: skip
    return issues


def _opset_issues(opset: int, spec: TargetSpec) -> list[PreflightIssue]:
    if spec.opset_min <= opset <= spec.opset_max:
        return []
    return [PreflightIssue(check="opset", message=(
        f"opset {opset} is outside target {spec.id}'s range {spec.opset_min}-{spec.opset_max} "
        f"(edgekit exports opset {spec.opset_preferred} for it)"))]  # fmt: skip


def _precision_issues(model: onnx.ModelProto, precision: str, spec: TargetSpec) -> list[PreflightIssue]:
    if precision not in spec.precisions:
        return [PreflightIssue(check="precision", message=(
            f"target {spec.id} accepts precisions {', '.join(spec.precisions)}; not {precision}"))]  # fmt: skip
    found = detect_precision(model)
    wanted = spec.precision_input(precision)
    expected = {"fp32-onnx": "fp32", "fp32-onnx+calibration": "fp32", "fp16-onnx": "fp16", "qdq-onnx": "int8"}[wanted]
    if found == expected and wanted == "qdq-onnx" and not _has_qdq(model):
        return [
            PreflightIssue(
                check="precision",
                message=(
                    f"target {spec.id} takes int8 as QDQ (QuantizeLinear/DequantizeLinear); the model uses integer "
                    "operators instead (dynamic or QOperator quantization)"
                ),
            )
        ]
    if found == expected:
        return []
    return [
        PreflightIssue(
            check="precision",
            message=(
                f"target {spec.id} takes a {wanted} for {precision}, but the model is {found}"
                + (" (it quantizes by itself from calibration data)" if wanted == "fp32-onnx+calibration" else "")
            ),
        )
    ]


def _initializers(model: onnx.ModelProto) -> dict[str, onnx.TensorProto]:
    return {t.name: t for t in model.graph.initializer}


def _zero_points(tensor: onnx.TensorProto | None) -> list[int]:
    return [] if tensor is None else [int(v) for v in onnx.numpy_helper.to_array(tensor).reshape(-1)]


def _is_weight_dequantize(node: onnx.NodeProto, inits: dict[str, onnx.TensorProto], consumers: set[str]) -> bool:
    """A DequantizeLinear of an 8-bit weight initializer (int32 biases are not weights)."""
    if node.op_type != "DequantizeLinear" or node.input[0] not in inits or node.output[0] not in consumers:
        return False
    return inits[node.input[0]].data_type in (onnx.TensorProto.INT8, onnx.TensorProto.UINT8)


def _quantization_facts(model: onnx.ModelProto) -> tuple[set[str], bool, bool, list[bool]]:
    """(activation dtypes, activation zero points all 0, weight zero points all 0, per-channel flags of weights)."""
    inits = _initializers(model)
    consumers = {i for n in model.graph.node if n.op_type in _WEIGHT_CONSUMERS for i in n.input}
    act_dtypes, act_zero, weight_zero, per_channel = set(), True, True, []
    for node in model.graph.node:
        zero_point = inits.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if node.op_type == "QuantizeLinear":
            act_dtypes.add(_DTYPE_NAMES.get(zero_point.data_type, "uint8") if zero_point is not None else "uint8")
            act_zero = act_zero and all(v == 0 for v in _zero_points(zero_point))
        elif _is_weight_dequantize(node, inits, consumers):
            scale = inits.get(node.input[1])
            per_channel.append(scale is not None and len(scale.dims) == 1 and scale.dims[0] > 1)
            weight_zero = weight_zero and all(v == 0 for v in _zero_points(zero_point))
    return act_dtypes, act_zero, weight_zero, per_channel


def _quantization_issues(model: onnx.ModelProto, quant: Quantization, spec: TargetSpec) -> list[PreflightIssue]:
    act_dtypes, act_zero, weight_zero, per_channel = _quantization_facts(model)
    problems = []
    if act_dtypes and act_dtypes != {quant.activation_dtype}:
        problems.append(f"activations are {'/'.join(sorted(act_dtypes))}, target wants {quant.activation_dtype}")
    if quant.activations_symmetric and not act_zero:
        problems.append("activation zero points must all be 0 (symmetric)")
    if quant.weights_symmetric and not weight_zero:
        problems.append("weight zero points must all be 0 (symmetric)")
    if quant.per_channel and per_channel and not all(per_channel):
        per_tensor = per_channel.count(False)
        problems.append(f"{per_tensor} of {len(per_channel)} weights are per-tensor, target wants per-channel")
    return [PreflightIssue(check="quantization", message=f"int8 format for target {spec.id}: {p}") for p in problems]


def preflight(
    model: onnx.ModelProto | Path | str,
    target: TargetSpec | str,
    precision: str | None = None,
) -> PreflightReport:
    """Check an ONNX artifact against a target's rules (nothing is written).

    Args:
        model: the artifact, loaded or as a path.
        target: a :class:`TargetSpec` or a target id.
        precision: what the artifact is meant to be (default: detected from the graph).

    Raises:
        BadInputError: the file is not a readable ONNX model.
        UnknownNameError: the target id is unknown.
    """
    path = None if isinstance(model, onnx.ModelProto) else Path(model)
    proto = model if isinstance(model, onnx.ModelProto) else load_onnx(Path(model), load_weights=True)
    spec = target if isinstance(target, TargetSpec) else get_target(target)
    precision = precision or detect_precision(proto)
    counts, issues = _op_issues(proto, spec)
    opset = default_opset(proto)
    inputs = graph_inputs(proto)
    structure = structure_issues(proto, path)
    if structure:  # the checks below read tensors and shapes a broken graph need not have
        return PreflightReport(target=spec.id, precision=precision, opset=opset, op_counts=dict(sorted(counts.items())),
                               input_shapes=inputs, issues=structure)  # fmt: skip
    issues += _opset_issues(opset, spec) + _shape_issues(inputs, spec)
    issues += _precision_issues(proto, precision, spec)
    if precision == "int8" and spec.quantization and spec.quantization.handoff == "qdq-onnx":
        issues += _quantization_issues(proto, spec.quantization, spec)
    return PreflightReport(target=spec.id, precision=precision, opset=opset, op_counts=dict(sorted(counts.items())),
                           input_shapes=inputs, issues=issues)  # fmt: skip


def require_preflight(
    model: onnx.ModelProto | Path | str, target: TargetSpec | str, precision: str | None = None
) -> PreflightReport:
    """Run :func:`preflight` and raise when it fails.

    Raises:
        BadInputError: the artifact breaks a rule of the target (the message names each one).
    """
    report = preflight(model, target, precision)
    if not report.passed:
        raise BadInputError(report.summary())
    return report
