"""A stored measurement on a profile replaces the prediction there and is labelled measured, naming the board."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from edgekit.bench import BenchConfig, BenchResult, BenchSpec, BoardLabel, HostFingerprint, fingerprint, summarize
from edgekit.bench.host import usable_cores
from edgekit.measured import ProfileMeasurements
from edgekit.recommend import Constraints, recommend
from edgekit.store import ResultsStore

# Ten batch-1 runs of 8..17 ms: p50 12.5 ms, p90 (numpy linear) 16.1 ms.
SAMPLES_S = [0.008 + 0.001 * i for i in range(10)]
# What a Raspberry Pi 5 reports (the fields of a row measured there: 4 Cortex-A76 cores, aarch64, 8 GB).
PI5 = HostFingerprint(cpu_model="Cortex-A76", logical_cores=4, physical_cores=4, usable_cores=4,
                      memory_total_mb=8063.0, os="Linux-6.6.51+rpt-rpi-2712", machine="aarch64", python="3.11.2",
                      tool_versions={"onnxruntime": "1.20.1", "numpy": "1.26.4"})  # fmt: skip
PI5_BOARD = BoardLabel(id="pi5", profile="raspberry-pi-5", link="ssh://pi@192.168.1.40")


def _row(model: str, variant: str, runtime: str, *, threads: int | None = None, samples: list[float] = SAMPLES_S,
         board: BoardLabel | None = None, where: HostFingerprint | None = None) -> BenchResult:  # fmt: skip
    where = where or fingerprint()
    spec = BenchSpec(source={"kind": "model", "name": model}, runtime=runtime, batch=1,
                     threads=threads or where.usable_cores, model=model, variant=variant)  # fmt: skip
    stats = summarize(samples, batch_size=1, warmup_iters=1, measured_seconds=sum(samples))
    return BenchResult(spec=spec, device="cpu", stats=stats, settings={}, runtime_versions={"onnxruntime": "1"},
                       fingerprint=where, board=board, config=BenchConfig(), config_hash="h", run_id="r",
                       timestamp=datetime.now(timezone.utc))  # fmt: skip


def _stored(store: ResultsStore, model: str, variant: str, runtime: str, threads: int | None = None) -> None:
    store.put(_row(model, variant, runtime, threads=threads or usable_cores()))


def _on_pi5(store: ResultsStore, model: str, samples: list[float] = SAMPLES_S) -> None:
    store.put(_row(model, "fp32", "onnxruntime-cpu", samples=samples, board=PI5_BOARD, where=PI5))


def test_lookup_returns_measured_p50_with_p90_as_pessimistic_end(tmp_path: Path) -> None:
    # setup
    store = ResultsStore(tmp_path / "r.sqlite")
    _stored(store, "mobilenet_v2", "fp32", "onnxruntime-cpu")
    # execute
    found = ProfileMeasurements(store).latency("host", "mobilenet_v2", "fp32", "onnxruntime-cpu")
    # assert
    assert found is not None
    assert found.latency_ms.value == pytest.approx(12.5)
    assert found.latency_ms.provenance.kind == "measured"
    assert found.latency_ms.provenance.host == fingerprint().id
    assert found.latency_ms.provenance.note.startswith("measured on this machine; batch 1")
    assert found.fps.provenance.interval.low == pytest.approx(1000 / 16.1)
    assert found.fps.value == pytest.approx(80.0)


def test_other_recipes_threads_and_untimeable_targets_are_not_matched(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "r.sqlite")
    _stored(store, "mobilenet_v2", "fp32", "onnxruntime-cpu", threads=usable_cores() + 1)
    lookup = ProfileMeasurements(store)
    assert lookup.latency("host", "mobilenet_v2", "fp32", "onnxruntime-cpu") is None  # other thread count
    assert lookup.latency("host", "mobilenet_v2", "int8", "onnxruntime-cpu") is None
    assert lookup.latency("host", "mobilenet_v2", "fp32", "ncnn") is None  # ncnn rows time converted files


def test_the_store_filters_on_the_boards_profile(tmp_path: Path) -> None:
    # setup: one row here, one on a Pi 5, one on a board labelled host (a loopback link)
    store = ResultsStore(tmp_path / "r.sqlite")
    _stored(store, "resnet18", "fp32", "onnxruntime-cpu")
    _on_pi5(store, "resnet18")
    loopback = BoardLabel(id="loop", profile="host", link="ssh://me@127.0.0.1:2222")
    store.put(_row("resnet18", "fp32", "onnxruntime-cpu", board=loopback))
    # execute / assert
    assert [r.board for r in store.query_profile("raspberry-pi-5", batch=1)] == [PI5_BOARD]
    assert [r.board for r in store.query_profile("host", here=fingerprint().id)] == [None, loopback]
    assert [r.board for r in store.query_profile("host")] == [loopback]  # without `here`, no local row
    assert store.query_profile("raspberry-pi-5", model="mobilenet_v2") == []
    with pytest.raises(ValueError, match="unknown filter"):
        store.query_profile("host", board="x")


def test_recommend_on_a_boards_profile_uses_its_measurement_and_names_the_board(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # setup: a home of its own (other tests predict on the Pi 5); resnet18 measured there at 40..49 ms
    monkeypatch.setenv("EDGEKIT_HOME", str(tmp_path))
    _on_pi5(ResultsStore(), "resnet18", samples=[0.040 + 0.001 * i for i in range(10)])
    # execute
    pi5 = recommend(Constraints(ram_mb=512, fps=1), profile="raspberry-pi-5", models=["resnet18"],
                    targets=["onnxruntime-cpu"])  # fmt: skip
    rk3588 = recommend(Constraints(ram_mb=512, fps=1), profile="rk3588", models=["resnet18"],
                       targets=["onnxruntime-cpu"])  # fmt: skip
    host = recommend(Constraints(ram_mb=512, fps=1), profile="host", models=["resnet18"], targets=["onnxruntime-cpu"])
    # assert: the Pi 5 fp32 candidate carries the measured p50 and p90, and the board's name
    (measured,) = [c for c in pi5.feasible if c.recipe == "fp32"]
    assert measured.prediction.tier == "measured"
    assert measured.prediction.latency_ms.value == pytest.approx(44.5)
    assert measured.pessimistic_fps == pytest.approx(1000 / 48.1)
    assert measured.prediction.latency_ms.provenance.host == PI5.id
    assert measured.summary()["latency_note"].startswith("measured on raspberry-pi-5 (pi5 via ssh://pi@192.168.1.40)")
    (int8,) = [c for c in pi5.feasible if c.recipe == "int8"]
    assert int8.prediction.tier != "measured"  # only fp32 was measured
    # ... and neither another board's profile nor this host picks it up
    assert all(c.prediction.tier != "measured" for c in rk3588.feasible + rk3588.rejected)
    assert all(c.prediction.tier != "measured" for c in host.feasible + host.rejected)


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
