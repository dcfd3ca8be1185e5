"""Per-layer int8 sensitivity: how much closer to float the logits get when one layer runs in float.

The accuracy-controlled int8 guard (:func:`edgekit.verify.guard.accuracy_controlled_int8`) keeps the
most sensitive layers float, as NNCF's accuracy control does: it ranks the quantized layers by the
error they add and reverts them in that order. Here one QDQ graph is edited per weighted node: the
node reads its activation before its QuantizeLinear, clipped to the range that QuantizeLinear
represents (onnxruntime's quantizer folds a Relu/Clip into that range and drops the node), and its
weight/bias dequantized to float (the rounding of the stored weight stays; with per-channel scales
that part is small): what ``nodes_to_exclude`` would make of it, without re-calibrating. The score
of a node is how much the mean squared error of the logits against the float reference falls when
it is reverted.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper
from pydantic import Field

from edgekit.ort import make_session, run_batches
from edgekit.vocab import StrictModel

_WEIGHTED_OPS = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul"})
_RANK_BATCH = 16


class LayerSensitivity(StrictModel):
    """One quantized layer's score: the fall in logit MSE when it runs in float."""

    node: str
    op_type: str
    mse_reverted: float = Field(description="logit MSE vs the float reference with this layer in float")
    score: float = Field(description="logit MSE of the int8 graph minus mse_reverted (higher = more sensitive)")


def _mse(reference: np.ndarray, candidate: np.ndarray) -> float:
    return float(np.mean((np.asarray(reference, np.float64) - np.asarray(candidate, np.float64)) ** 2))


def _logits(model: onnx.ModelProto, pixels: np.ndarray, threads: int | None) -> np.ndarray:
    return run_batches(make_session(model.SerializeToString(), threads=threads), pixels, batch=_RANK_BATCH)


def quantized_layers(model: onnx.ModelProto) -> list[str]:
    """Names of the weighted nodes of a QDQ graph whose weight comes through a DequantizeLinear."""
    producers = {out: node for node in model.graph.node for out in node.output}
    return [
        node.name
        for node in model.graph.node
        if node.op_type in _WEIGHTED_OPS
        and len(node.input) > 1
        and getattr(producers.get(node.input[1]), "op_type", "") == "DequantizeLinear"
    ]


def revert_layer(model: onnx.ModelProto, name: str) -> onnx.ModelProto:
    """A copy of a QDQ ``model`` in which node ``name`` reads float inputs (see the module docstring).

    Raises:
        KeyError: no node of that name.
    """
    reverted = onnx.ModelProto()
    reverted.CopyFrom(model)
    graph = reverted.graph
    node = next((n for n in graph.node if n.name == name), None)
    if node is None:
        raise KeyError(name)
    producers = {out: n for n in graph.node for out in n.output}
    initializers = {init.name: init for init in graph.initializer}
    clips: list[onnx.NodeProto] = []
    for index, tensor in enumerate(list(node.input)):
        dequant = producers.get(tensor)
        if dequant is None or dequant.op_type != "DequantizeLinear":
            continue
        source = dequant.input[0]
        if source in initializers:  # a stored weight or bias: dequantize it once, here
            values = _dequantize(dequant, initializers)
            float_name = f"{tensor}_edgekit_float"
            graph.initializer.append(numpy_helper.from_array(values, float_name))
            node.input[index] = float_name
        elif getattr(producers.get(source), "op_type", "") == "QuantizeLinear":  # an activation: skip its Q/DQ
            low, high = _represented_range(producers[source], initializers)
            names = [f"{tensor}_edgekit_{end}" for end in ("low", "high", "float")]
            graph.initializer.extend([numpy_helper.from_array(np.array(low, np.float32), names[0]),
                                      numpy_helper.from_array(np.array(high, np.float32), names[1])])  # fmt: skip
            clips.append(helper.make_node("Clip", [producers[source].input[0], *names[:2]], [names[2]],
                                          name=f"{node.name}_edgekit_clip{index}"))  # fmt: skip
            node.input[index] = names[2]
    if clips:  # keep the node list topologically sorted: the clips go just before the node
        nodes = list(graph.node)
        position = next(i for i, n in enumerate(nodes) if n.name == name)
        del graph.node[:]
        graph.node.extend([*nodes[:position], *clips, *nodes[position:]])
    return reverted


def _represented_range(quantize: onnx.NodeProto, initializers: dict[str, onnx.TensorProto]) -> tuple[float, float]:
    """The float interval a per-tensor QuantizeLinear maps onto its integer range."""
    scale = float(numpy_helper.to_array(initializers[quantize.input[1]]).reshape(-1)[0])
    zero_array = numpy_helper.to_array(initializers[quantize.input[2]]) if len(quantize.input) > 2 else None
    zero = float(zero_array.reshape(-1)[0]) if zero_array is not None else 0.0
    info = np.iinfo(zero_array.dtype if zero_array is not None else np.uint8)
    return scale * (info.min - zero), scale * (info.max - zero)


def _dequantize(node: onnx.NodeProto, initializers: dict[str, onnx.TensorProto]) -> np.ndarray:
    quantized = numpy_helper.to_array(initializers[node.input[0]]).astype(np.float64)
    scale = numpy_helper.to_array(initializers[node.input[1]]).astype(np.float64)
    zero = (numpy_helper.to_array(initializers[node.input[2]]).astype(np.float64)
            if len(node.input) > 2 and node.input[2] else np.zeros_like(scale))  # fmt: skip
    if scale.ndim == 1 and scale.size > 1:  # per-axis
        axis = next((a.i for a in node.attribute if a.name == "axis"), 1) % quantized.ndim
        shape = [1] * quantized.ndim
        shape[axis] = scale.size
        scale, zero = scale.reshape(shape), zero.reshape(shape)
    return ((quantized - zero) * scale).astype(np.float32)


def layer_sensitivity(quantized: onnx.ModelProto, pixels: np.ndarray, reference: np.ndarray,
                      threads: int | None = None) -> list[LayerSensitivity]:  # fmt: skip
    """Every quantized layer of a QDQ graph, most sensitive first (ties: graph order).

    ``reference`` are the float model's logits on ``pixels``.
    """
    base = _mse(reference, _logits(quantized, pixels, threads))
    ops = {n.name: n.op_type for n in quantized.graph.node}
    scores = []
    for name in quantized_layers(quantized):
        error = _mse(reference, _logits(revert_layer(quantized, name), pixels, threads))
        scores.append(LayerSensitivity(node=name, op_type=ops[name], mse_reverted=error, score=base - error))
    order = sorted(range(len(scores)), key=lambda i: (-scores[i].score, i))
    return [scores[i] for i in order]
