"""Sweeps on a real three-node Ray cluster: every cell on a board of its profile, one at a time per board."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import pytest

from edgekit.bench import ArtifactSource, BenchConfig, BenchSpec, fingerprint
from edgekit.errors import EdgekitError
from edgekit.fileio import sha256_file
from edgekit.fleet import CELL_RECORD_KIND, CellRecord, FleetCell, run_sweep
from edgekit.fleet._artifacts import CACHE_KIND, materialize
from edgekit.fleet._sweepfile import load_sweep, sweep_cells
from edgekit.paths import cache_dir
from edgekit.store import ResultsStore
from tests.fleet.conftest import JETSON, PI, LocalFleet, sweep_yaml

pytestmark = pytest.mark.fleet


def _records(store: ResultsStore, sweep_id: str) -> list[CellRecord]:
    return [CellRecord.model_validate_json(p) for p in store.records(CELL_RECORD_KIND, sweep_id)]


def test_every_cell_runs_on_a_board_of_its_profile_one_at_a_time(fleet: LocalFleet, tiny_models: list[Path],
                                                                  tmp_path: Path) -> None:  # fmt: skip
    plan = load_sweep(sweep_yaml(tmp_path / "sweep.yaml", tiny_models, [PI, JETSON]))
    cells = sweep_cells(plan)
    assert len(cells) == 8  # 2 models x 2 recipes x 2 profiles
    store = ResultsStore(tmp_path / "results.sqlite")
    arrived: list[str] = []
    report = run_sweep(cells, plan.protocol.config(), store=store, on_outcome=lambda o: arrived.append(o.cell.label))
    assert report.failed == []
    assert sorted(arrived) == sorted(c.label for c in cells)  # each outcome reported once, as it came
    rows = store.query()
    assert len(rows) == 8
    here = fingerprint().id
    for row in rows:
        assert row.board is not None
        assert row.board.id in fleet.boards[row.board.profile]  # a node holding edgekit-device:<profile>
        assert row.board.link == f"ray://{row.board.id}"
        assert row.fingerprint.id == here  # measured on the node: this host
        assert row.stats.iters >= 5
        assert row.stats.measured_seconds >= 0.2
    assert sorted((r.spec.model, r.spec.variant, r.board.profile) for r in rows) == sorted(
        itertools.product(["tiny0", "tiny1"], ["fp16", "fp32"], [JETSON, PI])
    )
    records = _records(store, report.sweep_id)
    assert len(records) == 8
    assert {r.status for r in records} == {"measured"}
    for node in {r.node_id for r in records}:
        spans = sorted((r.started_at, r.ended_at) for r in records if r.node_id == node)
        assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(spans)), spans
    # Both boards measured at once at some point: the sweep was not serial.
    pi = [(r.started_at, r.ended_at) for r in records if r.profile == PI]
    jetson = [(r.started_at, r.ended_at) for r in records if r.profile == JETSON]
    assert any(a0 < b1 and b0 < a1 for (a0, a1), (b0, b1) in itertools.product(pi, jetson))

    # Shipped by digest: each node keeps the bytes under their sha256 (the nodes share this host's cache here).
    for path in {Path(c.spec.source.path) for c in cells}:
        digest = sha256_file(path)
        assert sha256_file(cache_dir(CACHE_KIND) / digest / path.name) == digest

    again = run_sweep(cells, plan.protocol.config(), store=store)
    assert [o.record.status for o in again.outcomes] == ["stored"] * 8
    assert store.count() == 8  # nothing measured twice
    assert [o.result.run_id for o in again.outcomes] == [o.result.run_id for o in report.outcomes]


def test_a_cell_the_board_cannot_load_fails_once_and_is_not_retried(fleet: LocalFleet, tmp_path: Path) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx file")
    spec = BenchSpec(source=ArtifactSource(path=broken), runtime="onnxruntime-cpu", threads=1, model="broken")
    store = ResultsStore(tmp_path / "results.sqlite")
    config = BenchConfig(warmup=0, min_iters=1, min_seconds=0.0)
    report = run_sweep([FleetCell(spec=spec, profile=PI)], config, store=store)
    (outcome,) = report.failed
    assert outcome.record.attempts == 1  # edgekit's own error: the next board would fail the same way
    assert outcome.record.node_id == fleet.boards[PI][0]
    assert "broken.onnx" in outcome.record.error
    assert store.count() == 0
    assert [CellRecord.model_validate_json(p).status for p in store.records(CELL_RECORD_KIND)] == ["failed"]


class _Bytes:
    """Stands in for Ray's object store: the 'ref' is the bytes themselves."""

    @staticmethod
    def get(value: bytes) -> bytes:
        return value


def test_shipped_bytes_with_another_digest_are_refused_and_nothing_is_cached() -> None:
    claimed = "0" * 64
    with pytest.raises(EdgekitError, match="arrived with sha256"):
        materialize(_Bytes(), [("model.onnx", claimed, [b"tampered"])])
    assert not (cache_dir(CACHE_KIND) / claimed).exists()
    good = b"model bytes"
    digest = hashlib.sha256(good).hexdigest()
    path = materialize(_Bytes(), [("model.onnx", digest, [good])])
    assert path.read_bytes() == good
    assert materialize(_Bytes(), [("model.onnx", digest, [b"never fetched again"])]) == path  # cached by digest
