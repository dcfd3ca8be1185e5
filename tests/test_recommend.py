"""Recommend: constraints on pessimistic ends, reasons for rejections, ranking, closest misses."""

from __future__ import annotations

import re

import pytest

from edgekit.errors import UnknownNameError
from edgekit.profiles import get_profile
from edgekit.recommend import UNIT_PRECISION_GAPS, Constraints, choose_power_mode, recommend

RAM_REASON = re.compile(r"^RAM: needs (?P<need>[\d.]+) MB > 0\.9 MB usable on stm32h747$")


def test_microcontroller_rejects_resnet18_for_ram() -> None:
    result = recommend(Constraints(ram_mb=512, fps=0.01), profile="stm32h747", models=["resnet18"])
    assert not result.fits
    assert {c.recipe for c in result.rejected} == {"fp32", "int8"}  # stm32cube-ai precisions on the M7
    for candidate in result.rejected:
        ram = [r for r in candidate.reasons if r.startswith("RAM:")]
        assert len(ram) == 1, candidate.reasons
        assert RAM_REASON.match(ram[0]), candidate.reasons
        assert float(RAM_REASON.match(ram[0])["need"]) == pytest.approx(candidate.pessimistic_ram_mb, rel=0.01)
        assert candidate.pessimistic_ram_mb > 0.9


def test_hard_fps_limit_uses_the_pessimistic_end() -> None:
    probe = recommend(Constraints(ram_mb=512, fps=1), profile="raspberry-pi-4", models=["mobilenet_v2"],
                      targets=["ncnn"])  # fmt: skip
    candidate = next(c for c in probe.feasible if c.recipe == "fp32")
    central, worst = candidate.prediction.fps.value, candidate.pessimistic_fps
    between = (central + worst) / 2  # the central estimate meets it, the pessimistic end does not
    result = recommend(Constraints(ram_mb=512, fps=between), profile="raspberry-pi-4", models=["mobilenet_v2"],
                       targets=["ncnn"])  # fmt: skip
    rejected = next(c for c in result.rejected if c.recipe == "fp32")
    assert f"FPS: {worst:.4g} (pessimistic) < {between:g}" in rejected.reasons


def test_feasible_are_ranked_by_top1_then_worst_fps_with_margins() -> None:
    result = recommend(Constraints(ram_mb=512, fps=30), profile="rk3588")
    assert result.fits
    keys = [(-(c.top1.value if c.top1 else -1), -c.pessimistic_fps) for c in result.feasible]
    assert keys == sorted(keys)
    best = result.best_per_device[0]
    assert best is result.feasible[0]
    assert best.margins.fps == pytest.approx(best.pessimistic_fps - 30)
    assert best.margins.ram_mb == pytest.approx(512 - best.pessimistic_ram_mb)


def test_min_top1_uses_published_figures_per_precision() -> None:
    result = recommend(Constraints(ram_mb=512, fps=0.01, min_top1=72), profile="raspberry-pi-4",
                       models=["mobilenet_v2"], targets=["tflite"])  # fmt: skip
    int8 = next(c for c in result.rejected if c.recipe == "int8")
    assert "top-1: 71.7% < 72%" in int8.reasons  # torchvision quantized mobilenet_v2: 71.658 (QAT)
    assert int8.top1.provenance.kind == "published"


def test_power_budget_picks_a_mode_or_says_why() -> None:
    nano = get_profile("jetson-nano")
    assert choose_power_mode(nano, 6)[0].name == "5W"
    mode, reason = choose_power_mode(nano, 4)
    assert reason == "Power: 5 W (5W mode) > 4 W"
    _, unknown = choose_power_mode(get_profile("snapdragon-8-gen-2"), 4)
    assert unknown == "Power: no published draw for snapdragon-8-gen-2 (budget 4 W cannot be checked)"


def test_nothing_fits_lists_closest_misses_in_order() -> None:
    result = recommend(Constraints(ram_mb=4, fps=1000))
    assert not result.fits
    assert result.feasible == []
    assert 0 < len(result.closest_misses) <= 5
    misses = [c.miss for c in result.closest_misses]
    assert misses == sorted(misses)
    assert misses[0] <= min(c.miss for c in result.rejected)


def test_ncnn_gpu_int8_is_not_a_candidate() -> None:
    assert ("ncnn", "gpu", "int8") in UNIT_PRECISION_GAPS
    result = recommend(Constraints(ram_mb=512, fps=1), profile="jetson-agx-orin", models=["mobilenet_v2"])
    assert not [c for c in result.feasible + result.rejected if (c.target, c.unit, c.recipe) == ("ncnn", "gpu", "int8")]


def test_unknown_names_raise() -> None:
    with pytest.raises(UnknownNameError, match="unknown model 'mobilenet_v9'"):
        recommend(Constraints(ram_mb=512, fps=30), models=["mobilenet_v9"])
    with pytest.raises(UnknownNameError, match="unknown profile"):
        recommend(Constraints(ram_mb=512, fps=30), profile="rk3599")
