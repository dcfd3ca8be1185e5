"""``--input-size``: symbolic height/width get the size; a fixed size is refused, never mixed with another."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgekit.analysis import analyze_onnx
from edgekit.errors import BadInputError

CONV_MACS_PER_PIXEL = 4 * 3 * 3 * 3  # 4 output channels × 3 input channels × 3×3 kernel, padding keeps H×W


def conv_graph(height: int | str, width: int | str) -> onnx.ModelProto:
    """x[batch, 3, H, W] → Conv(4, 3×3, pad 1) → y; H and W static or symbolic."""
    weight = numpy_helper.from_array(np.ones((4, 3, 3, 3), "float32"), "w")
    node = helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1], name="conv")
    graph = helper.make_graph(
        [node], "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, height, width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4, height, width])],
        initializer=[weight],
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_symbolic_size_is_analysed_at_the_input_size() -> None:
    analysis = analyze_onnx(conv_graph("h", "w"), source="dyn", input_px=20)
    assert analysis.macs == CONV_MACS_PER_PIXEL * 20 * 20
    assert analysis.inputs[0].shape == ["batch", 3, "h", "w"]  # the file's own shape
    assert analysis.analysed_inputs[0].shape == [1, 3, 20, 20]  # the shape every figure is of


def test_a_fixed_size_is_refused_at_another_input_size(tmp_path) -> None:
    path = tmp_path / "static160.onnx"
    onnx.save(conv_graph(160, 160), path)
    with pytest.raises(BadInputError, match=r"input 'x' has the fixed shape \[1, 3, 160, 160\]; it runs only at that "
                                            r"size, not at --input-size 224"):  # fmt: skip
        analyze_onnx(path, input_px=224)


def test_a_fixed_size_equal_to_the_input_size_is_analysed() -> None:
    analysis = analyze_onnx(conv_graph(16, 16), source="static", input_px=16)
    assert analysis.macs == CONV_MACS_PER_PIXEL * 16 * 16
    assert analysis.inputs[0].shape == ["batch", 3, 16, 16]
    assert analysis.analysed_inputs[0].shape == [1, 3, 16, 16]


def test_without_input_size_a_static_file_is_analysed_at_its_shape() -> None:
    analysis = analyze_onnx(conv_graph(16, 16), source="static")
    assert analysis.macs == CONV_MACS_PER_PIXEL * 16 * 16
