"""A board-specific correction of the latency predictor, fitted on measurements of that board (``edgekit calibrate``).

The predictor is fitted on published figures; a user's own board differs from them (clocks, cooling, runtime
build, OS, the fixed cost of a call). Given N stored batch-1 measurements on the board's profile, each compared
with the predictor's own (uncalibrated) prediction of the same (model, runtime, precision), the correction is:

* **Model: one multiplicative factor, fitted in log space.** ``r_i = ln(measured p50 / predicted)``; the factor
  is ``exp(mean r)``. Latency errors are multiplicative (a slow clock slows every layer), and with the 3–10 rows
  a user measures, a single location parameter per group is what the data can pin down.
* **Groups.** A (runtime, unit, precision) with at least :data:`MIN_OWN_ROWS` rows gets its own factor (*own*);
  every other prediction on the profile's measured units — other precisions and runtimes — uses the factor of
  all rows together (*pooled*). Each prediction's note says which.
* **Interval: a Student-t prediction interval from the log residuals.** For a new model on the board, ``r`` is
  modelled as a draw from N(μ, σ²) with μ and σ estimated from the n rows: ``ln(latency) = ln(predicted × factor)
  ± t(coverage, dof) × s × sqrt(1 + 1/n)``. That is the exact small-N widening for a normal sample with unknown
  mean and variance (the t quantile for the unknown σ, ``1/n`` for the estimated mean); with 3 rows the t factor
  is 2.92 at 90% against 1.64 for a known σ. Own groups share a pooled within-group ``s`` (dof = N − groups);
  the pooled factor uses the spread of all rows around their mean (dof = N − 1), which also holds the
  between-group differences it does not model. ``s`` is never taken below :data:`SIGMA_FLOOR`, the run-to-run
  spread of a measured p50 on a shared host: three rows that happen to agree do not make a zero-width interval.
  Coverage is the predictor's own (``Hyper.interval_coverage``, 90%).

What it does not do: it does not refit the per-term coefficients (with a handful of rows a term model is
underdetermined), so model-to-model errors that the predictor's terms cannot see remain, and show up as ``s``.
It applies to predictions with every core of the selection (the measured setting) on the units measured.

The file: ``$EDGEKIT_HOME/calibration/<profile>.json``, written atomically, schema-checked when read (a corrupt
file is one error line, exit 2), and tied to the predictor it was fitted against: after the predictor's
parameters change it is ignored with a warning until ``edgekit calibrate`` is run again.
"""

from __future__ import annotations

import json
import math
import warnings
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from edgekit.errors import BadInputError, EdgekitWarning
from edgekit.fileio import write_json_atomic
from edgekit.paths import HOME_ENV, edgekit_home
from edgekit.predict._coords import Coordinates
from edgekit.vocab import StrictModel, describe_validation_error

SCHEMA_VERSION = 1
CALIBRATION_FOLDER = "calibration"
MIN_MEASUREMENTS = 3  # fewer leave the t interval with < 2 degrees of freedom
MIN_OWN_ROWS = 2  # a (runtime, unit, precision) with this many rows gets its own factor
# Run-to-run spread (log sd) of a 5 s p50 window on this project's shared 2-core host: ~2% quiet
# (edgekit.bench._spec), more with neighbours; the spread no stated interval goes below.
SIGMA_FLOOR = 0.03
TIER = "board-calibrated"
CALIBRATED_LABEL = "predicted, calibrated on"  # how every calibrated figure's note begins


class CalibrationRow(StrictModel):
    """One stored measurement and the uncalibrated prediction of the same coordinates."""

    model: str
    runtime: str = Field(description="predictor runtime key, e.g. onnxruntime")
    unit: str
    precision: str
    bench_runtime: str = Field(description="the bench runner that measured it, e.g. onnxruntime-cpu")
    measured_ms: float = Field(gt=0, description="measured p50")
    predicted_ms: float = Field(gt=0, description="uncalibrated prediction")
    board: str = Field(description="where it was measured: a board id, or 'this machine'")
    run_id: str

    @property
    def log_ratio(self) -> float:
        """ln(measured / predicted)."""
        return math.log(self.measured_ms / self.predicted_ms)


class Correction(StrictModel):
    """The factor and log-space interval for one (runtime, unit, precision), or the pooled one (``*``)."""

    runtime: str
    unit: str
    precision: str
    basis: Literal["own", "pooled"]
    n: int = Field(ge=1, description="rows the factor rests on")
    factor: float = Field(gt=0, description="multiplies the uncalibrated prediction")
    sigma: float = Field(ge=0, description="log-residual spread used (after the floor)")
    dof: int = Field(ge=1)
    half_width: float = Field(ge=0, description="t x sigma x sqrt(1 + 1/n), in ln units")


class BoardCalibration(StrictModel):
    """What ``edgekit calibrate PROFILE`` fitted; see the module docstring for the method."""

    schema_version: Literal[1] = SCHEMA_VERSION
    profile: str
    predictor: str = Field(description="predictor id the residuals were computed against")
    created_at: datetime
    coverage: float = Field(gt=0, lt=1)
    rows: list[CalibrationRow] = Field(min_length=MIN_MEASUREMENTS)
    own: list[Correction] = Field(description="per (runtime, unit, precision) with enough rows")
    pooled: Correction

    def correction_for(self, coords: Coordinates) -> Correction | None:
        """The group's own correction, else the pooled one on a measured unit, else None."""
        if coords.threads is not None or coords.core_selection != "all":
            return None  # measured with every core: other settings keep the plain prediction
        for c in self.own:
            if (c.runtime, c.unit, c.precision) == (coords.runtime, coords.unit, coords.precision):
                return c
        return self.pooled if coords.unit in {r.unit for r in self.rows} else None

    def note(self, c: Correction) -> str:
        """``predicted, calibrated on 3 measurements (profile host): ...`` — the label of a calibrated figure."""
        group = f"{c.runtime} {c.unit} {c.precision}" if c.basis == "own" else "all rows pooled"
        return (f"{CALIBRATED_LABEL} {len(self.rows)} measurements (profile {self.profile}): x{c.factor:.3g} "
                f"({c.basis}: {group}, {c.n} rows); {self.coverage:.0%} t prediction interval from their log "
                f"residuals (s={c.sigma:.3f}, {c.dof} dof)")  # fmt: skip


class CalibrationFileError(BadInputError):
    """A saved calibration file is unreadable: a problem of the home, not of what was asked for."""


def calibration_path(profile: str) -> Path:
    """``$EDGEKIT_HOME/calibration/<profile>.json``."""
    return edgekit_home() / CALIBRATION_FOLDER / f"{profile}.json"


def save_calibration(calibration: BoardCalibration) -> Path:
    """Write atomically (a previous good file is replaced only by a complete new one)."""
    path = calibration_path(calibration.profile)
    write_json_atomic(path, calibration.model_dump(mode="json"))
    return path


_LOADED: dict[Path, tuple[tuple[int, int], BoardCalibration]] = {}


def load_calibration_file(profile: str) -> BoardCalibration | None:
    """The saved calibration of ``profile``, or None; read once per file version.

    Raises:
        CalibrationFileError: the file is not valid JSON, fails the schema, or names another profile.
    """
    path = calibration_path(profile)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    version = (stat.st_mtime_ns, stat.st_size)
    cached = _LOADED.get(path)
    if cached is not None and cached[0] == version:
        return cached[1]
    try:
        calibration = BoardCalibration.model_validate(json.loads(path.read_text()))
    except (json.JSONDecodeError, UnicodeDecodeError, ValidationError) as exc:
        detail = describe_validation_error(exc, limit=2) if isinstance(exc, ValidationError) else str(exc)
        raise CalibrationFileError(f"calibration file {path} is corrupt ({detail}); run `edgekit calibrate {profile}` "
                            f"again, delete the file, or set {HOME_ENV} to another folder") from None  # fmt: skip
    if calibration.profile != profile:
        raise CalibrationFileError(f"calibration file {path} is for profile {calibration.profile}, not {profile}; "
                            f"run `edgekit calibrate {profile}` again or delete the file")  # fmt: skip
    _LOADED[path] = (version, calibration)
    return calibration


def current_calibration(profile: str, predictor: str) -> BoardCalibration | None:
    """The saved calibration when it was fitted against ``predictor`` (a stale one warns and is ignored)."""
    calibration = load_calibration_file(profile)
    if calibration is None or calibration.predictor == predictor:
        return calibration
    warnings.warn(f"calibration of {profile} was fitted against {calibration.predictor}, not {predictor}: "
                  f"ignored; run `edgekit calibrate {profile}` again", EdgekitWarning, stacklevel=2)  # fmt: skip
    return None


def t_quantile(coverage: float, dof: int) -> float:
    """The two-sided Student-t quantile: P(|T| <= t) = coverage with ``dof`` degrees of freedom (bisection)."""
    low, high = 0.0, 1e6
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if _t_within(mid, dof) < coverage else (low, mid)
    return (low + high) / 2


def _t_within(t: float, dof: int) -> float:
    """P(|T| <= t) for integer ``dof``: the finite series of Abramowitz & Stegun 26.7.3 (odd) / 26.7.4 (even)."""
    theta = math.atan(t / math.sqrt(dof))
    c2, term = math.cos(theta) ** 2, 1.0
    if dof % 2 == 0:
        total = 1.0
        for k in range(1, dof // 2):
            term *= c2 * (2 * k - 1) / (2 * k)
            total += term
        return math.sin(theta) * total
    if dof == 1:
        return 2 * theta / math.pi
    total = 1.0
    for k in range(1, (dof - 1) // 2):
        term *= c2 * (2 * k) / (2 * k + 1)
        total += term
    return 2 / math.pi * (theta + math.sin(theta) * math.cos(theta) * total)
