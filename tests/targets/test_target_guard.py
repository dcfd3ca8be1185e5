"""The int8 guard on the target runtime walks the fallback ladder and records the rung that recovered."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from edgekit.models import Preprocessing
from edgekit.targets._build import Built
from edgekit.targets._parity import ParityVerdict
from edgekit.targets._target_guard import guard_on_target

PREP = Preprocessing(resize_px=256, crop_px=224, mean=(0.5, 0.5, 0.5), std=(0.2, 0.2, 0.2))


def _built(config: dict[str, Any], seen: list[dict[str, Any]]) -> Built:
    def requantize(new: dict[str, Any]) -> Built:
        seen.append(new)
        return replace(_built(new, seen), artifact=Path(f"attempt{len(seen)}.onnx"))

    return Built(Path("a.onnx"), Path("p.onnx"), PREP, "int8", quant_config=config, requantize=requantize)


def _judge(passing: set[str]):  # noqa: ANN202
    def attempt(built: Built) -> ParityVerdict:
        ok = any(built.quant_config.get(key) == value for key, value in passing)  # type: ignore[union-attr]
        return ParityVerdict(status="passed" if ok else "failed", reason="stub")

    return attempt


def test_passing_first_try_needs_no_guard() -> None:
    seen: list[dict[str, Any]] = []
    built, verification, guard = guard_on_target(_judge({("per_channel", True)}), _built({"per_channel": True}, seen))
    assert (verification.status, guard, seen) == ("passed", None, [])


def test_recovered_by_the_first_rung_that_passes_on_the_target() -> None:
    seen: list[dict[str, Any]] = []
    start = _built({"per_channel": True, "calibration_method": "minmax"}, seen)
    built, verification, guard = guard_on_target(_judge({("exclude_first_last", True)}), start)
    assert verification.status == "passed"
    assert guard.status == "recovered"
    assert guard.recovered_by == "first_last_float"
    assert [(a.step, a.status) for a in guard.attempts] == [
        ("initial", "failed"),
        ("per_channel", "skipped"),
        ("calibrator", "failed"),
        ("first_last_float", "passed"),
    ]
    assert seen[-1]["calibration_method"] == "percentile"
    assert seen[-1]["exclude_first_last"] is True
    assert built.artifact == Path("attempt2.onnx")
    assert guard.summary() == "target int8 guard: recovered on the target runtime by step 'first_last_float'"


def test_no_rung_passes() -> None:
    seen: list[dict[str, Any]] = []
    _, verification, guard = guard_on_target(_judge(set()), _built({"per_channel": False}, seen))
    assert verification.status == "failed"
    assert guard.status == "failed"
    assert [a.step for a in guard.attempts if a.status == "failed"] == [
        "initial",
        "per_channel",
        "calibrator",
        "first_last_float",
        "depthwise_float",
    ]
    assert guard.summary().startswith("target int8 guard: FAILED on the target runtime (tried initial, per_channel")
