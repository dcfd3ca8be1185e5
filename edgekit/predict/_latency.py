"""Latency estimate with an interval, from fitted parameters.

Which interval applies depends on what the calibration knew about these coordinates (the *tier*):

* ``calibrated`` — the device already has rows for this runtime/unit: its pair factor applies and
  the interval comes from leave-one-model-out residuals;
* ``new-device`` — the runtime/unit was calibrated on other devices only: the prediction rests on
  this device's spec, and the interval comes from leave-one-device-out residuals (wider);
* ``new-runtime`` — no calibration row at all for this runtime/unit: unit-group coefficients,
  interval from leave-one-source-out residuals (widest).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from edgekit.predict._coords import Coordinates
from edgekit.predict._features import ModelFeatures
from edgekit.predict._fit import Fitted, engine_key
from edgekit.predict._params import TERMS, LatencyParams, Quantiles
from edgekit.predict._terms import device_point, terms, unit_group
from edgekit.profiles import DeviceProfile


@dataclass(frozen=True)
class LatencyEstimate:
    """A predicted latency, its interval and what it rests on."""

    value_ms: float
    low_ms: float
    high_ms: float
    tier: str
    coverage: float
    interval_method: str
    assumed_peak: bool
    factors: dict[str, float] = field(default_factory=dict)
    terms_ms: dict[str, float] = field(default_factory=dict)


def _split_keys(factors: dict[str, float]) -> dict[tuple[str, str], dict[str, float]]:
    """``runtime/unit/precision`` factors as {(runtime, unit): {precision: factor}}."""
    table: dict[tuple[str, str], dict[str, float]] = {}
    for key, value in factors.items():
        runtime, unit, precision = key.split("/")
        table.setdefault((runtime, unit), {})[precision] = value
    return table


def _precision_ratio(table: dict[tuple[str, str], dict[str, float]], unit: str, want: str, have: str) -> float:
    """Geometric mean of factor(want) / factor(have) over runtimes on ``unit`` that know both (1 if none)."""
    logs = [math.log(p[want] / p[have]) for (_, u), p in table.items() if u == unit and want in p and have in p]
    return math.exp(sum(logs) / len(logs)) if logs else 1.0


def _precision_factor(factors: dict[str, float], runtime: str, unit: str, precision: str) -> tuple[float, str, bool]:
    """The runtime/unit/precision multiplier, its source key, and whether it was calibrated as such.

    Backoff when uncalibrated: the same runtime/unit at its calibrated precisions, moved by the
    precision ratio other runtimes show on this unit; else every runtime's factor for the unit
    and precision (geometric mean); else 1.
    """
    table = _split_keys(factors)
    own = table.get((runtime, unit), {})
    if precision in own:
        return own[precision], f"{runtime}/{unit}/{precision}", True
    if own:
        logs = [math.log(f * _precision_ratio(table, unit, precision, have)) for have, f in own.items()]
        return math.exp(sum(logs) / len(logs)), f"{runtime}/{unit}/* moved to {precision}", False
    same = [math.log(p[precision]) for (_, u), p in table.items() if u == unit and precision in p]
    if same:
        return math.exp(sum(same) / len(same)), f"*/{unit}/{precision}", False
    return 1.0, "none", False


def point_estimate(fitted: Fitted, x: np.ndarray, coords: Coordinates, family: str | None) -> tuple[float, str, dict]:
    """Latency (ms) at the reference power mode, the tier, and the multipliers used."""
    engine = engine_key(coords.runtime, coords.unit)
    coefficients = fitted.runtime_coefficients.get(engine)
    if coefficients is None:
        coefficients = fitted.group_coefficients[unit_group(coords.unit)]
    precision, precision_key, calibrated = _precision_factor(
        fitted.precision_factors, coords.runtime, coords.unit, coords.precision
    )
    family_factor = fitted.family_factors.get(family, 1.0) if family else 1.0
    pair_key = f"{coords.device_id}/{engine}"
    pair = fitted.pair_factors.get(pair_key)
    if pair is not None and calibrated:
        tier = "calibrated"
    elif pair is not None or engine in fitted.runtime_coefficients:
        tier = "new-device"  # a calibrated pair at an uncalibrated precision is extrapolated like a new device
    else:
        tier = "new-runtime"
    value = float(x @ coefficients) * precision * family_factor * (pair or 1.0)
    used = {f"precision:{precision_key}": precision, f"family:{family}": family_factor, f"pair:{pair_key}": pair}
    return value, tier, {k: v for k, v in used.items() if v is not None and v != 1.0}


_FITTED: dict[int, tuple[LatencyParams, Fitted]] = {}


def fitted_from_params(params: LatencyParams) -> Fitted:
    """The run-time view of shipped parameters (converted once per parameter object)."""
    cached = _FITTED.get(id(params))
    if cached is not None and cached[0] is params:
        return cached[1]
    fitted = Fitted(
        group_coefficients={k: np.array(v) for k, v in params.group_coefficients.items()},
        runtime_coefficients={k: np.array(v) for k, v in params.runtime_coefficients.items()},
        precision_factors=params.precision_factors,
        family_factors=params.family_factors,
        pair_factors=params.pair_factors,
    )
    _FITTED[id(params)] = (params, fitted)
    return fitted


def interval_quantiles(params: LatencyParams, tier: str, unit: str) -> Quantiles:
    """The quantiles of a tier for the unit's group, falling back to the tier's pooled ones."""
    by_group = params.interval_quantiles.get(tier, {})
    return by_group.get(unit_group(unit)) or by_group["all"]


def estimate_latency(
    params: LatencyParams,
    features: ModelFeatures,
    profile: DeviceProfile,
    coords: Coordinates,
    clock_scale: float = 1.0,
) -> LatencyEstimate:
    """Predict latency with its interval (``clock_scale`` from the power mode divides it)."""
    point = device_point(profile, coords, params.hyper, params.reference_peaks_gflops)
    x = terms(features, point, coords, params.hyper)
    value, tier, factors = point_estimate(fitted_from_params(params), x, coords, point.family)
    value /= clock_scale
    q = interval_quantiles(params, tier, coords.unit)
    coefficients = params.runtime_coefficients.get(engine_key(coords.runtime, coords.unit))
    coefficients = coefficients or params.group_coefficients[unit_group(coords.unit)]
    contributions = {name: float(t * c) for name, t, c in zip(TERMS, x, coefficients, strict=True)}
    return LatencyEstimate(
        value_ms=value, low_ms=value * math.exp(q.low), high_ms=value * math.exp(q.high), tier=tier,
        coverage=params.hyper.interval_coverage, interval_method=q.method, assumed_peak=point.assumed_peak,
        factors=factors, terms_ms=contributions,
    )  # fmt: skip
