"""Fit the latency model's coefficients on published rows.

Least squares on relative error, iteratively reweighted towards log error, with non-negative
coefficients (every term is a cost). Coefficients are shared per unit group (cpu, gpu, accel)
and refined per runtime/unit with a ridge pull toward the group; precision and family (CPU core
family, accelerator architecture) multipliers are medians of log residuals, shrunk toward 1 by
pseudo-rows. Device/runtime pair factors are fitted last, so that cross-device structure is
learned without them. Rows measured in a named power mode are first brought to the profile's
reference clocks (:meth:`CalibrationRow.reference_latency_ms`), and rows of a publisher's own graph
variant are costed on that graph (:func:`~edgekit.predict._features.with_published_macs`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from edgekit.predict._calibration import CalibrationRow
from edgekit.predict._features import model_features, with_published_macs
from edgekit.predict._params import Hyper
from edgekit.predict._terms import device_point, terms, unit_group
from edgekit.profiles import DeviceProfile

_NNLS_MAX_STEPS = 60


@dataclass
class Design:
    """Calibration rows with their terms and grouping keys, computed once per hyper-parameter set."""

    rows: list[CalibrationRow]
    x: np.ndarray
    y: np.ndarray
    group: list[str]
    engine: list[str]
    precision: list[str]
    family: list[str | None]
    pair: list[str]
    assumed_peak: list[bool]  # the unit states no throughput: costed at a stand-in peak (see _terms.device_point)


@dataclass
class Fitted:
    """Fitted parameters (the pieces of :class:`~edgekit.predict._params.LatencyParams`)."""

    group_coefficients: dict[str, np.ndarray]
    runtime_coefficients: dict[str, np.ndarray]
    precision_factors: dict[str, float]
    family_factors: dict[str, float]
    pair_factors: dict[str, float]


def engine_key(runtime: str, unit: str) -> str:
    """``runtime/unit``."""
    return f"{runtime}/{unit}"


def build_design(
    rows: list[CalibrationRow], profiles: dict[str, DeviceProfile], hyper: Hyper, reference_peaks: dict[str, float]
) -> Design:
    """Compute every row's terms (features come from the disk cache; a cold run analyses graphs)."""
    xs, keys = [], defaultdict(list)
    for row in rows:
        c = row.coords
        point = device_point(profiles[c.device_id], c, hyper, reference_peaks)
        features = with_published_macs(model_features(c.model, c.input_size), row.variant_gmacs)
        xs.append(terms(features, point, c, hyper))
        keys["group"].append(unit_group(c.unit))
        keys["engine"].append(engine_key(c.runtime, c.unit))
        keys["precision"].append(f"{c.runtime}/{c.unit}/{c.precision}")
        keys["family"].append(point.family)
        keys["pair"].append(f"{c.device_id}/{c.runtime}/{c.unit}")
        keys["assumed_peak"].append(point.assumed_peak)
    y = np.array([r.reference_latency_ms(profiles[r.coords.device_id]) for r in rows])
    return Design(rows, np.array(xs), y, **keys)


def nnls(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Non-negative least squares (Lawson-Hanson active set): argmin ||a x - b|| with x >= 0."""
    n = a.shape[1]
    x, active = np.zeros(n), []
    for _ in range(_NNLS_MAX_STEPS):
        gradient = a.T @ (b - a @ x)
        candidates = [j for j in range(n) if j not in active and gradient[j] > 1e-12]
        if not candidates:
            break
        active.append(max(candidates, key=lambda j: gradient[j]))
        while True:
            z = np.zeros(n)
            z[active] = np.linalg.lstsq(a[:, active], b, rcond=None)[0]
            if all(z[j] > 0 for j in active):
                x = z
                break
            step = min(x[j] / (x[j] - z[j]) for j in active if z[j] <= 0)
            x = x + step * (z - x)
            active = [j for j in active if x[j] > 1e-12]
    return x


def _ridge_nnls(a: np.ndarray, b: np.ndarray, prior: np.ndarray, ridge: float) -> np.ndarray:
    k = a.shape[1]
    a_aug = np.vstack([a, math.sqrt(ridge) * np.eye(k)])
    return nnls(a_aug, np.concatenate([b, math.sqrt(ridge) * prior]))


def _shrunk_medians(keys: list, log_residuals: np.ndarray, shrink: float) -> dict[str, float]:
    """exp(median × n / (n + shrink)) per key: few rows pull the factor toward 1."""
    by_key: dict[str, list[float]] = defaultdict(list)
    for key, value in zip(keys, log_residuals, strict=True):
        if key is not None:
            by_key[key].append(value)
    return {k: math.exp(float(np.median(v)) * len(v) / (len(v) + shrink)) for k, v in by_key.items()}


def _coefficients(d: Design, idx: np.ndarray, weights: np.ndarray, mult: np.ndarray, hyper: Hyper) -> tuple:
    groups, engines = {}, {}
    for name in sorted({d.group[i] for i in idx}):
        rows = np.array([i for i in idx if d.group[i] == name])
        a = d.x[rows] * (mult[rows] / weights[rows])[:, None]
        groups[name] = nnls(a, d.y[rows] / weights[rows])
    for name in sorted({d.engine[i] for i in idx}):
        rows = np.array([i for i in idx if d.engine[i] == name])
        a = d.x[rows] * (mult[rows] / weights[rows])[:, None]
        engines[name] = _ridge_nnls(a, d.y[rows] / weights[rows], groups[d.group[rows[0]]], hyper.ridge)
    return groups, engines


def fit(d: Design, idx: np.ndarray, hyper: Hyper) -> Fitted:
    """Fit on the rows ``idx`` of the design."""
    mult = np.ones(len(d.rows))
    weights = d.y.copy()
    families: dict[str, float] = {}
    for _ in range(hyper.iterations):
        groups, engines = _coefficients(d, idx, weights, mult, hyper)
        base = np.array([d.x[i] @ engines[d.engine[i]] for i in idx])
        log_res = np.log(d.y[idx] / base)
        fam = np.log([families.get(d.family[i], 1.0) if d.family[i] else 1.0 for i in idx])
        precisions = _shrunk_medians([d.precision[i] for i in idx], log_res - fam, hyper.shrink_precision)
        prec = np.log([precisions[d.precision[i]] for i in idx])
        families = _shrunk_medians([d.family[i] for i in idx], log_res - prec, hyper.shrink_family)
        fam = np.log([families.get(d.family[i], 1.0) if d.family[i] else 1.0 for i in idx])
        mult[idx] = np.exp(prec + fam)
        weights[idx] = np.sqrt(d.y[idx] * base * mult[idx])  # IRLS toward log-error weighting
    pairs = _shrunk_medians([d.pair[i] for i in idx], log_res - prec - fam, hyper.shrink_pair)
    return Fitted(groups, engines, precisions, families, pairs)
