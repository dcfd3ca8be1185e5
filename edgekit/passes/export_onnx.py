"""ONNX export: a torch module becomes one fp32 ONNX graph (dynamic batch axis by default)."""

from __future__ import annotations

from pydantic import Field

from edgekit.onnx_io import DEFAULT_OPSET, PROTOBUF_LIMIT_BYTES, torch_to_onnx
from edgekit.passes._base import Artifact, Capabilities, Pass, PassConfig, PassReport, PassResult, method_of

# QuantizeLinear/DequantizeLinear need opset 10 and most exported CNN ops settle at 11;
# torch's TorchScript exporter stops at 20 (torch.onnx._constants.ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET).
MIN_EXPORT_OPSET = 11
MAX_EXPORT_OPSET = 20


class ExportOnnxConfig(PassConfig):
    """How the graph is exported."""

    opset: int = Field(DEFAULT_OPSET, ge=MIN_EXPORT_OPSET, le=MAX_EXPORT_OPSET, description="ONNX opset")
    dynamic_batch: bool = Field(True, description="symbolic batch axis; False fixes batch 1 (static shapes)")
    fold_constants: bool = Field(True, description="fold BatchNorm and constants into the graph")


class ExportOnnx(Pass):
    """Export with the deterministic TorchScript exporter as a single file (external data past 2 GiB)."""

    name = "export_onnx"
    config_class = ExportOnnxConfig
    capabilities = Capabilities(
        input_kind="torch", output_kind="onnx", precision="fp32", parity="fp32", dependencies=("torch", "onnx")
    )
    description = "torch → ONNX fp32 (TorchScript exporter, deterministic bytes)"

    def _apply(self, artifact: Artifact, config: ExportOnnxConfig) -> PassResult:
        graph = torch_to_onnx(
            artifact.model, artifact.input_shape, opset=config.opset,
            dynamic_batch=config.dynamic_batch, fold_constants=config.fold_constants,
        )  # fmt: skip
        report = PassReport(pass_name=self.name)
        method = method_of(self.name)
        size = graph.ByteSize()
        report.add("nodes", len(graph.graph.node), "count", method)
        report.add("onnx_bytes", size, "B", method)
        report.add("opset", config.opset, "version", method)
        if size > PROTOBUF_LIMIT_BYTES:
            report.notes.append("over the 2 GiB protobuf limit: weights are saved as external data")
        batch = "dynamic batch axis" if config.dynamic_batch else "static batch 1"
        report.notes.append(f"exported at opset {config.opset}, {batch}")
        return PassResult(artifact=artifact.with_model(graph, kind="onnx"), report=report)
