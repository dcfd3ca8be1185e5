"""Tiny ONNX graphs for target tests: a classifier-shaped net, plus variants that break a rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SIDE = 32  # input side: small enough that every runtime converts and runs it in milliseconds
CLASSES = 10


def classifier(extra_op: str | None = None, opset: int = 17, batch: int | str = 1, domain: str = "") -> onnx.ModelProto:
    """Conv(3→8) → Relu → [extra_op] → GlobalAveragePool → Flatten → Gemm(8→10), seeded weights."""
    rng = np.random.default_rng(0)
    weights = [
        numpy_helper.from_array(rng.standard_normal((8, 3, 3, 3)).astype(np.float32) * 0.3, "conv_w"),
        numpy_helper.from_array(rng.standard_normal(8).astype(np.float32) * 0.1, "conv_b"),
        numpy_helper.from_array(rng.standard_normal((CLASSES, 8)).astype(np.float32), "fc_w"),
        numpy_helper.from_array(rng.standard_normal(CLASSES).astype(np.float32), "fc_b"),
    ]
    nodes = [
        helper.make_node("Conv", ["input", "conv_w", "conv_b"], ["conv"], pads=[1, 1, 1, 1], name="conv0"),
        helper.make_node("Relu", ["conv"], ["act"], name="relu0"),
    ]
    last = "act"
    if extra_op:
        nodes.append(helper.make_node(extra_op, ["act"], ["extra"], name=f"{extra_op.lower()}0", domain=domain))
        last = "extra"
    nodes += [
        helper.make_node("GlobalAveragePool", [last], ["pool"], name="gap"),
        helper.make_node("Flatten", ["pool"], ["flat"], name="flatten"),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], transB=1, name="fc"),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 3, SIDE, SIDE])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, CLASSES])],
        weights,
    )
    imports = [helper.make_opsetid("", opset)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    model = helper.make_model(graph, opset_imports=imports)
    model.ir_version = 8 if opset <= 17 else 10
    return model


def save(model: onnx.ModelProto, path: Path) -> Path:
    """Write ``model`` and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def quantized(path: Path, out: Path, *, symmetric: bool = False, per_channel: bool = True,
              activation: str = "uint8") -> Path:  # fmt: skip
    """Static QDQ quantization of ``path`` with onnxruntime on seeded random calibration data."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            rng = np.random.default_rng(1)
            self.items = iter([{"input": rng.standard_normal((1, 3, SIDE, SIDE)).astype(np.float32)} for _ in range(4)])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.items, None)

    types = {"uint8": QuantType.QUInt8, "int8": QuantType.QInt8}
    quantize_static(str(path), str(out), Reader(), quant_format=QuantFormat.QDQ, per_channel=per_channel,
                    activation_type=types[activation], weight_type=QuantType.QInt8,
                    extra_options={"ActivationSymmetric": symmetric, "WeightSymmetric": True})  # fmt: skip
    return out
