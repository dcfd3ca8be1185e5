"""Passes over torch modules: the seed's L1 pruning and dynamic quantization, structured pruning."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from edgekit.analysis import analyze_onnx
from edgekit.onnx_io import torch_to_onnx
from edgekit.passes import Artifact, get_pass
from edgekit.passes._torch_util import COUNTER_METHOD, graph_costs
from tests.passes.tiny import TINY_CLASSES, TINY_PREP, TINY_SHAPE, TinyNet, seeded, torch_artifact

# MACs of TinyNet at 32×32, per pixel: stem 27·16, depthwise 9·16, pointwise 16·32; fc 32·10 once.
TINY_CONV_MACS, TINY_FC_MACS = 1024 * (27 * 16 + 9 * 16 + 16 * 32), 32 * TINY_CLASSES


def _exact_macs(model: nn.Module) -> int:
    """The analyzer's count over the module's export: what `edgekit analyze` reports for it."""
    return analyze_onnx(torch_to_onnx(model, TINY_SHAPE, dynamic_batch=False, fold_constants=False)).macs


def _dense_weights(model: torch.nn.Module) -> list[torch.Tensor]:
    return [m.weight for m in model.modules() if isinstance(m, torch.nn.Conv2d | torch.nn.Linear)]


def test_seed_l1_is_permanent_20_percent_sparse_and_keeps_dense_cost() -> None:
    # setup
    source = torch_artifact()
    before = {k: v.clone() for k, v in source.model.state_dict().items()}
    # execute
    result = get_pass("prune_l1").run(source)
    # assert
    pruned = result.artifact.model
    keys = set(pruned.state_dict())
    assert not any(k.endswith(("weight_orig", "weight_mask")) for k in keys)
    assert keys == set(before)
    zeros = sum(int((w == 0).sum()) for w in _dense_weights(pruned))
    total = sum(w.numel() for w in _dense_weights(pruned))
    assert zeros / total == pytest.approx(0.2, abs=1 / total)
    report = result.report
    assert report.metric("sparsity_pruned_weights_pct").value == pytest.approx(100 * zeros / total)
    all_zeros = sum(int((p == 0).sum()) for p in pruned.parameters())
    all_params = sum(p.numel() for p in pruned.parameters())
    assert report.metric("sparsity_all_params_pct").value == pytest.approx(100 * all_zeros / all_params)
    assert report.metric("macs_after").value == report.metric("macs_before").value
    assert report.metric("macs_before").value == _exact_macs(source.model) == TINY_CONV_MACS + TINY_FC_MACS
    assert report.metric("macs_before").provenance.method == COUNTER_METHOD
    assert report.metric("params_after").value == all_params
    assert "dense MACs, size and speed unchanged" in report.notes[0]
    assert all(torch.equal(before[k], v) for k, v in source.model.state_dict().items())  # input untouched


def test_structured_pruning_removes_channels_and_keeps_the_classifier() -> None:
    source = torch_artifact()
    result = get_pass("prune_channels").run(source, {"ratio": 0.5, "round_to": None})
    pruned = result.artifact.model
    report = result.report
    assert pruned.fc.out_features == TINY_CLASSES
    assert pruned.stem[0].out_channels == 8
    assert pruned.pointwise[0].out_channels == 16
    assert report.metric("params_after").value < report.metric("params_before").value
    assert report.metric("params_before").value == sum(p.numel() for p in source.model.parameters())
    assert report.metric("params_after").value == sum(p.numel() for p in pruned.parameters())
    assert report.metric("macs_before").value == _exact_macs(source.model)
    assert report.metric("macs_after").value == _exact_macs(pruned)
    assert report.metric("macs_ratio").value == pytest.approx(
        report.metric("macs_after").value / report.metric("macs_before").value
    )
    assert report.metric("macs_ratio").value < 0.5
    assert pruned(torch.zeros(2, 3, 32, 32)).shape == (2, TINY_CLASSES)
    assert source.model.stem[0].out_channels == 16  # input untouched


def test_structured_pruning_rounds_channel_counts() -> None:
    pruned = get_pass("prune_channels").run(torch_artifact(), {"ratio": 0.3, "round_to": 8}).artifact.model
    assert pruned.stem[0].out_channels % 8 == 0
    assert pruned.pointwise[0].out_channels % 8 == 0


def test_seed_dynamic_quantizes_linear_only_and_reports_the_onnx_failure() -> None:
    result = get_pass("torch_dynamic_quant").run(torch_artifact())
    quantized = result.artifact.model
    assert type(quantized.fc).__module__ == "torch.ao.nn.quantized.dynamic.modules.linear"
    assert isinstance(quantized.stem[0], torch.nn.Conv2d)  # convolutions stay float
    report = result.report
    assert report.metric("linear_layers_int8").value == 1
    assert report.metric("conv_layers_float").value == 3
    # fc MACs / all MACs of TinyNet at 32×32
    expected_share = 100 * TINY_FC_MACS / (TINY_CONV_MACS + TINY_FC_MACS)
    assert report.metric("int8_macs_share_pct").value == pytest.approx(expected_share, rel=0.01)
    assert 100 * TINY_FC_MACS / _exact_macs(torch_artifact().model) == pytest.approx(expected_share, rel=1e-9)
    assert report.notes[-1].startswith("does not export to ONNX: UnsupportedOperatorError")
    assert "quantized::linear_dynamic" in report.notes[-1]
    assert isinstance(torch_artifact().model, TinyNet)


class _AttentionNet(nn.Module):
    """16 tokens of width 8 → self-attention → MLP → head: Linear layers beside products of two activations."""

    def __init__(self) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(8, 2, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 8))
        self.head = nn.Linear(8, TINY_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x.flatten(2).transpose(1, 2)  # (1, 8, 4, 4) -> (1, 16, 8)
        tokens = tokens + self.attention(tokens, tokens, tokens, need_weights=False)[0]
        return self.head(self.mlp(tokens).mean(1))


def test_dynamic_int8_share_counts_only_the_linear_layers_quantize_dynamic_converts() -> None:
    # setup: MACs of the MLP and head, and of attention (in projection, scores, values, out projection)
    shape = (1, 8, 4, 4)
    source = Artifact(kind="torch", model=seeded(_AttentionNet), input_shape=shape, preprocessing=TINY_PREP)
    int8 = 16 * 8 * 16 + 16 * 16 * 8 + 8 * TINY_CLASSES
    attention = 16 * 8 * 24 + 2 * 16 * 16 * 8 + 16 * 8 * 8
    # execute
    report = get_pass("torch_dynamic_quant").run(source, {"probe_onnx_export": False}).report
    # assert: attention's projections are NonDynamicallyQuantizableLinear, so they stay float
    assert graph_costs(source.model, shape).macs == int8 + attention  # the fused attention kernel is not exported
    assert report.metric("int8_macs_share_pct").value == pytest.approx(100 * int8 / (int8 + attention))


def test_dynamic_int8_of_a_module_without_onnx_export_says_its_share_was_not_counted() -> None:
    class NoOnnx(TinyNet):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return super().forward(torch.special.erfcx(x))  # aten::special_erfcx has no ONNX symbolic

    report = get_pass("torch_dynamic_quant").run(torch_artifact(NoOnnx), {"probe_onnx_export": False}).report
    assert "int8_macs_share_pct" not in {m.name for m in report.metrics}
    assert "share of MACs not counted: cannot count MACs: the module does not export to ONNX" in report.notes[0]
    assert "special_erfcx" in report.notes[0]
