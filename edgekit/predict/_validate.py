"""Cross-validation of the latency model, and calibration of its intervals from the residuals.

* leave-one-device-out (LODO): each device's rows predicted from the other devices plus its spec;
* leave-one-model-out (LOMO): each model's rows predicted with the device pairs calibrated on the
  other models — the situation of a calibrated device running a new network;
* leave-one-source-out (LOSO): each publisher's rows predicted from the other publishers'.

Residuals are log(observed / predicted). The shipped interval of a tier spans the central
``interval_coverage`` of that tier's held-out residuals.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, fields

import numpy as np

from edgekit.fileio import sha256_file
from edgekit.predict._calibration import LATENCY_CSV, load_calibration
from edgekit.predict._fit import Design, Fitted, build_design, fit
from edgekit.predict._latency import point_estimate
from edgekit.predict._params import TIERS, Hyper, LatencyParams, Quantiles
from edgekit.profiles import DeviceProfile, load_profiles

_MIN_GROUP_RESIDUALS = 15  # fewer than this: use the tier's pooled quantiles
_DEFAULT_REFERENCE_GFLOPS = 1000.0


@dataclass(frozen=True)
class Residual:
    """One held-out prediction."""

    row: int
    log_ratio: float
    tier: str
    group: str
    fold: str


def predict_rows(d: Design, fitted: Fitted, idx: np.ndarray) -> list[tuple[float, str]]:
    """(prediction, tier) for rows ``idx`` of the design."""
    return [point_estimate(fitted, d.x[i], d.rows[i].coords, d.family[i])[:2] for i in idx]


def cross_validate(d: Design, hyper: Hyper, fold_of: Callable[[int], str], name: str) -> list[Residual]:
    """Hold out each fold in turn, fit on the rest, predict the held-out rows."""
    folds: dict[str, list[int]] = defaultdict(list)
    for i in range(len(d.rows)):
        folds[fold_of(i)].append(i)
    out = []
    for fold, held in sorted(folds.items()):
        train = np.array([i for i in range(len(d.rows)) if fold_of(i) != fold])
        fitted = fit(d, train, hyper)
        for i, (pred, tier) in zip(held, predict_rows(d, fitted, np.array(held)), strict=True):
            out.append(Residual(i, math.log(d.y[i] / pred), tier, d.group[i], f"{name}:{fold}"))
    return out


def folds(d: Design) -> dict[str, Callable[[int], str]]:
    """The three fold definitions by name."""
    return {
        "leave-one-device-out": lambda i: d.rows[i].coords.device_id,
        "leave-one-model-out": lambda i: d.rows[i].coords.model,
        "leave-one-source-out": lambda i: d.rows[i].source_key,
    }


def quantiles(residuals: list[Residual], coverage: float, method: str) -> dict[str, Quantiles]:
    """Per unit group (when it has enough residuals) plus ``all``."""
    tail = (1 - coverage) / 2
    groups: dict[str, list[float]] = defaultdict(list)
    for r in residuals:
        groups[r.group].append(r.log_ratio)
        groups["all"].append(r.log_ratio)
    return {
        g: Quantiles(low=float(np.quantile(v, tail)), high=float(np.quantile(v, 1 - tail)), n=len(v), method=method)
        for g, v in groups.items()
        if g == "all" or len(v) >= _MIN_GROUP_RESIDUALS
    }


def tier_quantiles(by_method: dict[str, list[Residual]], coverage: float) -> dict[str, dict[str, Quantiles]]:
    """Calibrated ← LOMO, new-device ← LODO, new-runtime ← LOSO (plus LODO rows of that tier)."""
    sources = {
        "calibrated": [r for r in by_method["leave-one-model-out"] if r.tier == "calibrated"],
        "new-device": [r for r in by_method["leave-one-device-out"] if r.tier == "new-device"],
        "new-runtime": [r for m in ("leave-one-source-out", "leave-one-device-out")
                        for r in by_method[m] if r.tier == "new-runtime"],
    }  # fmt: skip
    methods = {"calibrated": "leave-one-model-out", "new-device": "leave-one-device-out",
               "new-runtime": "leave-one-source-out + leave-one-device-out"}  # fmt: skip
    out = {}
    for tier in TIERS:
        residuals = sources[tier] or sources["new-device"]  # a tier with no residuals borrows the wider one
        out[tier] = quantiles(residuals, coverage, methods[tier] if sources[tier] else methods["new-device"])
    return out


def reference_peaks(profiles: dict[str, DeviceProfile]) -> dict[str, float]:
    """Geometric mean of the published/derived peaks per accelerator kind (stand-in for missing ones)."""
    logs: dict[str, list[float]] = defaultdict(list)
    for profile in profiles.values():
        for unit in profile.accelerators:
            peaks = [unit.peak(p) for p in ("fp16", "fp32", "int8")]
            first = next((p for p in peaks if p is not None), None)
            if first is not None:
                logs[unit.kind].append(math.log(first.value))
    return {kind: math.exp(sum(v) / len(v)) for kind, v in logs.items()} or {"gpu": _DEFAULT_REFERENCE_GFLOPS}


def params_from_fit(fitted: Fitted, hyper: Hyper, sha: str, n_rows: int, peaks: dict[str, float]) -> LatencyParams:
    """Package a fit as shippable parameters (intervals added by :func:`calibrate`)."""
    return LatencyParams(
        hyper=hyper, calibration_sha256=sha, calibration_rows=n_rows, reference_peaks_gflops=peaks,
        group_coefficients={k: [float(x) for x in v] for k, v in fitted.group_coefficients.items()},
        runtime_coefficients={k: [float(x) for x in v] for k, v in fitted.runtime_coefficients.items()},
        precision_factors=fitted.precision_factors, family_factors=fitted.family_factors,
        pair_factors=fitted.pair_factors,
    )  # fmt: skip


def prepare(
    hyper: Hyper, csv_path=LATENCY_CSV, profiles: dict[str, DeviceProfile] | None = None
) -> tuple[Design, dict[str, float], int]:
    """Load the calibration rows of profiled devices (the shipped profiles unless given) and build their design."""
    profiles = profiles if profiles is not None else load_profiles()
    rows, skipped = load_calibration(csv_path, set(profiles))
    peaks = reference_peaks(profiles)
    return build_design(rows, profiles, hyper, peaks), peaks, skipped


def calibrate(hyper: Hyper | None = None, csv_path=LATENCY_CSV) -> tuple[LatencyParams, dict[str, list[Residual]]]:
    """Fit on every row, cross-validate three ways, and attach tier intervals from the residuals."""
    hyper = hyper or Hyper()
    design, peaks, _ = prepare(hyper, csv_path)
    by_method = {name: cross_validate(design, hyper, fold, name) for name, fold in folds(design).items()}
    fitted = fit(design, np.arange(len(design.rows)), hyper)
    params = params_from_fit(fitted, hyper, sha256_file(csv_path), len(design.rows), peaks)
    intervals = tier_quantiles(by_method, hyper.interval_coverage)
    validation = {"lodo_median_abs_pct": median_abs_pct(r.log_ratio for r in by_method["leave-one-device-out"])}
    return params.model_copy(update={"interval_quantiles": intervals, "validation": validation}), by_method


def nested_lodo(d: Design, hyper: Hyper) -> list[tuple[Residual, bool]]:
    """Leave-one-device-out with honest intervals: each held-out device's interval quantiles come
    from an inner leave-one-device-out over the remaining devices only.

    Returns:
        (residual, covered by the stated interval) per row.
    """
    devices = sorted({r.coords.device_id for r in d.rows})
    out = []
    for device in devices:
        train_rows = [i for i, r in enumerate(d.rows) if r.coords.device_id != device]
        inner = _subdesign(d, train_rows)
        inner_res = cross_validate(inner, hyper, lambda i, dd=inner: dd.rows[i].coords.device_id, "inner")
        by_tier = {t: [r for r in inner_res if r.tier == t] for t in TIERS}
        fitted = fit(d, np.array(train_rows), hyper)
        held = np.array([i for i, r in enumerate(d.rows) if r.coords.device_id == device])
        for i, (pred, tier) in zip(held, predict_rows(d, fitted, held), strict=True):
            pool = by_tier.get(tier) or by_tier["new-device"]
            q = quantiles(pool, hyper.interval_coverage, "inner leave-one-device-out")
            bound = q.get(d.group[i]) or q["all"]
            ratio = math.log(d.y[i] / pred)
            out.append((Residual(i, ratio, tier, d.group[i], f"nested:{device}"), bound.low <= ratio <= bound.high))
    return out


def nested_selection_lodo(designs: list[Design], hypers: list[Hyper]) -> tuple[list[Residual], dict[str, int]]:
    """Leave-one-device-out in which the hyper-parameters are chosen again for each held-out device,
    by the lowest inner leave-one-device-out median error over the other devices only: the error of the
    whole procedure "fit, and pick the hyper-parameters by this score", free of the optimism of
    scoring a choice on the data that made it. ``designs[k]`` is built with ``hypers[k]`` (same rows).

    Returns:
        (held-out residuals, index of the chosen candidate per device).
    """
    first = designs[0]
    devices = sorted({r.coords.device_id for r in first.rows})
    device_of = lambda dd: lambda i: dd.rows[i].coords.device_id  # noqa: E731
    out, chosen = [], {}
    for device in devices:
        train_rows = [i for i, r in enumerate(first.rows) if r.coords.device_id != device]
        best = 0
        if len(designs) > 1:
            subs = [(_subdesign(d, train_rows), hyper) for d, hyper in zip(designs, hypers, strict=True)]
            inners = [(sub, hyper, device_of(sub)) for sub, hyper in subs]
            scores = [median_abs_pct(r.log_ratio for r in cross_validate(*inner, "inner")) for inner in inners]
            best = int(np.argmin(scores))
        chosen[device] = best
        d, hyper = designs[best], hypers[best]
        fitted = fit(d, np.array(train_rows), hyper)
        held = np.array([i for i, r in enumerate(d.rows) if r.coords.device_id == device])
        for i, (pred, tier) in zip(held, predict_rows(d, fitted, held), strict=True):
            out.append(Residual(int(i), math.log(d.y[i] / pred), tier, d.group[i], f"selected:{device}"))
    return out, chosen


def median_abs_pct(log_ratios: Iterable[float]) -> float:
    """Median |predicted − observed| / observed in %, from log(observed / predicted)."""
    return float(np.median(np.abs(np.exp(-np.array(list(log_ratios))) - 1)) * 100)


def _subdesign(d: Design, rows: list[int]) -> Design:
    """The design restricted to ``rows``: every per-row field, array or list, picked alike."""
    pick = np.array(rows)
    picked = {}
    for field in fields(Design):
        values = getattr(d, field.name)
        picked[field.name] = values[pick] if isinstance(values, np.ndarray) else [values[i] for i in rows]
    return Design(**picked)


@dataclass(frozen=True)
class ReplicateSpread:
    """How far apart published rows at identical coordinates are."""

    rows: int  # rows that share all their coordinates with at least one other row
    groups: int
    median_max_over_min: float
    median_unavoidable_pct: float  # median over groups of the smallest possible worst-row error (see below)


def replicate_spread(latencies_by_coordinates: dict[Hashable, list[float]]) -> ReplicateSpread:
    """Spread of rows published at identical coordinates (different boards, firmware, benchmark builds).

    A prediction is a function of the coordinates, so it gives one value c for a whole group. With the
    group's extremes a < b, the larger of |c/a − 1| and |c/b − 1| is smallest at c = 2ab/(a + b), where
    it is (b − a)/(b + a): whatever a predictor says, some row of the group is missed by at least that much.
    """
    ratios = [max(v) / min(v) for v in latencies_by_coordinates.values() if len(v) > 1]
    if not ratios:
        return ReplicateSpread(0, 0, float("nan"), float("nan"))
    rows = sum(len(v) for v in latencies_by_coordinates.values() if len(v) > 1)
    unavoidable = [(r - 1) / (r + 1) * 100 for r in ratios]
    return ReplicateSpread(rows, len(ratios), float(np.median(ratios)), float(np.median(unavoidable)))


def design_replicates(d: Design) -> dict[Hashable, list[float]]:
    """Published latencies of the design grouped by their full coordinates."""
    groups: dict[Hashable, list[float]] = defaultdict(list)
    for row in d.rows:
        groups[row.coords].append(row.latency_ms)
    return groups


def _log_ratios_by(residuals: list[Residual], key_of: Callable[[int], Hashable]) -> dict[Hashable, list[float]]:
    by_key: dict[Hashable, list[float]] = defaultdict(list)
    for r in residuals:
        by_key[key_of(r.row)].append(r.log_ratio)
    return by_key


def without_offsets(residuals: list[Residual], key_of: Callable[[int], Hashable]) -> list[float]:
    """Log residuals after removing each key's median: the error left if that offset were known in advance."""
    medians = {k: float(np.median(v)) for k, v in _log_ratios_by(residuals, key_of).items()}
    return [r.log_ratio - medians[key_of(r.row)] for r in residuals]


def split_median_abs_pct(
    residuals: list[Residual], key_of: Callable[[int], Hashable]
) -> dict[Hashable, tuple[int, float]]:
    """Rows and median |error| % of the residuals per key."""
    return {k: (len(v), median_abs_pct(v)) for k, v in _log_ratios_by(residuals, key_of).items()}
