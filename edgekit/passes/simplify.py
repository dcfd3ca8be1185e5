"""onnx-simplifier: constant folding and redundant-node removal, keeping the input when it fails."""

from __future__ import annotations

import onnx
from pydantic import Field

from edgekit.passes._base import Artifact, Capabilities, Pass, PassConfig, PassReport, PassResult, method_of


class SimplifyConfig(PassConfig):
    """onnxsim options that matter for classifiers."""

    skip_fuse_bn: bool = Field(False, description="keep BatchNormalization nodes unfused")
    perform_optimization: bool = Field(True, description="run onnxoptimizer's fusions after folding")


class Simplify(Pass):
    """Simplify with onnxsim; if it raises or reports a failed check, keep the input and say why."""

    name = "simplify"
    config_class = SimplifyConfig
    capabilities = Capabilities(
        input_kind="onnx", output_kind="onnx", precision="fp32", parity="fp32", dependencies=("onnxsim",)
    )
    description = "onnxsim constant folding and node fusion (input kept if it fails)"

    def _apply(self, artifact: Artifact, config: SimplifyConfig) -> PassResult:
        original: onnx.ModelProto = artifact.model
        report = PassReport(pass_name=self.name)
        simplified, failure = _simplify(original, config)
        method = method_of(self.name)
        report.add("nodes_before", len(original.graph.node), "count", method)
        report.add("bytes_before", original.ByteSize(), "B", method)
        if simplified is None:
            report.status = "kept_input"
            report.notes.append(f"onnxsim failed, unsimplified model kept: {failure}")
            simplified = original
        report.add("nodes_after", len(simplified.graph.node), "count", method)
        report.add("bytes_after", simplified.ByteSize(), "B", method)
        if report.status == "applied":
            report.notes.append(f"{len(original.graph.node)} → {len(simplified.graph.node)} nodes")
        return PassResult(artifact=artifact.with_model(simplified), report=report)


def _simplify(model: onnx.ModelProto, config: SimplifyConfig) -> tuple[onnx.ModelProto | None, str]:
    """Return (simplified model, "") or (None, the reason it failed)."""
    from onnxsim import simplify

    copy = onnx.ModelProto()
    copy.CopyFrom(model)  # onnxsim may edit its argument in place
    try:
        simplified, check_ok = simplify(
            copy, skip_fuse_bn=config.skip_fuse_bn, perform_optimization=config.perform_optimization
        )
    except Exception as exc:  # onnxsim raises RuntimeError/ValueError/onnx errors for graphs it cannot fold
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return None, f"{exc.__class__.__name__}: {first}"[:300]
    if not check_ok:
        return None, "onnxsim's own output check failed"
    return simplified, ""
