"""Measured figures per device profile: what ``bench``/``compare`` stored beats a prediction.

The results store may already hold a measurement of the very candidate ``recommend`` considers (same
model, recipe, runtime, batch 1, all usable cores of the machine it ran on) on the candidate's profile:

* on ``host``: rows measured on this machine (no board, this host's fingerprint), and rows of a board
  labelled ``host`` (``bench --on LINK --profile host``);
* on any other profile P: rows measured on a board labelled P (``BenchResult.board.profile == P``).

That figure is used instead of the predicted one and labelled *measured* (naming the board). Its
pessimistic end is the measured p90: nine frames in ten meet it on that machine. The same lookup feeds
``edgekit calibrate`` (:mod:`edgekit.predict._board_fit`).
"""

from __future__ import annotations

from dataclasses import dataclass

from edgekit.bench import BenchResult
from edgekit.bench.host import fingerprint
from edgekit.bench.runners import get_runner
from edgekit.metrics import Interval, Metric
from edgekit.runtimes import target_timing
from edgekit.store import ResultsStore
from edgekit.targets import get_target

HOST_PROFILE = "host"
_MS_PER_S = 1000.0


def runner_of_target(target: str) -> str | None:
    """The bench runner that measures exactly what ``target`` deploys, or None.

    Derived from the runtime declarations: the runner that times the target's conversion, when
    it also loads the recipe's ONNX file itself (onnxruntime, OpenVINO; ncnn rows time converted
    files, not recipes).
    """
    timing = target_timing(get_target(target))
    if timing is None:
        return None
    return timing[0] if ".onnx" in get_runner(timing[0]).artifact_suffixes else None


def measured_where(row: BenchResult) -> str:
    """``measured on raspberry-pi-5 (pi5 via ssh://pi@10.0.0.7)``, or ``measured on this machine``."""
    if row.board is None:
        return "measured on this machine"
    return f"measured on {row.board.profile} ({row.board.id} via {row.board.link})"


@dataclass(frozen=True)
class MeasuredLatency:
    """Latency and FPS at batch 1 as *measured* metrics (interval = [p50, p90] in latency)."""

    latency_ms: Metric
    fps: Metric


def measured_latency(row: BenchResult) -> MeasuredLatency:
    """A stored row as *measured* latency/FPS metrics, p90 as the pessimistic end, naming where it ran."""
    p50, p90 = row.stats.latency_ms_p50, row.stats.latency_ms_p90
    base = row.metric("latency_ms_p50").provenance
    provenance = base.model_copy(update={"interval": Interval(low=p50, high=p90),
                                         "note": f"{measured_where(row)}; {base.note}"})  # fmt: skip
    fps_provenance = provenance.model_copy(update={"interval": Interval(low=_MS_PER_S / p90, high=_MS_PER_S / p50)})
    return MeasuredLatency(
        latency_ms=Metric(name="latency_ms", value=p50, unit="ms", provenance=provenance),
        fps=Metric(name="fps", value=_MS_PER_S / p50, unit="1/s", provenance=fps_provenance),
    )


class ProfileMeasurements:
    """The stored batch-1, all-cores measurements per profile; one store query per profile, newest row wins."""

    def __init__(self, store: ResultsStore | None = None) -> None:
        self._store = store or ResultsStore(read_only=True)  # recommend only reads: a read-only home works
        self._rows: dict[str, dict[tuple[str, str, str], BenchResult]] = {}
        self._runners: dict[str, str | None] = {}

    def rows(self, profile: str) -> dict[tuple[str, str, str], BenchResult]:
        """{(model, variant, runtime): newest row} of the measurements standing for ``profile``."""
        if profile not in self._rows:
            here = fingerprint().id if profile == HOST_PROFILE else None
            newest: dict[tuple[str, str, str], BenchResult] = {}
            for row in self._store.query_profile(profile, here=here, batch=1):  # oldest first: later rows replace
                if row.spec.threads == row.fingerprint.usable_cores:  # all cores, as a deployment runs
                    newest[(row.spec.model, row.spec.variant, row.spec.runtime)] = row
            self._rows[profile] = newest
        return self._rows[profile]

    def latency(self, profile: str, model: str, recipe: str, target: str) -> MeasuredLatency | None:
        """The newest matching measurement, or ``None`` when the store has none (or the target is not timeable)."""
        if target not in self._runners:
            self._runners[target] = runner_of_target(target)
        runner = self._runners[target]
        rows = self.rows(profile) if runner is not None else {}
        row = rows.get((model, recipe, runner or ""))
        return measured_latency(row) if row is not None else None
