"""Measured figures for the ``host`` profile: what ``bench``/``compare`` stored beats a prediction.

For the machine edgekit runs on, the results store may already hold a measurement of the very
candidate ``recommend`` considers (same model, recipe, runtime, batch 1, all usable cores, this host
fingerprint). That figure is used instead of the predicted one and labelled *measured*. Its
pessimistic end is the measured p90: nine frames in ten meet it on this host.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgekit.bench.host import fingerprint, usable_cores
from edgekit.bench.runners import get_runner
from edgekit.metrics import Interval, Metric
from edgekit.runtimes import target_timing
from edgekit.store import ResultsStore
from edgekit.targets import get_target

HOST_PROFILE = "host"


def runner_of_target(target: str) -> str | None:
    """The bench runner that measures exactly what ``target`` deploys on this host, or None.

    Derived from the runtime declarations: the runner that times the target's conversion, when
    it also loads the recipe's ONNX file itself (onnxruntime, OpenVINO; ncnn rows time converted
    files, not recipes).
    """
    timing = target_timing(get_target(target))
    if timing is None:
        return None
    return timing[0] if ".onnx" in get_runner(timing[0]).artifact_suffixes else None


_MS_PER_S = 1000.0


@dataclass(frozen=True)
class MeasuredLatency:
    """Latency and FPS at batch 1 as *measured* metrics (interval = [p50, p90] in latency)."""

    latency_ms: Metric
    fps: Metric


class HostMeasurements:
    """Looks up this host's stored batch-1 measurements, once per (model, recipe, runtime)."""

    def __init__(self, store: ResultsStore | None = None) -> None:
        self._store = store or ResultsStore(read_only=True)  # recommend only reads: a read-only home works
        self._host = fingerprint().id
        self._threads = usable_cores()
        self._runners: dict[str, str | None] = {}

    def latency(self, model: str, recipe: str, target: str) -> MeasuredLatency | None:
        """The newest matching measurement, or ``None`` when the store has none (or the target is not timeable)."""
        if target not in self._runners:
            self._runners[target] = runner_of_target(target)
        runner = self._runners[target]
        if runner is None:
            return None
        rows = self._store.query(model=model, variant=recipe, runtime=runner, batch=1, threads=self._threads,
                                 fingerprint=self._host)  # fmt: skip
        if not rows:
            return None
        newest = rows[-1]
        p50, p90 = newest.stats.latency_ms_p50, newest.stats.latency_ms_p90
        latency = newest.metric("latency_ms_p50")
        provenance = latency.provenance.model_copy(update={"interval": Interval(low=p50, high=p90)})
        fps_provenance = provenance.model_copy(update={"interval": Interval(low=_MS_PER_S / p90, high=_MS_PER_S / p50)})
        return MeasuredLatency(
            latency_ms=Metric(name="latency_ms", value=p50, unit="ms", provenance=provenance),
            fps=Metric(name="fps", value=_MS_PER_S / p50, unit="1/s", provenance=fps_provenance),
        )
