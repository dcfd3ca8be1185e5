"""Sweeps on a real three-node Ray cluster: every cell on a board of its profile, one at a time per board."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from edgekit.bench import fingerprint
from edgekit.fleet import CELL_RECORD_KIND, CellRecord, run_sweep
from edgekit.fleet._sweepfile import load_sweep, sweep_cells
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
    report = run_sweep(cells, plan.protocol.config(), store=store)
    assert report.failed == []
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

    again = run_sweep(cells, plan.protocol.config(), store=store)
    assert [o.record.status for o in again.outcomes] == ["stored"] * 8
    assert store.count() == 8  # nothing measured twice
    assert [o.result.run_id for o in again.outcomes] == [o.result.run_id for o in report.outcomes]
