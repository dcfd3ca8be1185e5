"""Analyse an ONNX graph: params, weight bytes, MACs per node, liveness peak, op histogram."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import onnx

from edgekit.analysis._costs import is_depthwise, node_macs, parameter_tensors
from edgekit.analysis._graph import TensorInfo, constant_tensors, element_type_name, topological_nodes
from edgekit.analysis._liveness import activation_peak
from edgekit.analysis._result import GraphAnalysis, NodeCost, TensorSpec
from edgekit.analysis._shapes import fix_input_shapes, infer_tensor_infos, sized_input_shapes
from edgekit.errors import BadInputError
from edgekit.fileio import sha256_bytes
from edgekit.models import Preprocessing
from edgekit.onnx_io import check_structure, load_onnx

PREPROCESSING_KEY = "edgekit.preprocessing"  # metadata_props key written by edgekit exports
_STATED = f"the model's {PREPROCESSING_KEY} metadata"
MAX_RESIZE_RATIO = 4  # torchvision's presets resize ~1.15x the crop; 4x leaves room, not 10**9 px


def analyze_onnx(
    model: onnx.ModelProto | Path | str,
    input_shapes: dict[str, tuple[int, ...]] | None = None,
    source: str | None = None,
    input_px: int | None = None,
) -> GraphAnalysis:
    """Analyse an ONNX model (a path or a loaded ``ModelProto``) at batch 1.

    Args:
        model: the graph, float, quantized (QDQ or QOperator) or pruned.
        input_shapes: static shapes for inputs whose non-batch dimensions are symbolic.
        source: a label for the report; defaults to the file path.
        input_px: analyse every image input at this height and width (``--input-size``); refused
            for a file whose spatial size is fixed to another one.

    Raises:
        BadInputError: the file is missing, not ONNX, truncated, fails ``onnx.checker`` (a cycle, an initializer
            shorter than its shape), has unresolvable shapes, or ``input_px`` contradicts its fixed input size.
    """
    file_bytes = None
    if not isinstance(model, onnx.ModelProto):
        path = Path(model)
        source = source or str(path)
        file_bytes = path.stat().st_size if path.is_file() else None
        model = load_onnx(path)
        check_structure(model, path)  # a file may be hostile: cycles, tensors shorter than their shape
    serialized = model.SerializeToString()
    if input_px is not None:
        input_shapes = sized_input_shapes(model, input_px, source or model.graph.name or "model") | (input_shapes or {})
    static = fix_input_shapes(model, input_shapes)
    graph = static.graph
    infos = infer_tensor_infos(static)
    order = topological_nodes(graph)
    constants = constant_tensors(graph, order)
    steps = [n for n in order if not set(n.output) <= constants]
    graph_inputs = [i.name for i in graph.input if i.name not in constants]
    peak = activation_peak(steps, graph_inputs, [o.name for o in graph.output], infos)
    nodes = [_node_cost(n, i, infos, constants) for i, n in enumerate(steps)]
    macs_by_op: Counter[str] = Counter()
    for cost in nodes:
        macs_by_op[cost.op_type] += cost.macs
    return GraphAnalysis(
        source=source or model.graph.name or "<model>",
        sha256=sha256_bytes(serialized),
        opset=_default_opset(model),
        inputs=[_spec(v) for v in model.graph.input if v.name not in constants],
        analysed_inputs=[_spec(v) for v in graph.input if v.name not in constants],
        outputs=[_spec(v) for v in model.graph.output],
        params=_count_params(graph),
        weight_bytes_by_dtype=_weight_bytes(graph, infos),
        macs=sum(c.macs for c in nodes),
        macs_by_op={op: m for op, m in sorted(macs_by_op.items()) if m},
        peak_activation_bytes=peak.peak_bytes,
        peak_activation_node=peak.peak_node,
        op_histogram=dict(sorted(Counter(_op_name(n) for n in steps).items())),
        nodes=nodes,
        preprocessing=stated_preprocessing(model),
        file_bytes=file_bytes,
    )


def _op_name(node: onnx.NodeProto) -> str:
    return node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"


def _node_cost(node: onnx.NodeProto, step: int, infos: dict[str, TensorInfo], constants: set[str]) -> NodeCost:
    def total(names: list[str]) -> int:
        return sum(infos[n].nbytes for n in names if n in infos)

    inputs = [n for n in node.input if n]
    return NodeCost(
        name=node.name or f"{node.op_type}#{step}",
        op_type=_op_name(node),
        macs=node_macs(node, infos),
        weight_bytes=total([n for n in inputs if n in constants]),
        input_bytes=total([n for n in inputs if n not in constants]),
        output_bytes=total([n for n in node.output if n]),
        depthwise=is_depthwise(node, infos),
    )


def _count_params(graph: onnx.GraphProto) -> int:
    return sum(parameter_tensors(graph).values())


def _weight_bytes(graph: onnx.GraphProto, infos: dict[str, TensorInfo]) -> dict[str, int]:
    by_dtype: Counter[str] = Counter()
    for init in graph.initializer:
        by_dtype[infos[init.name].dtype_name] += infos[init.name].nbytes
    for node in graph.node:
        if node.op_type == "Constant" and node.output[0] in infos:
            info = infos[node.output[0]]
            by_dtype[info.dtype_name] += info.nbytes
    return dict(sorted(by_dtype.items()))


def _spec(value: onnx.ValueInfoProto) -> TensorSpec:
    tensor_type = value.type.tensor_type
    shape: list[int | str] = [
        d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in tensor_type.shape.dim
    ]
    return TensorSpec(name=value.name, shape=shape, dtype=element_type_name(tensor_type.elem_type))


def _default_opset(model: onnx.ModelProto) -> int:
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    return 0


def stated_preprocessing(model: onnx.ModelProto) -> Preprocessing | None:
    """edgekit's preprocessing metadata in ``model`` (None when it has none), checked for sane values.

    Raises:
        BadInputError: not preprocessing JSON, a non-finite mean/std or a non-positive std or size.
    """
    prop = next((p for p in model.metadata_props if p.key == PREPROCESSING_KEY), None)
    if prop is None:
        return None
    try:
        stated = Preprocessing.model_validate(json.loads(prop.value))
    except ValueError as exc:  # not JSON, or not the schema (pydantic's ValidationError is a ValueError)
        raise BadInputError(f"{_STATED} is not valid preprocessing JSON ({exc.__class__.__name__})") from exc
    # json.loads takes NaN and Infinity: they would reach `analyze --json` as non-JSON tokens.
    if not all(math.isfinite(v) for v in (*stated.mean, *stated.std)) or min(stated.std) <= 0:
        raise BadInputError(f"{_STATED} needs finite mean and positive std; got mean {stated.mean}, std {stated.std}")
    if min(stated.resize_px, stated.crop_px) <= 0:
        raise BadInputError(f"{_STATED} needs positive sizes; got resize {stated.resize_px} px, "
                            f"crop {stated.crop_px} px")  # fmt: skip
    return stated


def check_stated_fits(prep: Preprocessing, side: int) -> None:
    """Metadata from the file must describe its ``side``-px input; a hostile one could ask for a 10**9-px resize.

    Raises:
        BadInputError: the crop is not the input's side, or the resize is outside crop..MAX_RESIZE_RATIO x crop.
    """
    if prep.crop_px != side:
        raise BadInputError(f"{_STATED} crops {prep.crop_px} px, but the model's input is {side} px a side")
    if not prep.crop_px <= prep.resize_px <= MAX_RESIZE_RATIO * prep.crop_px:
        raise BadInputError(f"{_STATED} resizes to {prep.resize_px} px for a {prep.crop_px}-px crop; edgekit takes "
                            f"{prep.crop_px}-{MAX_RESIZE_RATIO * prep.crop_px} px")  # fmt: skip
