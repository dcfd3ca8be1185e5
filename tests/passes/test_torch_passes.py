"""Passes over torch modules: the seed's L1 pruning and dynamic quantization, structured pruning."""

from __future__ import annotations

import pytest
import torch

from edgekit.passes import get_pass
from tests.passes.tiny import TINY_CLASSES, TinyNet, torch_artifact


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
    # fc MACs / all MACs of TinyNet at 32×32: stem 27·16, depthwise 9·16, pointwise 16·32 per pixel, fc 32·10
    expected_share = 100 * 320 / (1024 * (27 * 16 + 9 * 16 + 16 * 32) + 320)
    assert report.metric("int8_macs_share_pct").value == pytest.approx(expected_share, rel=0.01)
    assert report.notes[-1].startswith("does not export to ONNX: UnsupportedOperatorError")
    assert "quantized::linear_dynamic" in report.notes[-1]
    assert isinstance(torch_artifact().model, TinyNet)
