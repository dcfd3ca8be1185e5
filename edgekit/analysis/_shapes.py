"""Resolve every tensor's static shape at batch 1: ONNX shape inference, then ORT as fallback."""

from __future__ import annotations

import contextlib
import io
import math
import re

import onnx
from onnx import helper

from edgekit.analysis._graph import TensorInfo
from edgekit.errors import BadInputError

BATCH = 1  # activation memory and MACs are reported per image
# The zero-filled inputs of the one onnxruntime run that measures unresolved shapes stay below this.
PROBE_INPUT_LIMIT_BYTES = 2**30
_ORT_PREFIX = re.compile(r"^\d+ : \w+ : ")  # "1 : FAIL : ", after "[ONNXRuntimeError] : "


def fix_input_shapes(model: onnx.ModelProto, overrides: dict[str, tuple[int, ...]] | None) -> onnx.ModelProto:
    """Return a copy whose graph inputs have static shapes (symbolic batch → 1).

    Raises:
        BadInputError: an input keeps a symbolic non-batch dimension and no override gives it.
    """
    fixed = onnx.ModelProto()
    fixed.CopyFrom(model)
    initializers = {i.name for i in fixed.graph.initializer}
    for value in fixed.graph.input:
        if value.name in initializers:
            continue
        dims = value.type.tensor_type.shape.dim
        if overrides and value.name in overrides:
            shape = overrides[value.name]
            del dims[:]
            dims.extend(onnx.TensorShapeProto.Dimension(dim_value=d) for d in shape)
            continue
        for axis, dim in enumerate(dims):
            if dim.HasField("dim_value") and dim.dim_value > 0:
                continue
            if axis != 0:
                raise BadInputError(f"input {value.name!r} has a dynamic dimension at axis {axis}; give --input-size")
            dim.Clear()
            dim.dim_value = BATCH
    return fixed


_NCHW_RANK = 4


def sized_input_shapes(model: onnx.ModelProto, input_px: int, where: str) -> dict[str, tuple[int, ...]]:
    """Static shapes for ``--input-size``: each image input at batch 1 with height = width = ``input_px``.

    A file whose spatial size is fixed runs only at that size, so another ``input_px`` is refused
    rather than analysed at a shape the file never runs at.

    Raises:
        BadInputError: an input that is not NCHW, or whose height/width are fixed to another size.
    """
    initializers = {i.name for i in model.graph.initializer}
    shapes = {}
    for value in model.graph.input:
        if value.name in initializers:
            continue
        dims = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
                for d in value.type.tensor_type.shape.dim]  # fmt: skip
        if len(dims) != _NCHW_RANK:
            raise BadInputError(f"{where}: --input-size needs NCHW image inputs; {value.name!r} has rank {len(dims)}")
        fixed = [d for d in dims[2:] if d is not None]
        if fixed and fixed != [input_px] * len(fixed):
            shown = [BATCH if dims[0] is None else dims[0], *("?" if d is None else d for d in dims[1:])]
            raise BadInputError(
                f"{where}: input {value.name!r} has the fixed shape {shown}; it runs only at that size, "
                f"not at --input-size {input_px} (drop --input-size, or export it with a dynamic size)"
            )
        shapes[value.name] = (BATCH, dims[1] or 3, input_px, input_px)
    return shapes


def _collect(values: list[onnx.ValueInfoProto], into: dict[str, TensorInfo]) -> None:
    for value in values:
        tensor_type = value.type.tensor_type
        if not tensor_type.HasField("shape"):
            continue
        dims = tensor_type.shape.dim
        if all(d.HasField("dim_value") for d in dims):
            shape = tuple(d.dim_value for d in dims)
            if min(shape, default=0) < 0:  # the checker leaves declared value shapes alone
                raise BadInputError(f"tensor {value.name!r} declares a negative dimension: shape {list(shape)}")
            into[value.name] = TensorInfo(shape, tensor_type.elem_type)


def infer_tensor_infos(model: onnx.ModelProto) -> dict[str, TensorInfo]:
    """Shapes and types of every tensor of a model whose inputs are static.

    ONNX shape inference covers the standard domain; tensors it cannot resolve (contrib
    ops, data-dependent shapes) are measured by running the graph once in onnxruntime.
    """
    infos: dict[str, TensorInfo] = {}
    for init in model.graph.initializer:
        infos[init.name] = TensorInfo(tuple(init.dims), init.data_type)
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    except Exception:  # inference is best effort; the ORT fallback below covers the rest
        inferred = model
    graph = inferred.graph
    _collect([*graph.input, *graph.value_info, *graph.output], infos)
    for node in graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    infos[node.output[0]] = TensorInfo(tuple(attr.t.dims), attr.t.data_type)
    missing = [o for n in graph.node for o in n.output if o and o not in infos]
    if missing:
        infos.update(_measure_with_onnxruntime(model, missing))
    return infos


def _measure_with_onnxruntime(model: onnx.ModelProto, names: list[str]) -> dict[str, TensorInfo]:
    import numpy as np
    import onnxruntime as ort

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    existing = {o.name for o in probe.graph.output}
    probe.graph.output.extend(helper.make_empty_tensor_value_info(n) for n in names if n not in existing)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 4  # fatal only: a failure becomes the one-line error below, not a log line too
    try:
        # ORT prints an "EP Error ... Falling back" banner on stdout (which would corrupt --json) before retrying.
        with contextlib.redirect_stdout(io.StringIO()):
            session = ort.InferenceSession(probe.SerializeToString(), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # ORT's exceptions are not exported as stable types
        raise BadInputError(
            f"cannot resolve tensor shapes: onnxruntime rejects the graph ({_ort_reason(exc)})"
        ) from exc
    feeds = {}
    for value in session.get_inputs():
        shape = value.shape
        if not all(isinstance(d, int) and d >= 0 for d in shape):
            raise BadInputError(f"cannot resolve tensor shapes: input {value.name!r} has no static shape ({shape})")
        dtype = np.dtype(helper.tensor_dtype_to_np_dtype(_ORT_TYPES.get(value.type, onnx.TensorProto.FLOAT)))
        if math.prod(shape) * dtype.itemsize > PROBE_INPUT_LIMIT_BYTES:
            raise BadInputError(
                f"cannot resolve tensor shapes: input {value.name!r} of shape {shape} is too large to run once "
                f"(over {PROBE_INPUT_LIMIT_BYTES // 2**20} MB)"
            )
        feeds[value.name] = np.zeros(shape, dtype=dtype)
    run_options = ort.RunOptions()
    run_options.log_severity_level = 4
    try:
        results = session.run(names, feeds, run_options)
    except Exception as exc:  # ORT's exceptions are not exported as stable types
        raise BadInputError(f"cannot resolve tensor shapes: the graph fails to run ({_ort_reason(exc)})") from exc
    return {
        name: TensorInfo(tuple(array.shape), helper.np_dtype_to_tensor_dtype(array.dtype))
        for name, array in zip(names, results, strict=True)
    }


_ORT_TYPES = {
    "tensor(float)": onnx.TensorProto.FLOAT,
    "tensor(float16)": onnx.TensorProto.FLOAT16,
    "tensor(uint8)": onnx.TensorProto.UINT8,
    "tensor(int8)": onnx.TensorProto.INT8,
    "tensor(int64)": onnx.TensorProto.INT64,
}


def _ort_reason(exc: Exception) -> str:
    """ORT's message on one line, without its error-code prefix, source location and C++ signature.

    Example: ``[ONNXRuntimeError] : 1 : FAIL : /onnxruntime_src/core/graph/graph.cc:1585 void
    onnxruntime::Graph::Init() node_arg was false.`` → ``node_arg was false.``
    """
    text = " ".join(str(exc).split())
    reason = _ORT_PREFIX.sub("", text.rsplit("[ONNXRuntimeError] : ", 1)[-1])
    if reason.startswith("/"):  # a source location, then a C++ signature that ends with ") "
        _, found, rest = reason.partition(") ")
        reason = rest if found and rest else reason
    return reason or text or exc.__class__.__name__
