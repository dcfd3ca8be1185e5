"""The SQLite results store: keys, newest-wins lookups, --fresh, and two concurrent writers."""

from __future__ import annotations

import multiprocessing
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from edgekit.bench import BenchConfig, BenchResult, BenchSpec, fingerprint, summarize
from edgekit.compare.cached import bench_cached, key_of
from edgekit.store import MeasurementKey, ResultsStore, default_store_path

ROWS_PER_WRITER = 40


def make_result(model: str = "resnet18", runtime: str = "onnxruntime-cpu", batch: int = 1, p50_s: float = 0.01,
                config_hash: str = "c0ffee") -> BenchResult:  # fmt: skip
    """A synthetic result (no measuring): what a bench run would store."""
    spec = BenchSpec(source={"kind": "model", "name": model}, runtime=runtime, batch=batch, threads=2, model=model)
    stats = summarize([p50_s] * 3, batch_size=batch, warmup_iters=1, measured_seconds=3 * p50_s)
    return BenchResult(spec=spec, device="cpu", stats=stats, settings={}, runtime_versions={"onnxruntime": "1"},
                       fingerprint=fingerprint(), config=BenchConfig(), config_hash=config_hash, run_id="r",
                       timestamp=datetime.now(timezone.utc))  # fmt: skip


def test_default_location_follows_edgekit_home(edgekit_home: Path) -> None:
    assert default_store_path() == edgekit_home / "results.sqlite"


def test_put_and_latest_round_trip(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "r.sqlite")
    first, second = make_result(p50_s=0.01), make_result(p50_s=0.02)
    store.put(first)
    store.put(second)
    latest = store.latest(MeasurementKey.of(first))
    assert latest == second  # the newer row wins; nothing is overwritten
    assert store.count() == 2
    assert store.latest(MeasurementKey.of(make_result(batch=8))) is None
    assert store.latest(MeasurementKey.of(make_result(config_hash="other"))) is None


def test_query_by_key_columns(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "r.sqlite")
    for model in ("resnet18", "mobilenet_v2"):
        for batch in (1, 8):
            store.put(make_result(model=model, batch=batch))
    assert [r.spec.batch for r in store.query(model="mobilenet_v2")] == [1, 8]
    assert len(store.query(batch=8)) == 2
    assert len(store.query()) == 4
    with pytest.raises(ValueError, match=r"unknown filter\(s\) \['modle'\]"):
        store.query(modle="resnet18")


def test_wal_mode_and_schema_version(tmp_path: Path) -> None:
    ResultsStore(tmp_path / "r.sqlite")
    with sqlite3.connect(tmp_path / "r.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1


def test_records_of_other_kinds(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "r.sqlite")
    store.put_record("accuracy", "k1", '{"top1": 0.5}')
    store.put_record("accuracy", "k1", '{"top1": 0.6}')
    assert store.latest_record("accuracy", "k1") == '{"top1": 0.6}'
    assert store.latest_record("accuracy", "k2") is None
    store.put_record("fleet-cell", "sweep1", "a")
    store.put_record("accuracy", "k2", '{"top1": 0.7}')
    store.put_record("fleet-cell", "sweep2", "b")
    assert store.records("fleet-cell") == ["a", "b"]  # oldest first
    assert store.records("fleet-cell", "sweep2") == ["b"]
    assert store.records("accuracy", "k1") == ['{"top1": 0.5}', '{"top1": 0.6}']
    assert ResultsStore(tmp_path / "missing.sqlite", read_only=True).records("fleet-cell") == []


def _writer(path: str, name: str, barrier: multiprocessing.synchronize.Barrier) -> None:
    store = ResultsStore(Path(path))
    barrier.wait()  # start writing at the same moment as the other process
    for index in range(ROWS_PER_WRITER):
        store.put(make_result(model=name, batch=index + 1))


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    # setup: two spawned processes (fresh interpreters, like two CLI runs) share one database
    path = tmp_path / "shared.sqlite"
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    writers = [context.Process(target=_writer, args=(str(path), name, barrier)) for name in ("a", "b")]
    # execute
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
    # assert
    assert [w.exitcode for w in writers] == [0, 0]
    store = ResultsStore(path)
    assert store.count() == 2 * ROWS_PER_WRITER
    for name in ("a", "b"):
        assert sorted(r.spec.batch for r in store.query(model=name)) == list(range(1, ROWS_PER_WRITER + 1))


def test_bench_cached_measures_once_then_reuses_until_fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edgekit.compare import cached

    measured: list[int] = []

    def fake_bench_many(specs: list[BenchSpec], config: BenchConfig, on_done=None) -> list[BenchResult]:  # noqa: ANN001
        results = []
        for spec in specs:
            measured.append(spec.batch)
            result = make_result(model=spec.model, batch=spec.batch).model_copy(
                update={"spec": spec, "config_hash": key_of(spec, config).config_hash}
            )
            on_done(result)
            results.append(result)
        return results

    monkeypatch.setattr(cached, "bench_many", fake_bench_many)
    store = ResultsStore(tmp_path / "r.sqlite")
    specs = [BenchSpec(source={"kind": "model", "name": "resnet18"}, runtime="torch-cpu", batch=b, threads=2,
                       model="resnet18") for b in (1, 8)]  # fmt: skip
    config = BenchConfig(min_iters=5)
    first = bench_cached(specs, config, store)
    assert [cached_flag for _, cached_flag in first] == [False, False]
    again = bench_cached(specs, config, store)
    assert [cached_flag for _, cached_flag in again] == [True, True]
    assert [r.run_id for r, _ in again] == [r.run_id for r, _ in first]
    assert measured == [1, 8]
    bench_cached(specs, config, store, fresh=True)
    assert measured == [1, 8, 1, 8]
    assert store.count() == 4
    bench_cached(specs, BenchConfig(min_iters=6), store)  # another protocol is another key
    assert measured == [1, 8, 1, 8, 1, 8]
