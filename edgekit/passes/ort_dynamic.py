"""onnxruntime dynamic quantization: int8 weights, activations quantized at run time.

Kept to show its cost on CNNs: convolutions become ConvInteger, which onnxruntime's CPU
provider runs far slower than its fp32 Conv (DESIGN.md measured 6× slower on resnet18).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path
from typing import Literal

import onnx
from pydantic import Field

from edgekit.passes._base import Artifact, Capabilities, Pass, PassConfig, PassReport, PassResult, method_of
from edgekit.passes._quiet import quiet


class OrtDynamicConfig(PassConfig):
    """Weight type and granularity of the dynamic quantizer."""

    weight_type: Literal["int8", "uint8"] = "int8"
    per_channel: bool = False
    op_types: tuple[str, ...] = Field((), description="restrict to these op types (empty: all it supports)")


class OrtDynamicQuant(Pass):
    """``onnxruntime.quantization.quantize_dynamic`` over every supported op."""

    name = "ort_dynamic_quant"
    config_class = OrtDynamicConfig
    capabilities = Capabilities(
        input_kind="onnx", output_kind="onnx", precision="int8", parity="int8", dependencies=("onnxruntime",)
    )
    description = "onnxruntime dynamic int8 (ConvInteger on CNNs: usually slower than fp32)"

    def _apply(self, artifact: Artifact, config: OrtDynamicConfig) -> PassResult:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        weight_type = QuantType.QInt8 if config.weight_type == "int8" else QuantType.QUInt8
        with tempfile.TemporaryDirectory(prefix="edgekit-dynq-") as folder, quiet():
            source, target = Path(folder) / "in.onnx", Path(folder) / "out.onnx"
            onnx.save_model(artifact.model, str(source))
            quantize_dynamic(
                source, target, weight_type=weight_type, per_channel=config.per_channel,
                op_types_to_quantize=list(config.op_types) or None,
            )  # fmt: skip
            quantized = onnx.load(str(target))
        ops = Counter(n.op_type for n in quantized.graph.node)
        report = PassReport(pass_name=self.name)
        method = method_of(self.name)
        report.add("bytes_before", artifact.model.ByteSize(), "B", method)
        report.add("bytes_after", quantized.ByteSize(), "B", method)
        report.add("integer_nodes", ops["ConvInteger"] + ops["MatMulInteger"], "count", method)
        report.notes.append(
            f"{ops['ConvInteger']} ConvInteger, {ops['MatMulInteger']} MatMulInteger, "
            f"{ops['DynamicQuantizeLinear']} DynamicQuantizeLinear nodes; activations quantized per call"
        )
        return PassResult(artifact=artifact.with_model(quantized), report=report)
