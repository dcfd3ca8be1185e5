"""MACs and parameter roles in quantized graphs (QOperator and QDQ forms)."""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from edgekit.analysis import analyze_onnx

# A 3×3 conv from 4 to 8 channels on an 8×8 input, padding 1: MACs = 8·8·8 outputs × 4·3·3.
CONV_MACS = 8 * 8 * 8 * 4 * 3 * 3
WEIGHT_COUNT = 8 * 4 * 3 * 3


def _scalar(name: str, value, dtype) -> onnx.TensorProto:
    return numpy_helper.from_array(np.array(value, dtype=dtype), name)


def _model(nodes, inits, out_type=TensorProto.FLOAT) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, "q",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
        [helper.make_tensor_value_info("y", out_type, [1, 8, 8, 8])],
        initializer=inits,
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_qlinearconv_counts_macs_and_int8_weights() -> None:
    inits = [
        _scalar("xs", 0.1, "float32"), _scalar("xz", 128, "uint8"),
        numpy_helper.from_array(np.ones((8, 4, 3, 3), "int8"), "w"),
        _scalar("ws", 0.1, "float32"), _scalar("wz", 0, "int8"),
        _scalar("ys", 0.1, "float32"), _scalar("yz", 128, "uint8"),
    ]  # fmt: skip
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
        helper.make_node("QLinearConv", ["xq", "xs", "xz", "w", "ws", "wz", "ys", "yz"], ["yq"], pads=[1, 1, 1, 1]),
        helper.make_node("DequantizeLinear", ["yq", "ys", "yz"], ["y"]),
    ]
    analysis = analyze_onnx(_model(nodes, inits), source="qop")
    assert analysis.macs == CONV_MACS
    assert analysis.macs_by_op == {"QLinearConv": CONV_MACS}
    assert analysis.params == WEIGHT_COUNT  # scales and zero points are not parameters
    assert analysis.weight_bytes_by_dtype["int8"] == WEIGHT_COUNT + 1


def test_qdq_conv_counts_macs_once_and_weights_as_int8() -> None:
    inits = [
        _scalar("xs", 0.1, "float32"), _scalar("xz", 128, "uint8"),
        numpy_helper.from_array(np.ones((8, 4, 3, 3), "int8"), "wq"),
        numpy_helper.from_array(np.full(8, 0.1, "float32"), "ws"),
        numpy_helper.from_array(np.zeros(8, "int8"), "wz"),
    ]  # fmt: skip
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
        helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"]),
        helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["w"], axis=0),
        helper.make_node("Conv", ["xd", "w"], ["y"], pads=[1, 1, 1, 1]),
    ]
    analysis = analyze_onnx(_model(nodes, inits), source="qdq")
    assert analysis.macs == CONV_MACS
    assert analysis.params == WEIGHT_COUNT
    assert "DequantizeLinear" in analysis.op_histogram  # the activation DQ runs; the weight DQ folds
    assert analysis.op_histogram["DequantizeLinear"] == 1
