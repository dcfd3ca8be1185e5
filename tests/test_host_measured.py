"""On the host profile, a stored measurement replaces the prediction and is labelled measured."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from edgekit.bench import BenchConfig, BenchResult, BenchSpec, fingerprint, summarize
from edgekit.bench.host import usable_cores
from edgekit.host_measured import HostMeasurements
from edgekit.recommend import Constraints, recommend
from edgekit.store import ResultsStore

# Ten batch-1 runs of 8..17 ms: p50 12.5 ms, p90 (numpy linear) 16.1 ms.
SAMPLES_S = [0.008 + 0.001 * i for i in range(10)]


def _stored(store: ResultsStore, model: str, variant: str, runtime: str, threads: int | None = None) -> None:
    spec = BenchSpec(source={"kind": "model", "name": model}, runtime=runtime, batch=1,
                     threads=threads or usable_cores(), model=model, variant=variant)  # fmt: skip
    stats = summarize(SAMPLES_S, batch_size=1, warmup_iters=1, measured_seconds=sum(SAMPLES_S))
    store.put(BenchResult(spec=spec, device="cpu", stats=stats, settings={}, runtime_versions={"onnxruntime": "1"},
                          fingerprint=fingerprint(), config=BenchConfig(), config_hash="h", run_id="r",
                          timestamp=datetime.now(timezone.utc)))  # fmt: skip


def test_lookup_returns_measured_p50_with_p90_as_pessimistic_end(tmp_path: Path) -> None:
    # setup
    store = ResultsStore(tmp_path / "r.sqlite")
    _stored(store, "mobilenet_v2", "fp32", "onnxruntime-cpu")
    # execute
    found = HostMeasurements(store).latency("mobilenet_v2", "fp32", "onnxruntime-cpu")
    # assert
    assert found is not None
    assert found.latency_ms.value == pytest.approx(12.5)
    assert found.latency_ms.provenance.kind == "measured"
    assert found.latency_ms.provenance.host == fingerprint().id
    assert found.fps.provenance.interval.low == pytest.approx(1000 / 16.1)
    assert found.fps.value == pytest.approx(80.0)


def test_other_recipes_threads_and_untimeable_targets_are_not_matched(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "r.sqlite")
    _stored(store, "mobilenet_v2", "fp32", "onnxruntime-cpu", threads=usable_cores() + 1)
    lookup = HostMeasurements(store)
    assert lookup.latency("mobilenet_v2", "fp32", "onnxruntime-cpu") is None  # other thread count
    assert lookup.latency("mobilenet_v2", "int8", "onnxruntime-cpu") is None
    assert lookup.latency("mobilenet_v2", "fp32", "ncnn") is None  # ncnn rows time converted files, not recipes


def test_recommend_on_host_uses_the_measurement_and_says_so() -> None:
    # setup: the session store (EDGEKIT_HOME is a temporary folder in tests)
    _stored(ResultsStore(), "squeezenet1_1", "fp32", "openvino-cpu")
    # execute
    result = recommend(Constraints(ram_mb=512, fps=70), profile="host", models=["squeezenet1_1"],
                       targets=["openvino-cpu"])  # fmt: skip
    # assert: p90 16.1 ms → 62 FPS pessimistic < 70 → rejected on the measured figure, not a prediction
    (fp32,) = [c for c in result.rejected + result.feasible if c.recipe == "fp32"]
    assert fp32.prediction.tier == "measured"
    assert fp32.prediction.latency_ms.provenance.kind == "measured"
    assert fp32.reasons == ["FPS: 62.11 (pessimistic) < 70"]
