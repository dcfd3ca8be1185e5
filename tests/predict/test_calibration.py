"""Calibration rows are compared at reference clocks (named power modes) and on the graph they measured."""

from __future__ import annotations

import pytest

from edgekit.predict import Coordinates, model_features
from edgekit.predict._calibration import CalibrationRow, load_calibration, power_mode_named_in, variant_gmacs
from edgekit.predict._features import with_published_macs
from edgekit.profiles import get_profile, load_profiles


def _row(device: str, board: str, latency_ms: float = 1.0) -> CalibrationRow:
    coords = Coordinates(device_id=device, model="resnet18", runtime="tensorrt", unit="gpu", precision="fp16")
    return CalibrationRow(coords, latency_ms, "test", 2, board)


def test_a_board_naming_a_power_mode_scales_the_row_to_reference_clocks() -> None:
    orin_nano = get_profile("jetson-orin-nano")
    row = _row("jetson-orin-nano", "Super/MAXN_SUPER 25W, JetPack 6", latency_ms=0.758)
    assert power_mode_named_in(row.board, orin_nano).name == "MAXN_SUPER"
    assert row.reference_latency_ms(orin_nano) == pytest.approx(0.758 * 1.63)  # GPU 1.02 / 0.625 GHz


def test_power_modes_match_whole_tokens_only() -> None:
    agx = get_profile("jetson-agx-orin")  # has a MAXN mode, which must not match inside MAXN_SUPER
    assert power_mode_named_in("Super/MAXN_SUPER 25W", agx) is None
    assert power_mode_named_in("maxn, jetson_clocks", agx).name == "MAXN"
    assert _row("rk3588", "Orange Pi 5 (RK3588S)", 9.93).reference_latency_ms(get_profile("rk3588")) == 9.93


def test_shipped_calibration_names_power_modes_only_where_the_board_says_so() -> None:
    profiles = load_profiles()
    rows, _ = load_calibration(devices=set(profiles))
    moded = {(r.coords.device_id, power_mode_named_in(r.board, profiles[r.coords.device_id]).name)
             for r in rows if power_mode_named_in(r.board, profiles[r.coords.device_id])}  # fmt: skip
    assert moded == {("jetson-orin-nano", "MAXN_SUPER")}
    assert sum(power_mode_named_in(r.board, profiles[r.coords.device_id]) is not None for r in rows) == 7


@pytest.mark.parametrize(
    ("note", "gmacs"),
    [
        ("ncnn benchmark graph: Caffe SqueezeNet v1.1 with padded conv10 (0.42 GMACs at 227 vs 0.35 for torchvision "
         "at 224)", 0.42),
        ("ncnn benchmark graph: Caffe MobileNetV2 with an extra 1x1 expand conv in block 1 (0.314 vs 0.30 GMACs)",
         0.314),
        ("ncnn benchmark graph: early MobileNetV3-Large layout (672->160 block at 14x14, SE reduction exp/4; 0.246 vs "
         "0.22 GMACs)", 0.246),
        ("ncnn benchmark graph: Caffe ResNet-50 v1 (stride 2 on the 1x1 conv; 3.86 vs 4.09 GMACs for torchvision v1.5)",
         3.86),
        ("ONNX model zoo resnet50-v1-7", None),
        ("", None),
    ],
)  # fmt: skip
def test_variant_gmacs_reads_the_measured_graphs_macs(note: str, gmacs: float | None) -> None:
    assert variant_gmacs(note) == gmacs


def test_dense_compute_is_scaled_to_the_measured_graph() -> None:
    features = model_features("resnet50")
    torchvision_gmacs = (features.dense_flops + features.depthwise_flops) / 2 / 1e9
    assert torchvision_gmacs == pytest.approx(4.09, abs=0.005)  # torchvision's ResNet-50 v1.5
    caffe = with_published_macs(features, 3.86)  # ncnn's Caffe ResNet-50 v1
    assert caffe.dense_flops == pytest.approx(features.dense_flops * 3.86 / torchvision_gmacs)
    assert caffe.winograd_flops == pytest.approx(features.winograd_flops * 3.86 / torchvision_gmacs)
    unchanged = ("depthwise_bytes", "dense_activation_bytes", "weight_bytes", "memory_op_bytes", "layers", "params")
    assert all(getattr(caffe, name) == getattr(features, name) for name in unchanged)
    assert with_published_macs(features, None) is features
