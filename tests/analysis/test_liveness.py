"""Peak activation memory on a hand-built graph whose answer is computed by hand."""

import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgekit.analysis import analyze_onnx

FLOAT_BYTES = 4
PLANE = 8 * 8  # elements of one 1×1×8×8 channel


def _hand_graph() -> onnx.ModelProto:
    bias = numpy_helper.from_array(__import__("numpy").ones((1, 1, 8, 8), "float32"), "bias")
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="n0"),  # live x, a
        helper.make_node("Sigmoid", ["a"], ["b"], name="n1"),  # live a, b (x is dead)
        helper.make_node("Add", ["a", "b"], ["c"], name="n2"),  # live a, b, c
        helper.make_node("Concat", ["c", "c", "c"], ["d"], axis=1, name="n3"),  # live c, d (3 planes)
        helper.make_node("Add", ["d", "bias"], ["e"], name="n4"),  # live d, e; bias is a weight
        helper.make_node("GlobalAveragePool", ["e"], ["y"], name="n5"),  # live e, y (3 floats)
    ]
    graph = helper.make_graph(
        nodes, "hand",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 1, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3, 1, 1])],
        initializer=[bias],
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_liveness_peak_matches_hand_computation() -> None:
    # setup
    plane_bytes = PLANE * FLOAT_BYTES  # 256 B
    # by hand: n0 x+a=2 planes, n1 a+b=2, n2 a+b+c=3, n3 c+d=1+3, n4 d+e=3+3, n5 e+y=3 planes+12 B
    expected_peak = 6 * plane_bytes
    # execute
    analysis = analyze_onnx(_hand_graph(), source="hand")
    # assert
    assert analysis.peak_activation_bytes == expected_peak == 1536
    assert analysis.peak_activation_node == "n4"
    assert analysis.macs == 0
    assert analysis.params == PLANE  # the broadcast bias
    assert analysis.weight_bytes_by_dtype == {"float": plane_bytes}
    assert analysis.op_histogram == {"Add": 2, "Concat": 1, "GlobalAveragePool": 1, "Relu": 1, "Sigmoid": 1}


def test_per_node_activation_traffic_is_recorded() -> None:
    analysis = analyze_onnx(_hand_graph(), source="hand")
    by_name = {n.name: n for n in analysis.nodes}
    assert by_name["n3"].input_bytes == 3 * PLANE * FLOAT_BYTES
    assert by_name["n3"].output_bytes == 3 * PLANE * FLOAT_BYTES
    assert by_name["n4"].weight_bytes == PLANE * FLOAT_BYTES
    assert by_name["n5"].output_bytes == 3 * FLOAT_BYTES


@pytest.mark.parametrize("batch_dim", ["batch", 0])
def test_symbolic_batch_is_fixed_to_one(batch_dim) -> None:
    model = _hand_graph()
    dim = model.graph.input[0].type.tensor_type.shape.dim[0]
    if batch_dim == 0:
        dim.Clear()  # an unnamed unknown dimension
    assert analyze_onnx(model, source="hand").peak_activation_bytes == 1536
