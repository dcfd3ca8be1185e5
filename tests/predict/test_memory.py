"""Peak RAM = weights x copies + activations + I/O + runtime overhead (flash-resident weights excluded)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgekit.predict import Overhead, estimate_memory, model_features
from edgekit.predict._memory import MB, weight_copies
from edgekit.profiles import get_profile

OVERHEAD = Overhead(value=30.0, low=20.0, high=60.0, label="test overhead")


def test_parts_add_up_for_a_ram_device() -> None:
    f = model_features("resnet18")
    copies = weight_copies("ncnn", "fp16")  # not measured: estimate 1 (range 1-2)
    m = estimate_memory(f, "fp16", get_profile("rk3588"), "ncnn", OVERHEAD)
    weights = f.params * 2 / MB
    activations = f.peak_activation_bytes / 2 / MB  # fp16 activations: half the fp32 liveness peak
    io = (f.input_bytes + f.output_bytes) / MB
    assert m.weights_mb == pytest.approx(weights)
    assert m.peak_mb == pytest.approx(weights * copies.value + activations + io + 30.0)
    assert m.high_mb == pytest.approx(weights * copies.high + activations + io + 60.0)
    assert m.low_mb == pytest.approx(weights * copies.low + activations + io + 20.0)
    assert m.flash_mb == 0.0


def test_flash_resident_weights_are_not_in_ram() -> None:
    f = model_features("mobilenet_v2")
    m = estimate_memory(f, "int8", get_profile("esp32-s3"), "esp-dl", OVERHEAD)
    assert m.weights_in_ram_mb == 0.0
    assert m.flash_mb == pytest.approx(f.params / MB)
    assert m.peak_mb == pytest.approx(f.peak_activation_bytes / 4 / MB + (f.input_bytes + f.output_bytes) / MB + 30.0)


MEASURED = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "memory_check.json"
MEMORY_TOLERANCE = 0.15  # issue #6: predicted peak RSS within 15% of the measured onnxruntime session


@pytest.mark.parametrize("model", ["resnet18", "mobilenet_v2"])
@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_onnxruntime_session_matches_committed_measurement(model: str, precision: str) -> None:
    from edgekit.predict import target_for
    from edgekit.predict._predict import overhead_of

    measured = max(json.loads(MEASURED.read_text())["session_mb_runs"][f"{model}/{precision}"])  # worst file name
    overhead = overhead_of(target_for("onnxruntime", "cpu"))
    predicted = estimate_memory(model_features(model), precision, get_profile("host"), "onnxruntime", overhead)
    assert predicted.copies.basis == "measured"
    assert abs(predicted.peak_mb / measured - 1) <= MEMORY_TOLERANCE
