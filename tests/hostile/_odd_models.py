"""ONNX files that are valid protobuf but no image classifier edgekit can hand off, built with onnx.helper."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from edgekit.analysis import PREPROCESSING_KEY
from tests.targets._graphs import CLASSES, SIDE, classifier


def _model(graph: onnx.GraphProto) -> onnx.ModelProto:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def two_inputs() -> onnx.ModelProto:
    """The classifier with a second image input added to the first."""
    model = classifier()
    model.graph.input.append(helper.make_tensor_value_info("second", TensorProto.FLOAT, [1, 3, SIDE, SIDE]))
    model.graph.node.insert(0, helper.make_node("Add", ["input", "second"], ["sum"], name="add"))
    model.graph.node[1].input[0] = "sum"
    return model


def rank2() -> onnx.ModelProto:
    """A 16-feature linear classifier: input [1, 16] (pnnx converts it; ncnn then crashed on image inputs)."""
    weight = numpy_helper.from_array(np.ones((CLASSES, 16), np.float32), "w")
    return _model(helper.make_graph(
        [helper.make_node("Gemm", ["input", "w"], ["logits"], transB=1, name="fc")], "rank2",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 16])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, CLASSES])], [weight],
    ))  # fmt: skip


def int64_input() -> onnx.ModelProto:
    """The classifier with its input declared int64."""
    model = classifier()
    model.graph.input[0].type.tensor_type.elem_type = TensorProto.INT64
    return model


def cycle() -> onnx.ModelProto:
    """r1 reads what r2 writes and r2 reads what r1 writes."""
    return _model(helper.make_graph(
        [helper.make_node("Relu", ["b"], ["a"], name="r1"), helper.make_node("Add", ["input", "a"], ["b"], name="r2"),
         helper.make_node("Identity", ["b"], ["logits"], name="out")], "cycle",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, SIDE, SIDE])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 3, SIDE, SIDE])],
    ))  # fmt: skip


def with_input_shape(*dims: int) -> onnx.ModelProto:
    """The classifier with its input shape replaced (absurd, NHWC or non-square dims)."""
    model = classifier()
    shape = model.graph.input[0].type.tensor_type.shape
    del shape.dim[:]
    shape.dim.extend(onnx.TensorShapeProto.Dimension(dim_value=d) for d in dims)
    return model


def short_initializer() -> onnx.ModelProto:
    """conv_w claims [8, 3, 3, 3] float (864 bytes) but holds 10."""
    model = classifier()
    model.graph.initializer[0].raw_data = model.graph.initializer[0].raw_data[:10]
    return model


def with_metadata(preprocessing: dict) -> onnx.ModelProto:
    """The classifier carrying edgekit preprocessing metadata (possibly hostile)."""
    model = classifier()
    helper.set_model_props(model, {PREPROCESSING_KEY: json.dumps(preprocessing)})
    return model


def external_data(folder: Path, location: str = "weights.bin") -> Path:
    """The classifier saved as ``folder/model.onnx`` with every initializer in ``location`` (relative to folder)."""
    (folder / location).parent.mkdir(parents=True, exist_ok=True)
    path = folder / "model.onnx"
    onnx.save(classifier(), str(path), save_as_external_data=True, location=location, size_threshold=0)
    return path


def pointing_at(folder: Path, location: str) -> Path:
    """``folder/model.onnx`` whose initializers' data sits at ``location`` (relative or absolute), which is real."""
    source = external_data(folder / ".source")
    real = Path(location) if Path(location).is_absolute() else folder / location
    if not real.is_symlink():
        real.parent.mkdir(parents=True, exist_ok=True)
        real.write_bytes((source.parent / "weights.bin").read_bytes())
    model = onnx.load(str(source), load_external_data=False)
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = location
    target = folder / "model.onnx"
    onnx.save(model, str(target))
    return target


def symlinked_data(folder: Path) -> Path:
    """``folder/model.onnx`` whose ``weights.bin`` is a symbolic link to a copy of the data elsewhere."""
    source = external_data(folder.parent / f".{folder.name}-real")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "weights.bin").symlink_to(source.parent / "weights.bin")
    model = onnx.load(str(source), load_external_data=False)
    onnx.save(model, str(folder / "model.onnx"))
    return folder / "model.onnx"
