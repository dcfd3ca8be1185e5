"""A board lost mid-sweep: its running cell moves to another board of the profile, or is recorded failed when no
board of the profile is left; everything measured before stays in the store; the exit status is 1."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edgekit.cli.main import app
from edgekit.fleet import CELL_RECORD_KIND, CellRecord
from edgekit.fleet._cluster import status
from edgekit.store import ResultsStore
from tests.fleet.conftest import LocalFleet, sweep_yaml

pytestmark = pytest.mark.fleet
RK, CORAL = "rk3588", "coral-dev-board"  # profiles no other test's boards use


def _kill_when_busy(fleet: LocalFleet, store: ResultsStore, victims: list[str], killed: list[tuple[str, str]]) -> None:
    """Remove each victim node once it has a measured cell in the store and is running the next one."""
    deadline = time.monotonic() + 60
    while victims and time.monotonic() < deadline:
        measured_on = {r.board.id for r in store.query() if r.board is not None}
        running = {b.node_id: b.running for b in status(fleet.cluster.address).boards if b.running}
        for node in [v for v in victims if v in measured_on and v in running]:
            fleet.cluster.remove_node(fleet.nodes[node], allow_graceful=False)
            killed.append((node, running[node]))
            victims.remove(node)
        time.sleep(0.05)


def test_a_killed_board_costs_only_its_own_cells(fleet: LocalFleet, tiny_models: list[Path], tmp_path: Path,
                                                 edgekit_home: Path) -> None:  # fmt: skip
    rk_a, rk_b = fleet.add_board(RK), fleet.add_board(RK)
    coral = fleet.add_board(CORAL)
    store = ResultsStore()  # the CLI's store ($EDGEKIT_HOME)
    before = {r.run_id for r in store.query()}
    killed: list[tuple[str, str]] = []
    killer = threading.Thread(target=_kill_when_busy, args=(fleet, store, [rk_a, coral], killed))
    sweep = sweep_yaml(tmp_path / "sweep.yaml", tiny_models, [RK, CORAL], min_seconds=0.6)
    killer.start()
    result = CliRunner().invoke(app, ["sweep", str(sweep), "--address", fleet.cluster.address,
                                      "--wait-for-boards", "1"])  # fmt: skip
    killer.join()
    assert {node for node, _ in killed} == {rk_a, coral}
    assert result.exit_code == 1

    records = [CellRecord.model_validate_json(p) for p in store.records(CELL_RECORD_KIND)]
    records = [r for r in records if r.profile in (RK, CORAL)]
    assert len(records) == 8
    rows = [r for r in store.query() if r.run_id not in before]
    by_run = {r.run_id: r for r in rows}
    # rk3588: the cell running on the killed board started again on the other one; all four measured.
    rk = [r for r in records if r.profile == RK]
    assert {r.status for r in rk} == {"measured"}
    (moved,) = [r for r in rk if r.attempts > 1]
    assert moved.nodes_tried == [rk_a, rk_b]
    assert moved.node_id == rk_b
    assert by_run[moved.run_id].board.id == rk_b
    assert moved.cell == dict(killed)[rk_a]
    # coral-dev-board: what it measured before it died is kept; the rest failed (no board of the profile left).
    coral_records = [r for r in records if r.profile == CORAL]
    measured = [r for r in coral_records if r.status == "measured"]
    failed = [r for r in coral_records if r.status == "failed"]
    assert measured
    assert failed
    assert len(measured) + len(failed) == 4
    assert all(by_run[r.run_id].board.id == coral for r in measured)
    assert all("no board of its profile was left" in r.error for r in failed)
    assert dict(killed)[coral] in {r.cell for r in failed}
    assert len(rows) == 4 + len(measured)  # every measured cell is in the store
    failed_lines = [line for line in result.stderr.splitlines() if line.startswith("failed: ")]
    assert sorted(failed_lines) == sorted(f"failed: {r.cell}: {r.error}" for r in failed)
