"""Predict latency, FPS, peak RAM and energy for coordinates; every figure labelled *predicted*."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from edgekit._registry import require_known
from edgekit.errors import BadInputError
from edgekit.metrics import Interval, Metric, Provenance, computed
from edgekit.models._source import parse_source
from edgekit.predict._board_calibration import (
    TIER,
    BoardCalibration,
    CalibrationFileError,
    Correction,
    current_calibration,
)
from edgekit.predict._calibration import power_mode_named_in, variant_gmacs
from edgekit.predict._coords import Coordinates, TableRow, read_table
from edgekit.predict._features import ModelFeatures, model_features, with_published_macs
from edgekit.predict._latency import LatencyEstimate, estimate_latency
from edgekit.predict._memory import MemoryEstimate, Overhead, estimate_memory
from edgekit.predict._params import PARAMS_VERSION, PREDICTOR_NAME, LatencyParams, load_params
from edgekit.profiles import DeviceProfile, get_profile
from edgekit.targets import get_target, load_targets


class Prediction(BaseModel):
    """One prediction with its inputs; numbers are :class:`~edgekit.metrics.Metric` (kind *predicted*)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    coordinates: Coordinates
    power_mode: str
    target: str | None = Field(None, description="target whose runtime overhead the RAM figure uses")
    tier: str = Field(
        description="calibrated | new-device | new-runtime (see edgekit.predict._latency), "
        "board-calibrated (edgekit calibrate), measured (recommend, from the results store)"
    )
    latency_ms: Metric
    fps: Metric
    peak_ram_mb: Metric | None = None
    flash_mb: Metric | None = None
    energy_mj: Metric | None = None
    observed_latency_ms: float | None = Field(None, description="the table's own figure, when it had one")
    detail: dict[str, float] = Field(default_factory=dict, description="latency terms (ms) and multipliers")

    def summary(self) -> dict[str, Any]:
        """The JSON view: each figure as ``{value, low, high}`` (``None`` when unknown)."""
        return {
            "coordinates": self.coordinates.model_dump(mode="json"),
            "power_mode": self.power_mode, "target": self.target, "tier": self.tier,
            "latency_ms": _span(self.latency_ms), "fps": _span(self.fps),
            "peak_ram_mb": _span(self.peak_ram_mb), "flash_mb": _span(self.flash_mb),
            "energy_mj": _span(self.energy_mj), "observed_latency_ms": self.observed_latency_ms,
            "predictor": self.latency_ms.provenance.predictor, "interval_note": self.latency_ms.provenance.note,
        }  # fmt: skip


def _span(metric: Metric | None) -> dict[str, float] | None:
    if metric is None:
        return None
    interval = metric.provenance.interval
    low, high = (interval.low, interval.high) if interval else (metric.value, metric.value)
    return {"value": round(metric.value, 4), "low": round(low, 4), "high": round(high, 4)}


def predictor_id(params: LatencyParams) -> str:
    """``edgekit.predict.latency@1 (params <sha256 of the parameters, 12 hex>)``."""
    return f"{PREDICTOR_NAME}@{PARAMS_VERSION} (params {params.digest()})"


def known_runtimes(params: LatencyParams) -> set[str]:
    """Runtimes with calibration rows plus those of the shipped targets."""
    runtimes = {key.split("/")[0] for key in params.precision_factors}
    return runtimes | {t.runtime for t in load_targets().values()}


def target_for(runtime: str, unit: str, target_id: str | None = None) -> Any:
    """The target that runs ``runtime`` on ``unit`` (the named one if given), or None."""
    if target_id:
        return get_target(target_id)
    matches = [t for t in load_targets().values() if t.runtime == runtime and unit in t.compute_units]
    return matches[0] if matches else None


def overhead_of(target: Any) -> Overhead | None:
    """A target's runtime overhead (MB) with its range; None without a target."""
    if target is None:
        return None
    o = target.runtime_overhead_mb
    low = o.low if o.low is not None else o.value
    high = o.high if o.high is not None else o.value
    return Overhead(o.value, low, high, f"{target.id} runtime_overhead_mb ({o.basis})")


def _predicted(name: str, value: float, low: float, high: float, unit: str, predictor: str, inputs: str,
               note: str, coverage: float | None = None) -> Metric:  # fmt: skip
    provenance = Provenance(kind="predicted", predictor=f"{predictor}; inputs: {inputs}", note=note,
                            interval=Interval(low=low, high=high, coverage=coverage))  # fmt: skip
    return Metric(name=name, value=value, unit=unit, provenance=provenance)


def _latency_metrics(est: LatencyEstimate, predictor: str, inputs: str) -> tuple[Metric, Metric]:
    note = f"{est.tier}: {est.coverage:.0%} interval from {est.interval_method} residuals"
    if est.assumed_peak:
        note += "; no published peak for this unit (unit-typical peak assumed)"
    latency = _predicted("latency_ms", est.value_ms, est.low_ms, est.high_ms, "ms", predictor, inputs, note,
                         est.coverage)  # fmt: skip
    fps = _predicted("fps", 1000 / est.value_ms, 1000 / est.high_ms, 1000 / est.low_ms, "1/s", predictor, inputs,
                     "single stream, batch 1: 1000 / latency", est.coverage)  # fmt: skip
    return latency, fps


def _calibrated_metrics(est: LatencyEstimate, calibration: BoardCalibration, c: Correction, predictor: str,
                        inputs: str) -> tuple[Metric, Metric]:  # fmt: skip
    value = est.value_ms * c.factor
    low, high = value * math.exp(-c.half_width), value * math.exp(c.half_width)
    note = calibration.note(c)
    latency = _predicted("latency_ms", value, low, high, "ms", predictor, inputs, note, calibration.coverage)
    fps = _predicted("fps", 1000 / value, 1000 / high, 1000 / low, "1/s", predictor, inputs,
                     f"{note}; single stream, batch 1: 1000 / latency", calibration.coverage)  # fmt: skip
    return latency, fps


def _memory_metrics(mem: MemoryEstimate, predictor: str, inputs: str) -> tuple[Metric, Metric | None]:
    graph = f" + graph {mem.copies.graph_overhead_mb:.2f}" if mem.copies.graph_overhead_mb else ""
    note = (f"weights {mem.weights_in_ram_mb:.2f} (x{mem.copies.value:.2f} copies, {mem.copies.basis}){graph} + "
            f"activations {mem.activations_mb:.2f} + I/O {mem.io_mb:.2f} + runtime {mem.overhead.value:.2f} "
            f"MB ({mem.overhead.label})")  # fmt: skip
    ram = _predicted("peak_ram_mb", mem.peak_mb, mem.low_mb, mem.high_mb, "MB", predictor, inputs, note)
    flash = computed("flash_mb", mem.flash_mb, "MB", "params x bytes per weight") if mem.flash_mb else None
    return ram, flash


def _energy(profile: DeviceProfile, mode: str, latency: Metric, predictor: str, inputs: str) -> Metric | None:
    watts = profile.power_mode(mode).watts
    interval = latency.provenance.interval
    if watts is None or interval is None:
        return None
    note = f"{watts.value:g} W ({watts.label()}, power mode {mode}) x predicted latency"
    return _predicted("energy_mj", latency.value * watts.value, interval.low * watts.value,
                      interval.high * watts.value, "mJ", predictor, inputs, note)  # fmt: skip


def require_among(name: str, known: list[str], what: str) -> str:
    """Return ``name`` if known, else raise listing close matches (or all, when none is close).

    Raises:
        UnknownNameError: ``name`` is not among ``known``.
    """
    return require_known(name, sorted(known), what, listing="inline")


def check_coordinates(coords: Coordinates, params: LatencyParams) -> DeviceProfile:
    """Resolve the device and check model and runtime names.

    Raises:
        UnknownNameError: unknown device, model or runtime (with close matches).
    """
    profile = get_profile(coords.device_id)
    parse_source(coords.model, input_size=coords.input_size)  # any model source; unknown names list close ones
    require_among(coords.runtime, sorted(known_runtimes(params)), "runtime")
    return profile


def predict(
    coords: Coordinates, power_mode: str | None = None, target: str | None = None,
    params: LatencyParams | None = None, features: ModelFeatures | None = None, *, calibrate: bool = True,
) -> Prediction:  # fmt: skip
    """Predict one set of coordinates (corrected by the profile's saved board calibration unless ``calibrate`` is off).

    Raises:
        UnknownNameError: unknown device, model, runtime, target.
        BadInputError: no such compute unit or power mode on the device.
    """
    params = params or load_params()
    profile = check_coordinates(coords, params)
    mode = power_mode or profile.default_power_mode
    require_among(mode, [m.name for m in profile.power_modes], f"power mode of {profile.id}")
    features = features or model_features(coords.model, coords.input_size)
    spec = target_for(coords.runtime, coords.unit, target)
    return predict_resolved(coords, profile, mode, spec, params, features, calibrate=calibrate)


def predict_resolved(
    coords: Coordinates, profile: DeviceProfile, mode: str, spec: Any, params: LatencyParams, features: ModelFeatures,
    *, calibrate: bool = True,
) -> Prediction:  # fmt: skip
    """Predict with every name already resolved (``spec``: the target whose overhead counts, or None).

    With ``calibrate`` (the default), a saved board calibration of the profile (``edgekit calibrate``) corrects
    the latency and states its own interval.
    """
    predictor = predictor_id(params)
    inputs = f"{coords.label()}, profile {profile.id} ({mode})"
    est = estimate_latency(params, features, profile, coords, profile.power_mode(mode).clock_scale.value)
    calibration = current_calibration(profile.id, predictor) if calibrate else None
    correction = calibration.correction_for(coords) if calibration else None
    if calibration is not None and correction is not None:
        latency, fps = _calibrated_metrics(est, calibration, correction, predictor, inputs)
        est = replace(est, tier=TIER)
    else:
        latency, fps = _latency_metrics(est, predictor, inputs)
    overhead = overhead_of(spec)
    ram = flash = None
    if overhead is not None:
        memory = estimate_memory(features, coords.precision, profile, coords.runtime, overhead)
        ram, flash = _memory_metrics(memory, predictor, inputs)
    detail = {**{f"term_ms:{k}": round(v, 4) for k, v in est.terms_ms.items()}, **est.factors}
    return Prediction(coordinates=coords, power_mode=mode, target=spec.id if spec else None, tier=est.tier,
                      latency_ms=latency, fps=fps, peak_ram_mb=ram, flash_mb=flash,
                      energy_mj=_energy(profile, mode, latency, predictor, inputs), detail=detail)  # fmt: skip


class RowError(BaseModel):
    """A table row that could not be placed (unknown device, model or runtime, a unit the device lacks ...)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    line: int
    coordinates: Coordinates
    error: str

    def summary(self) -> dict[str, Any]:
        """The JSON view: the row's line, coordinates and the one-line reason."""
        return {"line": self.line, "coordinates": self.coordinates.model_dump(mode="json"), "error": self.error}


def predict_table(path: Path, params: LatencyParams | None = None) -> list[Prediction | RowError]:
    """Predict every row of a table laid out like ``published-latency.csv``, in order, as the
    calibration compares them: in the power mode the ``board`` column names, if any, and on the
    publisher's own graph when ``model_variant`` states its MACs.

    A row that cannot be placed comes back as a :class:`RowError` in its place; the other rows are
    still predicted.

    Raises:
        BadInputError: the file is malformed (missing, no rows, a missing column, a value that is not
            a coordinate); the message names the line.
    """
    params = params or load_params()
    out: list[Prediction | RowError] = []
    for line, row in enumerate(read_table(path), start=2):
        try:
            prediction = _predict_row(row, params)
        except CalibrationFileError:
            raise  # the home's file, not this row: the whole table would fail the same way
        except BadInputError as exc:
            out.append(RowError(line=line, coordinates=row.coords, error=f"{path.name} line {line}: {exc}"))
            continue
        out.append(prediction.model_copy(update={"observed_latency_ms": row.latency_ms}))
    return out


def _predict_row(row: TableRow, params: LatencyParams) -> Prediction:
    profile = check_coordinates(row.coords, params)
    mode = power_mode_named_in(row.board, profile)
    features = with_published_macs(
        model_features(row.coords.model, row.coords.input_size), variant_gmacs(row.model_variant)
    )
    spec = target_for(row.coords.runtime, row.coords.unit)
    mode_name = mode.name if mode else profile.default_power_mode
    return predict_resolved(row.coords, profile, mode_name, spec, params, features)
