"""Multiply-accumulate counts per node and the parameter roles of initializers.

MACs follow torchvision's ``_ops`` convention: only convolutions and matrix products count
(one multiply plus one add = one MAC); elementwise ops, pooling and normalization count zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import onnx

from edgekit.analysis._graph import TensorInfo
from edgekit.errors import BadInputError

Infos = dict[str, TensorInfo]

# Position of the weight tensor among a node's inputs, by op type.
_CONV_WEIGHT_INDEX = {"Conv": 1, "ConvInteger": 1, "QLinearConv": 3, "ConvTranspose": 1}
# Position of the left operand of a matrix product, by op type.
_MATMUL_LEFT_INDEX = {"MatMul": 0, "MatMulInteger": 0, "QLinearMatMul": 0, "FusedMatMul": 0}
# Inputs that hold running statistics or quantization parameters, not learned weights.
_NON_PARAMETER_INPUTS: dict[str, frozenset[int]] = {
    "BatchNormalization": frozenset({3, 4}),
    "QuantizeLinear": frozenset({1, 2}),
    "DequantizeLinear": frozenset({1, 2}),
    "QLinearConv": frozenset({1, 2, 4, 5, 6, 7}),
    "QLinearMatMul": frozenset({1, 2, 4, 5, 6, 7}),
    "ConvInteger": frozenset({2, 3}),
    "MatMulInteger": frozenset({2, 3}),
    "DynamicQuantizeLinear": frozenset(),
}


def _attr_int(node: onnx.NodeProto, name: str, default: int) -> int:
    for attr in node.attribute:
        if attr.name == name:
            return int(attr.i)
    return default


def _conv_macs(node: onnx.NodeProto, infos: Infos) -> int:
    weight = infos.get(node.input[_CONV_WEIGHT_INDEX[node.op_type]])
    if weight is None:
        return 0
    if node.op_type == "ConvTranspose":
        # Each input pixel scatters a (Cout/g × k) patch: MACs = |input| × Cout/g × k.
        source = infos.get(node.input[0])
        return source.numel * math.prod(weight.shape[1:]) if source else 0
    out = infos.get(node.output[0])
    # Each output element sums Cin/g × k products: MACs = |output| × Cin/g × k.
    return out.numel * math.prod(weight.shape[1:]) if out else 0


def _gemm_macs(node: onnx.NodeProto, infos: Infos) -> int:
    left, out = infos.get(node.input[0]), infos.get(node.output[0])
    if left is None or out is None:
        return 0
    if len(left.shape) != 2:
        raise BadInputError(
            f"Gemm node {node.name or node.output[0]!r} reads a rank-{len(left.shape)} input; Gemm needs rank 2"
        )
    inner = left.shape[0] if _attr_int(node, "transA", 0) else left.shape[1]
    return out.numel * inner


def _matmul_macs(node: onnx.NodeProto, infos: Infos) -> int:
    left, out = infos.get(node.input[_MATMUL_LEFT_INDEX[node.op_type]]), infos.get(node.output[0])
    if left is None or out is None or not left.shape:
        return 0
    return out.numel * left.shape[-1]


_MAC_RULES: dict[str, Callable[[onnx.NodeProto, Infos], int]] = {
    **dict.fromkeys(_CONV_WEIGHT_INDEX, _conv_macs),
    "Gemm": _gemm_macs,
    **dict.fromkeys(_MATMUL_LEFT_INDEX, _matmul_macs),
}


def node_macs(node: onnx.NodeProto, infos: Infos) -> int:
    """Multiply-accumulates of one node at batch 1 (0 for ops that are not conv/matmul)."""
    rule = _MAC_RULES.get(node.op_type)
    return rule(node, infos) if rule else 0


def is_depthwise(node: onnx.NodeProto, infos: Infos) -> bool:
    """True for a grouped convolution with one input channel per group (memory-bound)."""
    if node.op_type not in _CONV_WEIGHT_INDEX or node.op_type == "ConvTranspose":
        return False
    weight = infos.get(node.input[_CONV_WEIGHT_INDEX[node.op_type]])
    return _attr_int(node, "group", 1) > 1 and weight is not None and weight.shape[1:2] == (1,)


def parameter_tensors(graph: onnx.GraphProto) -> dict[str, int]:
    """Map each learned-parameter tensor to its element count.

    Candidates are initializers and the outputs of ``Identity`` nodes over them: the
    TorchScript exporter merges initializers with equal values (e.g. zero-initialized
    biases) into one and re-creates the others through ``Identity``, so each copy is a
    parameter of its own. A candidate counts when some node uses it as a weight; batch-norm
    running statistics, quantization scales and zero points, int64 shape data and 0-d
    scalars do not count.
    """
    numel = {
        init.name: math.prod(init.dims)
        for init in graph.initializer
        if init.data_type != onnx.TensorProto.INT64 and len(init.dims) > 0
    }
    consumers: dict[str, list[tuple[onnx.NodeProto, int]]] = {}
    for node in graph.node:
        if node.op_type == "Identity" and node.input[0] in numel:
            numel[node.output[0]] = numel[node.input[0]]
        for index, name in enumerate(node.input):
            consumers.setdefault(name, []).append((node, index))

    def used_as_weight(name: str) -> bool:
        uses = consumers.get(name, [])
        if not uses:
            return name in {i.name for i in graph.initializer}  # an unused weight still ships
        return any(
            node.op_type != "Identity" and index not in _NON_PARAMETER_INPUTS.get(node.op_type, frozenset())
            for node, index in uses
        )

    return {name: count for name, count in numel.items() if used_as_weight(name)}
