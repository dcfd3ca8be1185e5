"""The shipped parameters are reproducible from the shipped CSV, and their headline figure too."""

from __future__ import annotations

import numpy as np
import pytest

from edgekit.predict import load_params
from edgekit.predict._fit import build_design, fit
from edgekit.predict._params import Hyper
from edgekit.predict._validate import (
    Residual,
    _subdesign,
    cross_validate,
    design_replicates,
    folds,
    nested_selection_lodo,
    prepare,
    replicate_spread,
    split_median_abs_pct,
    without_offsets,
)
from edgekit.profiles import load_profiles


@pytest.fixture(scope="module")
def design():  # noqa: ANN201 (a _fit.Design)
    params = load_params()
    built, peaks, skipped = prepare(params.hyper)
    assert peaks == pytest.approx(params.reference_peaks_gflops)
    assert skipped == 13  # rows on devices without a profile (rk3576, esp32-p4, x86-desktop, ...)
    return built


def test_refit_reproduces_shipped_coefficients(design) -> None:  # noqa: ANN001
    params = load_params()
    fitted = fit(design, np.arange(len(design.rows)), params.hyper)
    for name, coefficients in params.runtime_coefficients.items():
        assert fitted.runtime_coefficients[name] == pytest.approx(coefficients, rel=1e-6, abs=1e-9), name
    assert fitted.pair_factors == pytest.approx(params.pair_factors, rel=1e-6)


def test_leave_one_device_out_figure_is_reproducible(design) -> None:  # noqa: ANN001
    params = load_params()
    residuals = cross_validate(design, params.hyper, folds(design)["leave-one-device-out"], "lodo")
    median = float(np.median(np.abs(np.exp(-np.array([r.log_ratio for r in residuals])) - 1)) * 100)
    assert median == pytest.approx(params.validation["lodo_median_abs_pct"], abs=0.05)
    assert len(residuals) == params.calibration_rows


def test_replicate_spread_bounds_the_worst_row_of_each_group() -> None:
    # {10, 20}: r = 2, so any single value misses one of them by >= 1/3 (c = 13.33 misses both by exactly that);
    # {30, 40, 60}: r = 2 → 1/3 as well; {8, 10}: r = 1.25 → 1/9. A lone row is no replicate.
    spread = replicate_spread({"a": [10.0, 20.0], "b": [30.0, 40.0, 60.0], "c": [8.0, 10.0], "d": [5.0]})
    assert (spread.rows, spread.groups) == (7, 3)
    assert spread.median_max_over_min == pytest.approx(2.0)
    assert spread.median_unavoidable_pct == pytest.approx(100 / 3)
    c = 2 * 10 * 20 / (10 + 20)
    assert max(abs(c / 10 - 1), abs(c / 20 - 1)) == pytest.approx(1 / 3)


def test_shipped_calibration_replicates_are_about_two_fold_apart(design) -> None:  # noqa: ANN001
    spread = replicate_spread(design_replicates(design))
    assert (spread.rows, spread.groups) == (95, 39)
    assert spread.median_max_over_min == pytest.approx(1.908, abs=1e-3)
    assert spread.median_unavoidable_pct == pytest.approx(31.23, abs=0.01)


def test_without_offsets_removes_each_keys_median() -> None:
    residuals = [Residual(i, v, "new-device", "cpu", "lodo:x") for i, v in enumerate([0.1, 0.3, -0.2, 0.6])]
    left = without_offsets(residuals, lambda i: i % 2)  # key 0: rows 0, 2 (median -0.05); key 1: rows 1, 3 (0.45)
    assert left == pytest.approx([0.15, -0.15, -0.15, 0.15])


def test_nested_selection_never_picks_a_broken_candidate_and_reduces_to_plain_lodo(design) -> None:  # noqa: ANN001
    keep = {"jetson-nano", "raspberry-pi-4", "jetson-orin-nano", "celeron-n5105"}
    rows = [i for i, r in enumerate(design.rows) if r.coords.device_id in keep and r.coords.unit == "cpu"]
    small = _subdesign(design, rows)
    hyper = Hyper()
    broken = hyper.model_copy(update={"thread_exponent": 3.0, "shared_cache_thread_exponent": 3.0})
    broken_design = build_design(small.rows, load_profiles(), broken, {})
    by_device = lambda i: small.rows[i].coords.device_id  # noqa: E731
    plain = cross_validate(small, hyper, by_device, "lodo")
    selected, chosen = nested_selection_lodo([small, broken_design], [hyper, broken])
    assert chosen == dict.fromkeys(sorted(keep), 0)
    assert sorted((r.row, round(r.log_ratio, 12)) for r in selected) == sorted(
        (r.row, round(r.log_ratio, 12)) for r in plain
    )
    alone, _ = nested_selection_lodo([small], [hyper])
    assert [r.log_ratio for r in alone] == pytest.approx([r.log_ratio for r in selected])


def test_split_median_abs_pct_groups_rows_by_key() -> None:
    # log(obs/pred) = ln 2 → |pred/obs − 1| = 50 %; 0 → 0 %; −ln 2 → 100 %.
    values = [np.log(2), 0.0, -np.log(2), 0.0]
    residuals = [Residual(i, v, "new-device", "cpu", "lodo:x") for i, v in enumerate(values)]
    split = split_median_abs_pct(residuals, lambda i: i < 2)
    assert split[True] == (2, pytest.approx(25.0))
    assert split[False] == (2, pytest.approx(50.0))


def test_only_the_hexagon_npus_and_adreno_gpus_lack_a_stated_throughput(design) -> None:  # noqa: ANN001
    unstated = {
        (r.coords.device_id, r.coords.unit)
        for r, assumed in zip(design.rows, design.assumed_peak, strict=True)
        if assumed
    }
    assert unstated == {
        ("qcs6490", "npu"),
        ("snapdragon-8-gen-2", "npu"),
        ("snapdragon-8-gen-3", "npu"),
        ("snapdragon-8-gen-2", "gpu"),
        ("snapdragon-888", "gpu"),
    }
    assert sum(design.assumed_peak) == 93


def test_prepare_costs_rows_on_the_profiles_it_is_given(design) -> None:  # noqa: ANN001
    profiles = load_profiles()
    xavier = profiles["jetson-agx-xavier"]
    gpu = xavier.accelerator("gpu")
    halved = gpu.model_copy(update={"peak_gflops_fp16": gpu.peak_gflops_fp16.model_copy(update={"value": 1410.0})})
    changed = {**profiles, "jetson-agx-xavier": xavier.model_copy(update={"accelerators": [halved]})}
    other, _, _ = prepare(Hyper(), profiles=changed)
    rows = [i for i, r in enumerate(design.rows) if r.coords.device_id == "jetson-agx-xavier"
            and r.coords.unit == "gpu" and r.coords.precision == "fp16"]  # fmt: skip
    assert rows
    # the dense-compute term divides by the peak: half the peak, twice the term; other rows unchanged
    assert other.x[rows, 0] == pytest.approx(2 * design.x[rows, 0])
    # rows on units without a peak move too: their stand-in is the geometric mean of the published peaks
    untouched = [i for i, r in enumerate(design.rows)
                 if r.coords.device_id != "jetson-agx-xavier" and not design.assumed_peak[i]]  # fmt: skip
    assert np.array_equal(other.x[untouched], design.x[untouched])
