"""The seed's dynamic quantization: ``torch quantize_dynamic(model, {nn.Linear}, qint8)``.

Only Linear layers become int8; every convolution of a CNN stays float, so the speed-up is
limited to the classifier head. The result runs in the torch runtime only: the ONNX exporter
has no symbolic for ``quantized::linear_dynamic`` (the pass probes this and reports it).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from pydantic import Field

from edgekit.analysis import GraphAnalysis
from edgekit.errors import BadInputError
from edgekit.passes._base import Artifact, Capabilities, Pass, PassConfig, PassReport, PassResult, method_of
from edgekit.passes._quiet import silenced_fds
from edgekit.passes._torch_util import COUNTER_METHOD, clone, graph_costs, layer_macs

if TYPE_CHECKING:
    import torch


class TorchDynamicConfig(PassConfig):
    """The seed used qint8 on nn.Linear only; the ONNX probe is on so the report can say why it is torch-only."""

    probe_onnx_export: bool = Field(True, description="try an ONNX export and report whether it works")


class TorchDynamicQuant(Pass):
    """Dynamic int8 quantization of ``nn.Linear`` layers (a torch-runtime variant)."""

    name = "torch_dynamic_quant"
    config_class = TorchDynamicConfig
    capabilities = Capabilities(
        input_kind="torch", output_kind="torch", precision="mixed", parity="int8", dependencies=("torch",)
    )
    description = "seed baseline: torch dynamic int8 of Linear layers only (torch runtime)"

    def _apply(self, artifact: Artifact, config: TorchDynamicConfig) -> PassResult:
        import torch

        model = clone(artifact.model)
        try:
            costs = graph_costs(model, artifact.input_shape)  # of the float module: the int8 one has no ONNX
        except BadInputError as exc:
            costs, uncounted = None, str(exc)
        convs = sum(isinstance(m, torch.nn.Conv2d) for m in model.modules())
        linears = sum(isinstance(m, torch.nn.Linear) for m in model.modules())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch deprecates its quantized dtypes; the seed recipe uses them
            quantized = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        report = PassReport(pass_name=self.name)
        method = method_of(self.name)
        report.add("linear_layers_int8", linears, "count", method)
        report.add("conv_layers_float", convs, "count", method)
        if costs is None:
            share_text = f"share of MACs not counted: {uncounted}"
        else:
            report.add("int8_macs_share_pct", _int8_macs_share_pct(costs, quantized), "%", COUNTER_METHOD)
            share_text = f"{report.metric('int8_macs_share_pct').value:.1f}% of MACs"
        report.notes.append(
            f"{linears} Linear layers int8 ({torch.backends.quantized.engine} engine), {share_text}; "
            f"{convs} Conv layers stay float"
        )
        if config.probe_onnx_export:
            report.notes.append(_probe_export(quantized, artifact.input_shape))
        return PassResult(artifact=artifact.with_model(quantized), report=report)


def _int8_macs_share_pct(costs: GraphAnalysis, quantized: torch.nn.Module) -> float:
    """Share of the float graph's MACs in the layers ``quantize_dynamic`` made int8."""
    import torch

    int8_layers = [name for name, m in quantized.named_modules() if isinstance(m, torch.ao.nn.quantized.dynamic.Linear)]
    return 100.0 * layer_macs(costs, int8_layers) / costs.macs if costs.macs else 0.0


def _probe_export(model: object, shape: tuple[int, ...]) -> str:
    from edgekit.onnx_io import torch_to_onnx

    try:
        with silenced_fds():
            torch_to_onnx(model, shape)
    except Exception as exc:  # the exporter raises UnsupportedOperatorError (and others) for quantized ops
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"does not export to ONNX: {exc.__class__.__name__}: {first}"
    return "exports to ONNX"
