"""Run cells on the fleet: one Ray task per cell, needing its profile's board resource (so a board measures one
cell at a time); results stored on the driver as they arrive; a lost node's cells retried by Ray on another board
of the profile, and recorded failed once retries run out or no board of the profile is left.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import Field

from edgekit.bench._spec import BenchConfig
from edgekit.bench.run import BenchResult, config_hash
from edgekit.bench.runners import ArtifactSource
from edgekit.errors import BadInputError, summarize_exception
from edgekit.fleet._artifacts import ShippedFile, ship
from edgekit.fleet._cell import CELL_RECORD_KIND, CellOutcome, CellRecord, FleetCell
from edgekit.fleet._cluster import saved_address
from edgekit.fleet._executor import execute_cell
from edgekit.fleet._ray import alive_boards, connect, import_ray, resource_name
from edgekit.fleet._tracker import TRACKER_PREFIX, Tracker
from edgekit.store import ResultsStore
from edgekit.vocab import StrictModel

DEFAULT_MAX_RETRIES = 2  # Ray re-runs a cell whose node or worker died at most this often
DEFAULT_ORPHAN_GRACE_S = 10.0  # cells of a profile with no alive board wait this long for one to (re)join
_POLL_S = 0.5


class SweepReport(StrictModel):
    """Every cell's outcome, in the order given, and the sweep's wall time."""

    sweep_id: str
    outcomes: list[CellOutcome]
    wall_seconds: float
    boards: dict[str, list[str]] = Field(description="profile -> node ids alive at the start")

    @property
    def failed(self) -> list[CellOutcome]:
        """Cells without a result."""
        return [o for o in self.outcomes if o.failed]

    def results(self) -> list[BenchResult | None]:
        """One result per cell (``None`` where it failed), in the order of the cells."""
        return [o.result for o in self.outcomes]


@dataclass
class BoardProgress:
    """One board's share of a sweep so far."""

    node_id: str
    profile: str
    done: int = 0
    failed: int = 0
    running: str | None = None


@dataclass
class SweepProgress:
    """What a live view shows: per board, and the totals."""

    total: int
    boards: dict[str, BoardProgress] = field(default_factory=dict)
    done: int = 0
    failed: int = 0
    stored: int = 0


Progress = Callable[[SweepProgress], None]


def fleet_boards(address: str | None, profiles: set[str]) -> dict[str, list[str]]:
    """Connect and return the alive boards by profile; every profile in ``profiles`` must have one.

    Raises:
        MissingDependencyError: no Ray, or no cluster answers.
        BadInputError: a profile without a board.
    """
    boards = alive_boards(connect(address or saved_address()))
    check_boards(boards, profiles)
    return boards


def check_boards(boards: dict[str, list[str]], profiles: set[str]) -> None:
    """Every profile in ``profiles`` has at least one alive board.

    Raises:
        BadInputError: a profile without a board.
    """
    missing = sorted(profiles - set(boards))
    if missing:
        have = ", ".join(f"{p} ({len(n)})" for p, n in sorted(boards.items())) or "none"
        raise BadInputError(f"no board in the fleet advertises {', '.join(resource_name(p) for p in missing)} "
                            f"(boards by profile: {have}); add one with `edgekit fleet join --profile "
                            f"{missing[0]} --address ...`")  # fmt: skip


def stored_result(store: ResultsStore, cell: FleetCell, config: BenchConfig) -> BenchResult | None:
    """The newest stored measurement of this cell on any board of its profile, or None."""
    s = cell.spec
    rows = store.query_profile(cell.profile, model=s.model, variant=s.variant, runtime=s.runtime, batch=s.batch,
                               threads=s.threads, config_hash=config_hash(s, config))  # fmt: skip
    return rows[-1] if rows else None


def run_sweep(
    cells: list[FleetCell],
    config: BenchConfig,
    *,
    store: ResultsStore | None = None,
    address: str | None = None,
    fresh: bool = False,
    max_retries: int = DEFAULT_MAX_RETRIES,
    orphan_grace_s: float = DEFAULT_ORPHAN_GRACE_S,
    max_in_flight: int | None = None,
    on_progress: Progress | None = None,
    on_outcome: Callable[[CellOutcome], None] | None = None,
) -> SweepReport:
    """Measure every cell on a board of its profile; skip those the store already holds (unless ``fresh``).

    Args:
        cells: what to measure; artifact sources are shipped once by digest.
        config: the measurement protocol (part of each result's config hash).
        store: where results and cell records go as they arrive (default: ``$EDGEKIT_HOME``'s store).
        address: the Ray cluster (default: the one ``edgekit fleet up`` recorded, else ``auto``).
        max_retries: Ray's bound on re-running a cell whose node or worker died.
        orphan_grace_s: how long cells of a profile whose last board died wait before they are recorded failed.
        max_in_flight: at most this many cells submitted at once (1: one cell at a time, for comparison).
        on_progress: called with a :class:`SweepProgress` about twice a second.
        on_outcome: called with each cell's :class:`CellOutcome` as it is known (found in the store, measured,
            or failed), in the order they arrive.

    Raises:
        MissingDependencyError: Ray is not installed, or no cluster answers.
        BadInputError: a profile without a board.
    """
    boards = fleet_boards(address, {c.profile for c in cells})
    ray = import_ray()
    store = store or ResultsStore()
    driver = _Driver(ray, cells, config, store, boards, (max_retries, orphan_grace_s, on_progress, on_outcome))
    return driver.run(fresh, max_in_flight or len(cells) or 1)


class _Driver:
    """One sweep's state on the workstation."""

    def __init__(self, ray: Any, cells: list[FleetCell], config: BenchConfig, store: ResultsStore,
                 boards: dict[str, list[str]], policy: tuple[int, float, Progress | None, Any]) -> None:  # fmt: skip
        self.ray, self.cells, self.config, self.store, self.boards = ray, cells, config, store, boards
        self.max_retries, self.grace, self.on_progress, self.on_outcome = policy
        self.sweep_id = uuid.uuid4().hex[:12]
        self.outcomes: dict[int, CellOutcome] = {}
        self.pending: dict[Any, int] = {}  # object ref -> cell index
        self.orphaned_since: dict[str, float] = {}
        self.progress = SweepProgress(total=len(cells))
        for profile, nodes in boards.items():
            for node in nodes:
                self.progress.boards[node] = BoardProgress(node_id=node, profile=profile)

    def run(self, fresh: bool, max_in_flight: int) -> SweepReport:
        start = time.monotonic()
        todo = [i for i in range(len(self.cells)) if fresh or not self._found_stored(i)]
        if todo:
            self._measure(todo, max_in_flight)
        ordered = [self.outcomes[i] for i in range(len(self.cells))]
        return SweepReport(sweep_id=self.sweep_id, outcomes=ordered, wall_seconds=time.monotonic() - start,
                           boards=self.boards)  # fmt: skip

    def _found_stored(self, index: int) -> bool:
        cell = self.cells[index]
        hit = stored_result(self.store, cell, self.config)
        if hit is None:
            return False
        record = CellRecord(sweep_id=self.sweep_id, cell=cell.label, profile=cell.profile, status="stored",
                            node_id=hit.board.id if hit.board else None, run_id=hit.run_id)  # fmt: skip
        self._outcome(index, CellOutcome(cell=cell, record=record, result=hit))
        self.progress.stored += 1
        return True

    def _outcome(self, index: int, outcome: CellOutcome) -> None:
        self.outcomes[index] = outcome
        if self.on_outcome is not None:
            self.on_outcome(outcome)

    def _measure(self, todo: list[int], max_in_flight: int) -> None:
        ray = self.ray
        labels = [c.label for c in self.cells]
        here = ray.get_runtime_context().get_node_id()
        pin = ray.util.scheduling_strategies.NodeAffinitySchedulingStrategy(node_id=here, soft=False)
        tracker = ray.remote(num_cpus=0)(Tracker).options(name=f"{TRACKER_PREFIX}{self.sweep_id}",
                                                          scheduling_strategy=pin).remote(labels)  # fmt: skip
        self.tracker = tracker
        task = ray.remote(execute_cell)
        shipped = self._ship(todo)
        queue = list(todo)
        try:
            while queue or self.pending:
                while queue and len(self.pending) < max_in_flight:
                    index = queue.pop(0)
                    self.pending[self._submit(task, index, shipped)] = index
                self._wait_some()
        except BaseException:
            for ref in self.pending:  # Ctrl-C: nothing half-written; what was stored stays
                ray.cancel(ref, force=True)
            raise
        finally:
            ray.kill(tracker)

    def _ship(self, todo: list[int]) -> dict[str, list[ShippedFile]]:
        """Each distinct artifact file's bytes into the object store once."""
        shipped: dict[str, list[ShippedFile]] = {}
        for index in todo:
            source = self.cells[index].spec.source
            if isinstance(source, ArtifactSource) and str(source.path) not in shipped:
                shipped[str(source.path)] = ship(self.ray, source)
        return shipped

    def _submit(self, task: Any, index: int, shipped: dict[str, list[ShippedFile]]) -> Any:
        cell = self.cells[index]
        source = cell.spec.source
        files = shipped.get(str(source.path)) if isinstance(source, ArtifactSource) else None
        options = task.options(resources={resource_name(cell.profile): 1}, num_cpus=0, max_retries=self.max_retries,
                               retry_exceptions=False, name=cell.label)  # fmt: skip
        return options.remote(index, cell.model_dump_json(), self.config.model_dump_json(), files, self.tracker)

    def _wait_some(self) -> None:
        ready, _ = self.ray.wait(list(self.pending), num_returns=1, timeout=_POLL_S)
        for ref in ready:
            self._collect(ref, self.pending.pop(ref))
        self._cancel_orphans()
        self._report_progress()

    def _collect(self, ref: Any, index: int) -> None:
        cell = self.cells[index]
        starts = self.ray.get(self.tracker.snapshot.remote())["starts"].get(index, [])
        base = {"sweep_id": self.sweep_id, "cell": cell.label, "profile": cell.profile, "attempts": len(starts),
                "nodes_tried": starts, "node_id": starts[-1] if starts else None}  # fmt: skip
        result = None
        try:
            out = self.ray.get(ref)
        except self.ray.exceptions.RayError as exc:
            record = CellRecord(**base, status="failed", error=_ray_error(exc, len(starts), self.max_retries))
        else:
            times = {"node_id": out["node_id"], "started_at": datetime.fromisoformat(out["started_at"]),
                     "ended_at": datetime.fromisoformat(out["ended_at"])}  # fmt: skip
            if "result" in out:
                result = BenchResult.model_validate_json(out["result"])
                self.store.put(result)  # as it arrives: a later failure cannot lose it
                record = CellRecord(**(base | times), status="measured", run_id=result.run_id)
            else:
                record = CellRecord(**(base | times), status="failed", error=out["error"])
        self.tracker.finished.remote(index)
        self.store.put_record(CELL_RECORD_KIND, self.sweep_id, record.model_dump_json())
        self._outcome(index, CellOutcome(cell=cell, record=record, result=result))
        board = self._board(record.node_id, cell.profile) if record.node_id else None
        self.progress.done += result is not None
        self.progress.failed += result is None
        if board is not None:
            board.done += result is not None
            board.failed += result is None

    def _cancel_orphans(self) -> None:
        """Cells whose profile has had no alive board for the grace period: cancelled, so recorded failed."""
        alive = alive_boards(self.ray)
        now = time.monotonic()
        for profile in {self.cells[i].profile for i in self.pending.values()}:
            if alive.get(profile):
                self.orphaned_since.pop(profile, None)
                continue
            since = self.orphaned_since.setdefault(profile, now)
            if now - since >= self.grace:
                for ref, index in list(self.pending.items()):
                    if self.cells[index].profile == profile:
                        self.ray.cancel(ref, force=False)

    def _report_progress(self) -> None:
        if self.on_progress is None:
            return
        running = self.ray.get(self.tracker.snapshot.remote())["running"]
        for node, (label, _) in running.items():
            self._board(node, label.rsplit(" @", 1)[-1])  # a board that joined during the sweep
        for node, board in self.progress.boards.items():
            board.running = running[node][0] if node in running else None
        self.on_progress(self.progress)

    def _board(self, node_id: str, profile: str) -> BoardProgress:
        return self.progress.boards.setdefault(node_id, BoardProgress(node_id=node_id, profile=profile))


def _ray_error(exc: Exception, attempts: int, max_retries: int) -> str:
    """One line for a cell Ray gave up on."""
    name = type(exc).__name__
    if name == "TaskCancelledError":
        return "no board of its profile was left to run it (cancelled after the grace period)"
    detail = summarize_exception(exc).split(". ")[0]
    return f"{name} after {attempts} start(s) (at most {max_retries + 1}): {detail}"
