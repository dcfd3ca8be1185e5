"""ONNX file sources: one float image input, NCHW or NHWC, preprocessing from flags or the file's metadata."""

from __future__ import annotations

import onnx

from edgekit.analysis import check_stated_fits, stated_preprocessing
from edgekit.errors import BadInputError
from edgekit.models._source_spec import MAX_INPUT_PX, Layout, LoadedModel, SourceSpec, flag_preprocessing, slug
from edgekit.onnx_io import check_structure, load_onnx


def _dims(value: onnx.ValueInfoProto) -> list[int | str]:
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in value.type.tensor_type.shape.dim]


def load_onnx_source(source: SourceSpec) -> LoadedModel:
    assert source.path is not None
    proto = load_onnx(source.path)
    where = f"{source.path.name} cannot be an image classifier"
    initializers = {t.name for t in proto.graph.initializer}
    inputs = [v for v in proto.graph.input if v.name not in initializers]
    if len(inputs) != 1:
        names = ", ".join(f"{v.name} {_dims(v)}" for v in inputs)
        raise BadInputError(f"{where}: it has {len(inputs)} inputs ({names}); edgekit takes one image input")
    (value,) = inputs
    dims = _dims(value)
    elem = value.type.tensor_type.elem_type
    if not value.type.HasField("tensor_type") or len(dims) != 4:
        raise BadInputError(f"{where}: input {value.name!r} has rank {len(dims)} ({dims}); an image input is rank 4 "
                            "(NCHW or NHWC)")  # fmt: skip
    if elem != onnx.TensorProto.FLOAT:
        raise BadInputError(f"{where}: input {value.name!r} is {onnx.TensorProto.DataType.Name(elem).lower()}, "
                            "not float32")  # fmt: skip
    outputs = list(proto.graph.output)
    out_dims = _dims(outputs[0]) if outputs else []
    if len(outputs) != 1 or len(out_dims) != 2:
        found = ", ".join(f"{o.name} {_dims(o)}" for o in outputs)
        raise BadInputError(f"{where}: it must give one [batch, classes] output; found {found or 'none'}")
    check_structure(proto, source.path)  # a short initializer, a cycle: refused before any tool reads the graph
    stated = stated_preprocessing(proto)
    layout = source.layout or (stated.layout if stated else None) or _guess_layout(dims)
    channels, height, width = (dims[1], dims[2], dims[3]) if layout == "NCHW" else (dims[3], dims[1], dims[2])
    if channels != 3:
        raise BadInputError(f"{where}: input {value.name!r} {dims} as {layout} has {channels} channels, not 3 (RGB)")
    side = _side(height, width, source, where, value.name, dims)
    if isinstance(dims[0], int) and dims[0] != 1:
        raise BadInputError(f"{where}: input {value.name!r} has a static batch of {dims[0]}; edgekit needs batch 1 "
                            "or a dynamic batch")  # fmt: skip
    notes: list[str] = []
    if stated is not None and source.input_size in (None, side) and source.mean is None and source.std is None:
        check_stated_fits(stated, side)
        prep = stated.model_copy(update={"layout": "NCHW"})
        notes.append("preprocessing from the file's edgekit metadata")
    else:
        prep, note = flag_preprocessing(source, None, side)
        notes += [note] if note else []
    canonical = _canonical(proto, value, layout, side)
    if layout == "NHWC":
        notes.append(f"NHWC input {value.name!r} is transposed inside the graph: the artifacts take NCHW")
    classes = out_dims[1] if isinstance(out_dims[1], int) and out_dims[1] > 0 else _onnx_width(canonical, side)
    return LoadedModel(name=slug(source.path.stem), kind="onnx", model=canonical, preprocessing=prep, weights="file",
                       accuracy_meaningful=True, num_classes=int(classes), notes=tuple(notes))  # fmt: skip


def _guess_layout(dims: list[int | str]) -> Layout:
    if dims[3] == 3 and dims[1] != 3:
        return "NHWC"
    return "NCHW"


def _side(height: int | str, width: int | str, source: SourceSpec, where: str, name: str,
          dims: list[int | str]) -> int:  # fmt: skip
    if isinstance(height, int) and isinstance(width, int):
        if height != width:
            raise BadInputError(f"{where}: input {name!r} {dims} is {height}x{width}; edgekit takes square inputs")
        if not 0 < height <= MAX_INPUT_PX:
            raise BadInputError(f"{where}: input {name!r} {dims} is {height} px a side; edgekit takes inputs up to "
                                f"{MAX_INPUT_PX} px")  # fmt: skip
        if source.input_size not in (None, height):
            raise BadInputError(f"--input-size {source.input_size}: the file's input {name!r} is fixed at {dims}")
        return height
    if source.input_size is None:
        raise BadInputError(f"input {name!r} of {source.text} has symbolic height/width {dims}: give --input-size")
    return source.input_size


def _canonical(proto: onnx.ModelProto, value: onnx.ValueInfoProto, layout: Layout, side: int) -> onnx.ModelProto:
    """One NCHW float input (initializers no longer listed as inputs), an NHWC input transposed inside."""
    model = onnx.ModelProto()
    model.CopyFrom(proto)
    initializers = {t.name for t in model.graph.initializer}
    kept = [v for v in model.graph.input if v.name not in initializers]
    del model.graph.input[:]
    model.graph.input.extend(kept)
    batch = _dims(value)[0]
    new = onnx.helper.make_tensor_value_info(value.name, onnx.TensorProto.FLOAT,
                                             [batch if isinstance(batch, int) else "batch", 3, side, side])  # fmt: skip
    if layout == "NHWC":
        inner = f"{value.name}__nhwc"
        for node in model.graph.node:
            node.input[:] = [inner if name == value.name else name for name in node.input]
        transpose = onnx.helper.make_node("Transpose", [value.name], [inner], perm=[0, 2, 3, 1],
                                          name="edgekit_nchw_to_nhwc")  # fmt: skip
        model.graph.node.insert(0, transpose)
    else:
        new = onnx.helper.make_tensor_value_info(value.name, onnx.TensorProto.FLOAT, _dims(value))
    model.graph.input[0].CopyFrom(new)
    return model


def _onnx_width(model: onnx.ModelProto, side: int) -> int:
    import numpy as np
    import onnxruntime

    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (spec,) = session.get_inputs()
    out = session.run(None, {spec.name: np.zeros((1, 3, side, side), dtype=np.float32)})[0]
    if out.ndim != 2:
        raise BadInputError(f"the model gives {list(out.shape)} for one image; a classifier gives [1, classes]")
    return int(out.shape[1])
