"""The shipped parameters are reproducible from the shipped CSV, and their headline figure too."""

from __future__ import annotations

import numpy as np
import pytest

from edgekit.predict import load_params
from edgekit.predict._fit import fit
from edgekit.predict._validate import cross_validate, folds, prepare


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
