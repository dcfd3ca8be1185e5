"""Fit a board calibration (:mod:`edgekit.predict._board_calibration`) from the results store: ``edgekit calibrate``.

The rows are the measurements :class:`edgekit.measured.ProfileMeasurements` finds on the profile (the same
lookup ``recommend`` uses: batch 1, every core, newest per model/recipe/runner); each is paired with the
predictor's uncalibrated prediction of the same (model, runtime, unit, precision) on that profile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from edgekit.bench import BenchResult
from edgekit.bench.runners import get_runner
from edgekit.errors import BadInputError, EdgekitError
from edgekit.measured import ProfileMeasurements, measured_where, runner_of_target
from edgekit.predict._board_calibration import (
    MIN_MEASUREMENTS,
    MIN_OWN_ROWS,
    SIGMA_FLOOR,
    BoardCalibration,
    CalibrationRow,
    Correction,
    save_calibration,
    t_quantile,
)
from edgekit.predict._coords import Coordinates
from edgekit.predict._features import model_features
from edgekit.predict._params import LatencyParams, load_params
from edgekit.predict._predict import predict_resolved, predictor_id
from edgekit.profiles import DeviceProfile, get_profile
from edgekit.store import ResultsStore
from edgekit.targets import load_targets

PRECISIONS = ("fp32", "fp16", "int8")  # recipes named after the precision they deploy (edgekit.recipes)


@dataclass(frozen=True)
class Skipped:
    """A stored row that cannot be compared with a prediction, and why."""

    model: str
    variant: str
    runtime: str
    reason: str


@dataclass(frozen=True)
class CalibrationResult:
    """The fitted calibration, the rows left out, and where it was saved (None: not saved)."""

    calibration: BoardCalibration
    skipped: list[Skipped]
    path: Path | None


def _predictor_runtime(bench_runtime: str) -> tuple[str, str] | None:
    """(predictor runtime key, unit) of the target a bench runner times, e.g. onnxruntime-cpu -> (onnxruntime, cpu)."""
    for target in load_targets().values():
        if runner_of_target(target.id) == bench_runtime:
            return target.runtime, get_runner(bench_runtime).device
    return None


def pair_row(row: BenchResult, profile: DeviceProfile, params: LatencyParams) -> CalibrationRow | Skipped:
    """A stored row with the uncalibrated prediction of its coordinates, or why it cannot have one."""
    spec = row.spec

    def skip(reason: str) -> Skipped:
        return Skipped(spec.model, spec.variant, spec.runtime, reason)

    if spec.variant not in PRECISIONS:
        return skip(f"recipe {spec.variant} is not one of {', '.join(PRECISIONS)}")
    placed = _predictor_runtime(spec.runtime)
    if placed is None:
        return skip(f"no target's recipe file is timed by {spec.runtime}")
    runtime, unit = placed
    try:
        features = model_features(spec.model)
        coords = Coordinates(device_id=profile.id, model=spec.model, runtime=runtime, unit=unit,
                             precision=spec.variant)  # fmt: skip
        predicted = predict_resolved(coords, profile, profile.default_power_mode, None, params, features,
                                     calibrate=False)  # fmt: skip
    except EdgekitError as exc:
        return skip(f"cannot be predicted: {exc}")
    board = row.board.id if row.board else measured_where(row).removeprefix("measured on ")
    return CalibrationRow(model=spec.model, runtime=runtime, unit=unit, precision=spec.variant,
                          bench_runtime=spec.runtime, measured_ms=row.stats.latency_ms_p50,
                          predicted_ms=predicted.latency_ms.value, board=board, run_id=row.run_id)  # fmt: skip


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _correction(key: tuple[str, str, str], basis: str, logs: list[float], sum_sq: float, dof: int,
                coverage: float) -> Correction:  # fmt: skip
    sigma = max(math.sqrt(sum_sq / dof), SIGMA_FLOOR)
    half = t_quantile(coverage, dof) * sigma * math.sqrt(1 + 1 / len(logs))
    return Correction(runtime=key[0], unit=key[1], precision=key[2], basis=basis, n=len(logs),
                      factor=math.exp(_mean(logs)), sigma=sigma, dof=dof, half_width=half)  # fmt: skip


def fit(profile: str, rows: list[CalibrationRow], predictor: str, coverage: float) -> BoardCalibration:
    """The corrections of the module docstring of :mod:`edgekit.predict._board_calibration`.

    Raises:
        BadInputError: fewer than ``MIN_MEASUREMENTS`` rows.
    """
    if len(rows) < MIN_MEASUREMENTS:
        raise BadInputError(f"only {len(rows)} usable measurement(s) on profile {profile}; calibrating needs at "
                            f"least {MIN_MEASUREMENTS} (measure more models there with `edgekit bench`, or "
                            "`bench --on BOARD` for a board)")  # fmt: skip
    logs = [r.log_ratio for r in rows]
    groups: dict[tuple[str, str, str], list[float]] = {}
    for r in rows:
        groups.setdefault((r.runtime, r.unit, r.precision), []).append(r.log_ratio)
    own = {k: v for k, v in groups.items() if len(v) >= MIN_OWN_ROWS}
    rest = [r.log_ratio for r in rows if (r.runtime, r.unit, r.precision) not in own]
    dof = len(rows) - len(own) - (1 if rest else 0)
    if dof < 2:  # too few rows to estimate a spread around several factors: pool them all
        own, rest, dof = {}, logs, len(rows) - 1
    within = sum((x - _mean(v)) ** 2 for v in own.values() for x in v) + sum((x - _mean(rest)) ** 2 for x in rest)
    total = sum((x - _mean(logs)) ** 2 for x in logs)
    return BoardCalibration(
        profile=profile, predictor=predictor, created_at=datetime.now(timezone.utc), coverage=coverage, rows=rows,
        own=[_correction(k, "own", v, within, dof, coverage) for k, v in sorted(own.items())],
        pooled=_correction(("*", "*", "*"), "pooled", logs, total, len(rows) - 1, coverage),
    )  # fmt: skip


def calibration_rows(profile: DeviceProfile, store: ResultsStore | None = None,
                     params: LatencyParams | None = None) -> tuple[list[CalibrationRow], list[Skipped]]:  # fmt: skip
    """Every stored measurement on ``profile`` paired with its prediction, and the rows that could not be."""
    params = params or load_params()
    paired, skipped = [], []
    for row in ProfileMeasurements(store).rows(profile.id).values():
        result = pair_row(row, profile, params)
        (paired if isinstance(result, CalibrationRow) else skipped).append(result)
    return paired, skipped


def calibrate(profile: str, store: ResultsStore | None = None, *, save: bool = True) -> CalibrationResult:
    """Fit the calibration of ``profile`` on its stored measurements and (by default) save it.

    Raises:
        UnknownNameError: unknown profile.
        BadInputError: too few usable measurements.
        StoreError: the results store cannot be read.
    """
    device = get_profile(profile)
    params = load_params()
    rows, skipped = calibration_rows(device, store, params)
    if len(rows) < MIN_MEASUREMENTS and skipped:
        reasons = "; ".join(f"{s.model} {s.variant} {s.runtime}: {s.reason}" for s in skipped[:3])
        raise BadInputError(f"only {len(rows)} usable measurement(s) on profile {profile} (need {MIN_MEASUREMENTS}"
                            f"); {len(skipped)} stored row(s) left out: {reasons}")  # fmt: skip
    calibration = fit(device.id, rows, predictor_id(params), params.hyper.interval_coverage)
    return CalibrationResult(calibration, skipped, save_calibration(calibration) if save else None)
