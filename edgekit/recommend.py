"""Recommend: which model, in which form, on which toolchain, fits a device budget.

Candidates = models × recipes (fp32 / fp16 / int8) × profiles × their targets × compute units.
Each is predicted (:mod:`edgekit.predict`) and checked against the constraints with the
*pessimistic* end of every interval (P6: a hard constraint never rests on a central estimate):
RAM (the budget, and the device's usable RAM), FPS, power (the fastest power mode within the
budget) and top-1: measured on a labelled folder when the results store holds a figure for that model and
recipe (``optimize``/``compare``/``bench`` with ``--data``, with the data's digest and image count; an own
model's under its :meth:`~edgekit.models._source.ModelSource.record_name`), published otherwise, none for an own
model without a measurement. A measurement already in the results store on the candidate's profile
(``edgekit bench``/``compare`` here for ``host``, ``bench --on BOARD`` for a board's profile) replaces the
predicted latency and is labelled *measured* (:mod:`edgekit.measured`).
Feasible candidates are ranked by that top-1, then by their
pessimistic FPS; rejected ones carry every reason, and the closest misses are listed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from edgekit._callable import callable_module
from edgekit.errors import BadInputError
from edgekit.measured import ProfileMeasurements
from edgekit.metrics import Metric, Provenance
from edgekit.models import get_model_info
from edgekit.models._source import is_registry_name, parse_source
from edgekit.predict import Coordinates, Prediction, load_params, model_features, predictor_id
from edgekit.predict._predict import predict_resolved
from edgekit.profiles import DeviceProfile, PowerMode, get_profile, load_profiles
from edgekit.store import AccuracyRecord, ResultsStore
from edgekit.targets import get_target
from edgekit.units import parse_bytes, parse_fps, parse_power

log = logging.getLogger(__name__)  # steps for the CLI's progress line (edgekit.cli._progress)

# The classic edge CNNs: small enough that a cold run exports them in seconds.
DEFAULT_MODELS = ("mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small", "shufflenet_v2_x1_0",
                  "squeezenet1_1", "efficientnet_b0", "mnasnet1_0", "resnet18")  # fmt: skip
# Recipes (edgekit.recipes) by the precision they deploy at.
RECIPES = {"fp32": "fp32", "fp16": "fp16", "int8": "int8"}
CLOSEST_MISSES = 5
# (runtime, unit, precision) a target's YAML cannot rule out, because its precisions are per target
# and not per compute unit. ncnn: every published int8 row is a CPU row and its GPU rows are fp16
# (edgekit/data/published/README.md, caveat 1), so int8 through ncnn means the CPU.
UNIT_PRECISION_GAPS = frozenset({("ncnn", "gpu", "int8")})


class Constraints(BaseModel):
    """What the user's deployment must satisfy.

    Sizes and rates may be given as the command line takes them: ``Constraints(ram="512MB", fps="30",
    power="5W")`` is ``Constraints(ram_mb=488.3, fps=30, power_w=5)`` (a size needs its unit).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    ram_mb: float = Field(gt=0, description="RAM budget in MB (2**20 bytes)")
    fps: float = Field(gt=0, description="required frames per second, single stream")
    power_w: float | None = Field(None, gt=0, description="board power budget in W")
    min_top1: float | None = Field(None, ge=0, le=100, description="minimum top-1 % (measured, else published)")

    @model_validator(mode="before")
    @classmethod
    def _with_units(cls, data: Any) -> Any:
        """``ram="512MB"``, ``power="5W"``, ``fps="30fps"``: parsed as ``--ram``/``--power``/``--fps`` are."""
        return _parsed_units(data) if isinstance(data, dict) else data

    @classmethod
    def from_text(cls, ram: str, fps: str | float, power: str | None = None,
                  min_top1: float | None = None) -> Constraints:  # fmt: skip
        """The budget as the command line takes it; a bad unit raises :class:`BadInputError` (one line).

        Raises:
            BadInputError: a size, rate or power that does not parse.
        """
        return cls.model_validate(_parsed_units({"ram": ram, "fps": fps, "power": power, "min_top1": min_top1}))


def _parsed_units(data: dict[str, Any]) -> dict[str, Any]:
    """``ram``/``power`` text into ``ram_mb``/``power_w``, ``fps`` text into a number (units as the CLI's)."""
    data = dict(data)
    if "ram" in data:
        data["ram_mb"] = parse_bytes(str(data.pop("ram"))).mib
    if "power" in data:
        power = data.pop("power")
        data["power_w"] = None if power is None else parse_power(str(power)).watts
    if isinstance(data.get("fps"), str):
        data["fps"] = parse_fps(data["fps"]).fps
    return data


class Margins(BaseModel):
    """Headroom left by the pessimistic figures (negative = violated)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ram_mb: float
    fps: float
    power_w: float | None = None


class Candidate(BaseModel):
    """One (model, recipe, profile, target, unit) with its predicted figures and verdict."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    recipe: str
    precision: str
    profile: str
    target: str
    unit: str
    power_mode: str
    prediction: Prediction
    top1: Metric | None = Field(None, description="top-1 of this model and recipe: measured if stored, else published")
    watts: float | None = None
    feasible: bool
    reasons: list[str] = Field(default_factory=list)
    margins: Margins
    miss: float = Field(0.0, description="how far from feasible: sum of log(need / budget) over violations")

    @property
    def pessimistic_fps(self) -> float:
        """The low end of the FPS interval."""
        interval = self.prediction.fps.provenance.interval
        return interval.low if interval else self.prediction.fps.value

    @property
    def pessimistic_ram_mb(self) -> float:
        """The high end of the peak-RAM interval."""
        ram = self.prediction.peak_ram_mb
        assert ram is not None  # candidates come from targets, which always give an overhead
        return ram.provenance.interval.high if ram.provenance.interval else ram.value

    def label(self) -> str:
        """``mobilenet_v2 int8 on rk3588 via ncnn (cpu)``."""
        return f"{self.model} {self.recipe} on {self.profile} via {self.target} ({self.unit})"

    def summary(self) -> dict:
        """The JSON view: predicted figures as ``{value, low, high}``, top-1 with its citation."""
        figures = self.prediction.summary()
        top1 = None
        if self.top1 is not None:
            top1 = {"value": self.top1.value, "kind": self.top1.provenance.kind,
                    "citation": self.top1.provenance.citation, "note": self.top1.provenance.note}  # fmt: skip
        return {
            "model": self.model, "recipe": self.recipe, "precision": self.precision, "profile": self.profile,
            "target": self.target, "unit": self.unit, "power_mode": self.power_mode, "tier": self.prediction.tier,
            "latency_ms": figures["latency_ms"], "latency_note": figures["interval_note"], "fps": figures["fps"],
            "peak_ram_mb": figures["peak_ram_mb"], "flash_mb": figures["flash_mb"], "energy_mj": figures["energy_mj"],
            "watts": self.watts, "top1_pct": top1,
            "feasible": self.feasible, "reasons": self.reasons, "margins": self.margins.model_dump(),
        }  # fmt: skip


class Recommendation(BaseModel):
    """The ranked feasible set, the best per device, and every rejection with its reasons."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    constraints: Constraints
    profiles: list[str]
    models: list[str]
    predictor: str
    feasible: list[Candidate]
    best_per_device: list[Candidate]
    rejected: list[Candidate]
    closest_misses: list[Candidate]

    @property
    def fits(self) -> bool:
        """True when at least one candidate satisfies every constraint."""
        return bool(self.feasible)

    def summary(self) -> dict:
        """The JSON view (every candidate, feasible or not, with its figures and reasons)."""
        return {
            "constraints": self.constraints.model_dump(), "profiles": self.profiles, "models": self.models,
            "predictor": self.predictor, "fits": self.fits, "candidates": len(self.feasible) + len(self.rejected),
            "feasible": [c.summary() for c in self.feasible],
            "best_per_device": [c.summary() for c in self.best_per_device],
            "closest_misses": [c.summary() for c in self.closest_misses],
            "rejected": [c.summary() for c in self.rejected],
        }  # fmt: skip

    def top_per_device(self, n: int = 1) -> list[Candidate]:
        """The ``n`` best feasible candidates of each profile, profiles in the order they were chosen."""
        return [c for profile in self.profiles for c in [f for f in self.feasible if f.profile == profile][:n]]

    def rejection_counts(self) -> dict[str, int]:
        """How many rejected candidates violate each constraint kind (RAM, FPS, Power, ...)."""
        counts: dict[str, int] = {}
        for candidate in self.rejected:
            for reason in candidate.reasons:
                kind = reason.split(":", 1)[0]
                counts[kind] = counts.get(kind, 0) + 1
        return counts


@dataclass(frozen=True)
class _Slot:
    profile: DeviceProfile
    target: object  # edgekit.targets.TargetSpec
    unit: str
    precision: str


def _unit_precisions(profile: DeviceProfile, unit: str) -> set[str]:
    if unit == "cpu":
        native_fp16 = any(c.fp16_flops_per_cycle for c in profile.cpu.clusters)
        return {"fp32", "int8", "fp16"} if native_fp16 else {"fp32", "int8"}
    accelerator = profile.accelerator(unit)
    return set(accelerator.precisions) if accelerator else set()


def slots(profiles: list[DeviceProfile], targets: list[str] | None) -> Iterator[_Slot]:
    """Every (profile, target, unit, precision) the data allows."""
    for profile in profiles:
        for target_id in profile.targets:
            if targets and target_id not in targets:
                continue
            spec = get_target(target_id)
            for unit in (u for u in spec.compute_units if u in profile.units):
                for precision in (p for p in spec.precisions if p in _unit_precisions(profile, unit)):
                    if (spec.runtime, unit, precision) not in UNIT_PRECISION_GAPS:
                        yield _Slot(profile, spec, unit, precision)


def published_top1(model: str, precision: str) -> Metric | None:
    """fp32/fp16: torchvision's fp32 figure; int8: torchvision's quantized-model figure, if any."""
    if not is_registry_name(model):
        return None  # an own model (file, arch@checkpoint, factory, timm:): nothing published, shown as "—"
    info = get_model_info(model)
    return info.top1_int8 if precision == "int8" else info.top1


def measured_top1(record: AccuracyRecord) -> Metric:
    """A stored accuracy record as a *measured* top-1 metric (its data folder, digest and image count in the note)."""
    digest = f", data sha256 {record.data_sha256[:12]}" if record.data_sha256 else ""
    note = f"measured top-1 of {record.model} {record.recipe} on {record.data} ({record.n_images} images{digest})"
    prov = Provenance(kind="measured", host=record.host, runtime=record.runtime, tool_versions=record.tool_versions,
                      n_samples=record.n_images, note=note)  # fmt: skip
    return Metric(name="top1_pct", value=record.top1_pct, unit="%", provenance=prov)


def record_name(model: str) -> str:
    """The results-store name of a ``--models`` entry: a registry name as it is, an own model by its files."""
    return model if is_registry_name(model) else parse_source(model).record_name()


class Top1Figures:
    """The top-1 shown for (model, recipe): the newest meaningful measurement in the store, else the published one."""

    def __init__(self, store: ResultsStore | None = None) -> None:
        self._store = store or ResultsStore(read_only=True)  # recommend only reads: a read-only home works
        self._seen: dict[tuple[str, str, str], Metric | None] = {}

    def get(self, model: str, recipe: str, precision: str) -> Metric | None:
        """Measured (random-init measurements are never used), else published, else None."""
        key = (model, recipe, precision)
        if key not in self._seen:
            record = self._store.latest_accuracy(record_name(model), recipe)
            usable = record is not None and record.meaningful
            self._seen[key] = measured_top1(record) if usable else published_top1(model, precision)
        return self._seen[key]


def choose_power_mode(profile: DeviceProfile, budget_w: float | None) -> tuple[PowerMode, str | None]:
    """The fastest mode within the budget (the default mode without one), or a reason none fits."""
    default = profile.power_mode()
    if budget_w is None:
        return default, None
    known = [m for m in profile.power_modes if m.watts is not None]
    if not known:
        return default, f"Power: no published draw for {profile.id} (budget {budget_w:g} W cannot be checked)"
    within = [m for m in known if m.watts.value <= budget_w]
    if not within:
        lowest = min(known, key=lambda m: m.watts.value)
        return lowest, f"Power: {lowest.watts.value:g} W ({lowest.name} mode) > {budget_w:g} W"
    return max(within, key=lambda m: m.clock_scale.value), None


def _mb(value: float) -> str:
    return f"{value:.3g} MB" if value < 1024 else f"{value / 1024:.3g} GB"


def _ram_check(need: float, profile: DeviceProfile, budget: float) -> tuple[str | None, float]:
    usable = profile.memory.ram_usable_mb.value
    limit = min(budget, usable)
    if need <= limit:
        return None, limit
    where = _mb(limit) if budget <= usable else f"{_mb(usable)} usable on {profile.id}"
    return f"RAM: needs {_mb(need)} > {where}", limit


def _storage_check(prediction: Prediction, profile: DeviceProfile) -> str | None:
    flash, storage = prediction.flash_mb, profile.memory.storage_mb
    if flash is None or storage is None or flash.value <= storage.value:
        return None
    return f"Storage: weights {_mb(flash.value)} > {_mb(storage.value)} flash on {profile.id}"


def _top1_check(top1: Metric | None, precision: str, minimum: float | None) -> str | None:
    if minimum is None:
        return None
    if top1 is None:
        return f"top-1: no measured or published {precision} figure to check against {minimum:g}%"
    return f"top-1: {top1.value:.1f}% < {minimum:g}%" if top1.value < minimum else None


def verdict(candidate: dict, profile: DeviceProfile, constraints: Constraints, power_reason: str | None) -> dict:
    """Check one predicted candidate; adds ``feasible``, ``reasons``, ``margins`` and ``miss``."""
    prediction: Prediction = candidate["prediction"]
    ram = prediction.peak_ram_mb
    need = ram.provenance.interval.high if ram and ram.provenance.interval else (ram.value if ram else math.inf)
    ram_reason, ram_limit = _ram_check(need, profile, constraints.ram_mb)
    fps_interval = prediction.fps.provenance.interval
    fps = fps_interval.low if fps_interval else prediction.fps.value
    fps_reason = f"FPS: {fps:.4g} (pessimistic) < {constraints.fps:g}" if fps < constraints.fps else None
    top1_reason = _top1_check(candidate["top1"], candidate["precision"], constraints.min_top1)
    storage_reason = _storage_check(prediction, profile)
    reasons = [r for r in (ram_reason, storage_reason, fps_reason, power_reason, top1_reason) if r]
    # Distance from feasible: log-ratio overshoot of RAM and FPS, one unit per other violated constraint.
    miss = max(0.0, math.log(need / ram_limit)) + max(0.0, math.log(constraints.fps / fps))
    miss += sum(1.0 for r in (storage_reason, power_reason, top1_reason) if r)
    watts = candidate["watts"]
    power_margin = constraints.power_w - watts if constraints.power_w is not None and watts is not None else None
    margins = Margins(ram_mb=ram_limit - need, fps=fps - constraints.fps, power_w=power_margin)
    return {**candidate, "feasible": not reasons, "reasons": reasons, "margins": margins, "miss": miss}


def _rank_key(c: Candidate) -> tuple[float, float]:
    return (-(c.top1.value if c.top1 else -1.0), -c.pessimistic_fps)


def resolve_profiles(profile: str | list[str] | None) -> list[DeviceProfile]:
    """``all``/None → every profile; otherwise the named ones (comma lists allowed).

    Raises:
        UnknownNameError: an unknown profile id.
    """
    if profile is None or profile == "all" or profile == ["all"]:
        return list(load_profiles().values())
    names = [profile] if isinstance(profile, str) else profile
    return [get_profile(p) for part in names for p in part.split(",") if p.strip()]


def recommend(
    constraints: Constraints, profile: str | list[str] | None = None, models: list[str] | None = None,
    targets: list[str] | None = None,
) -> Recommendation:  # fmt: skip
    """Predict every candidate and rank the feasible ones.

    Raises:
        UnknownNameError: unknown profile, model or target.
        BadInputError: no candidate could be formed (e.g. the targets run on none of the profiles).
    """
    chosen = resolve_profiles(profile)
    model_names = list(models or DEFAULT_MODELS)
    for name in targets or []:
        get_target(name)
    params = load_params()
    features = {m: model_features(m) for m in model_names}  # also validates the names
    store = ResultsStore(read_only=True)  # one store for both lookups; recommend only reads: a read-only home works
    measured = ProfileMeasurements(store)
    top1 = Top1Figures(store)
    evaluated = []
    for slot in slots(chosen, targets):
        mode, power_reason = choose_power_mode(slot.profile, constraints.power_w)
        for model in model_names:
            coords = Coordinates(device_id=slot.profile.id, model=model, runtime=slot.target.runtime,
                                 unit=slot.unit, precision=slot.precision)  # fmt: skip
            prediction = predict_resolved(coords, slot.profile, mode.name, slot.target, params, features[model])
            prediction = _prefer_measured(prediction, measured, slot.profile.id, model, RECIPES[slot.precision],
                                          slot.target.id)  # fmt: skip
            raw = {"model": model, "recipe": RECIPES[slot.precision], "precision": slot.precision,
                   "profile": slot.profile.id, "target": slot.target.id, "unit": slot.unit, "power_mode": mode.name,
                   "prediction": prediction, "top1": top1.get(model, RECIPES[slot.precision], slot.precision),
                   "watts": mode.watts.value if mode.watts else None}  # fmt: skip
            evaluated.append(Candidate(**verdict(raw, slot.profile, constraints, power_reason)))
    if not evaluated:
        raise BadInputError("no candidate: the chosen targets run on none of the chosen profiles")
    return _assemble(constraints, chosen, model_names, predictor_id(params), evaluated)


def recommend_for(
    ram: str | Constraints, fps: float | str | None = None, *, power: str | None = None,
    min_top1: float | None = None, profile: str | list[str] | None = None, models: list[str] | None = None,
    targets: list[str] | None = None,
) -> Recommendation:  # fmt: skip
    """``edgekit.recommend("512MB", fps=30, profile="rk3588")``: :func:`recommend` with the budget as the CLI takes it.

    ``ram`` may also be a :class:`Constraints` (then ``fps``, ``power`` and ``min_top1`` are not given).

    Raises:
        BadInputError: a size without a unit, or a constraint given twice; and what :func:`recommend` raises.
    """
    if isinstance(ram, Constraints):
        if fps is not None or power is not None or min_top1 is not None:
            raise BadInputError("give the budget once: a Constraints, or ram/fps/power/min_top1")
        return recommend(ram, profile, models, targets)
    if fps is None:
        raise BadInputError("recommend needs fps, e.g. edgekit.recommend('512MB', fps=30)")
    constraints = Constraints.from_text(ram, fps, power, min_top1)
    return recommend(constraints, profile, models, targets)


def _prefer_measured(prediction: Prediction, lookup: ProfileMeasurements, profile: str, model: str, recipe: str,
                     target: str) -> Prediction:  # fmt: skip
    """Replace predicted latency/FPS by a stored measurement on ``profile``, when there is one."""
    measured = lookup.latency(profile, model, recipe, target)
    if measured is None:
        return prediction
    return prediction.model_copy(update={"latency_ms": measured.latency_ms, "fps": measured.fps, "tier": "measured"})


def _assemble(constraints: Constraints, chosen: list[DeviceProfile], models: list[str], predictor: str,
              evaluated: list[Candidate]) -> Recommendation:  # fmt: skip
    feasible = sorted((c for c in evaluated if c.feasible), key=_rank_key)
    best: dict[str, Candidate] = {}
    for candidate in feasible:
        best.setdefault(candidate.profile, candidate)
    rejected = [c for c in evaluated if not c.feasible]
    return Recommendation(
        constraints=constraints, profiles=[p.id for p in chosen], models=models, predictor=predictor,
        feasible=feasible, best_per_device=list(best.values()), rejected=rejected,
        closest_misses=sorted(rejected, key=lambda c: c.miss)[:CLOSEST_MISSES],
    )  # fmt: skip


def export_candidates(candidates: list[Candidate], out_dir: Path, weights: str = "none") -> list:
    """Export each candidate through its target (build, pre-flight, convert and verify where installed).

    Returns:
        the targets' ``ExportResult`` per candidate, in order.

    Raises:
        the errors of :func:`edgekit.targets.export.export_for_target` (bad input, failed verification).
    """
    from edgekit.targets.export import export_for_target

    results = []
    for index, candidate in enumerate(candidates, start=1):
        log.info("exporting %d of %d: %s", index, len(candidates), candidate.label())
        folder = out_dir / f"{candidate.profile}-{candidate.model}-{candidate.recipe}-{candidate.target}"
        results.append(export_for_target(candidate.model, candidate.target, candidate.recipe, folder, weights=weights))
    return results


callable_module(__name__, "edgekit.recommend:recommend_for")  # edgekit.recommend("512MB", fps=30)
