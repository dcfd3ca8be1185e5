"""Registry models end to end through edgekit.optimize: the issue's must-show conversions (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgekit.targets.export import export_for_target
from edgekit.verify import FP32_MAX_RELATIVE_ERROR, INT8_MIN_COSINE
from tests.targets import _vendor

pytestmark = [pytest.mark.slow, pytest.mark.torchvision]


@_vendor.requires_openvino
def test_mobilenet_v2_int8_on_openvino_is_within_the_int8_tolerance(tmp_path: Path) -> None:
    result = export_for_target("mobilenet_v2", "openvino-cpu", "int8", tmp_path / "out")
    m = result.manifest
    gated = [c for c in m.verification.checks if c.gated]
    assert m.precision == "int8"
    assert m.precision_input == "qdq-onnx"
    assert [c.passed for c in gated] == [True]
    assert gated[0].fidelity.cosine_mean >= INT8_MIN_COSINE
    assert [e["pass_name"] for e in m.lineage] == ["export_onnx", "simplify", "static_int8"]
    assert m.preflight.op_counts["QuantizeLinear"] > 0
    # On CPUs where OpenVINO runs the plain QDQ file badly, the guard on the target recovers it and says how.
    assert m.target_guard is None or m.target_guard.status == "recovered"
    assert {"openvino/mobilenet_v2-int8.xml", "openvino/mobilenet_v2-int8.bin"} <= {f.path for f in m.files}


@_vendor.requires_ncnn
def test_resnet18_fp32_on_ncnn_matches_the_parent(tmp_path: Path) -> None:
    result = export_for_target("resnet18", "ncnn", "fp32", tmp_path / "out", samples=4)
    (check,) = result.manifest.verification.checks
    assert check.passed
    assert check.fidelity.relative_max_error <= FP32_MAX_RELATIVE_ERROR
    assert result.manifest.input_shape == [1, 3, 224, 224]  # ncnn takes a static batch


def test_self_calibrating_target_gets_the_fp32_parent_and_calibration(tmp_path: Path) -> None:
    result = export_for_target("mobilenet_v2", "tflite", "int8", tmp_path / "out")
    m = result.manifest
    assert m.precision_input == "fp32-onnx+calibration"
    assert "QuantizeLinear" not in m.preflight.op_counts
    assert m.verification.status == "skipped"
    assert "calibration/calibration_nhwc_0to1.npy" in {f.path for f in m.files}
    assert "-oiqt -qt per-channel -cind input calibration/calibration_nhwc_0to1.npy" in m.handoff.commands[0]
