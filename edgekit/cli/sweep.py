"""`edgekit sweep FILE.yaml`: the overnight run on the fleet — every cell on a board of its profile."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from edgekit.cli._common import console, err_console, guarded, print_json
from edgekit.errors import BadInputError
from edgekit.fleet import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_ORPHAN_GRACE_S,
    SweepProgress,
    SweepReport,
    fleet_boards,
    run_sweep,
)
from edgekit.fleet._sweepfile import load_sweep, sweep_cells


class LiveBoards:
    """Per-board progress (done / running / failed) redrawn on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        self._live = None
        if err_console.is_terminal:
            from rich.live import Live

            self._live = Live(console=err_console, transient=True, refresh_per_second=4)

    def update(self, progress: SweepProgress) -> None:
        """Redraw with the latest counts."""
        if self._live is None:
            return
        table = Table(title=f"sweep: {progress.done} done, {progress.failed} failed, {progress.stored} stored, "
                            f"of {progress.total}", title_justify="left")  # fmt: skip
        for header in ("board", "profile", "done", "failed", "running"):
            table.add_column(header)
        for board in progress.boards.values():
            running = board.running.rsplit(" @", 1)[0] if board.running else "—"  # the profile has its column
            table.add_row(board.node_id[:12], board.profile, str(board.done), str(board.failed), running)
        self._live.update(table)

    def __enter__(self) -> LiveBoards:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()


@guarded
def sweep(
    file: Annotated[Path, typer.Argument(help="sweep file: models, recipes, runtimes, profiles, batch, protocol")],
    address: Annotated[
        str | None, typer.Option(help="Ray cluster address (default: the one `edgekit fleet up` recorded)")
    ] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="measure again cells the store already holds")] = False,
    max_retries: Annotated[int, typer.Option(help="re-runs of a cell whose node died, at most")] = DEFAULT_MAX_RETRIES,
    wait_for_boards: Annotated[
        float, typer.Option(help="seconds cells wait when no board of their profile is left, then fail")
    ] = DEFAULT_ORPHAN_GRACE_S,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Run a sweep file on the fleet; cells already in the results store are skipped. Exit 1 if any cell failed."""
    if max_retries < 0 or wait_for_boards < 0:
        raise BadInputError("--max-retries and --wait-for-boards must not be negative")
    plan = load_sweep(file)
    fleet_boards(address, set(plan.profiles))  # a missing extra or absent board fails before any artifact is built
    cells = sweep_cells(plan)
    with LiveBoards() as live:
        report = run_sweep(cells, plan.protocol.config(), address=address, fresh=fresh, max_retries=max_retries,
                           orphan_grace_s=wait_for_boards, on_progress=live.update)  # fmt: skip
    if as_json:
        print_json({"sweep_id": report.sweep_id, "wall_seconds": report.wall_seconds,
                    "outcomes": [o.model_dump(mode="json") for o in report.outcomes]})  # fmt: skip
    else:
        print_report(report)
    for outcome in report.failed:
        # Plain print: one line per cell however narrow the terminal (rich would wrap it).
        print(f"failed: {outcome.cell.label}: {outcome.record.error}", file=sys.stderr)  # noqa: T201
    if report.failed:
        raise typer.Exit(1)


def print_report(report: SweepReport) -> None:
    """The final table: one row per cell, where it ran and its p50/p90."""
    table = Table(title=f"edgekit sweep {report.sweep_id} — measured on the fleet; * from the results store")
    for header in ("model", "variant", "runtime", "batch", "profile", "board", "p50 ms", "p90 ms", "starts"):
        table.add_column(header, justify="right" if header in ("batch", "p50 ms", "p90 ms", "starts") else "left")
    for o in report.outcomes:
        s, r = o.cell.spec, o.result
        p50 = f"{r.stats.latency_ms_p50:.3f}{'*' if o.record.status == 'stored' else ''}" if r else "failed"
        p90 = f"{r.stats.latency_ms_p90:.3f}" if r else "—"
        board = (o.record.node_id or "—")[:12]
        table.add_row(s.model, s.variant, s.runtime, str(s.batch), o.cell.profile, board, p50, p90,
                      str(o.record.attempts))  # fmt: skip
    console.print(table)
    measured = sum(o.record.status == "measured" for o in report.outcomes)
    stored = sum(o.record.status == "stored" for o in report.outcomes)
    console.print(Text(f"{measured} measured, {stored} from the store, {len(report.failed)} failed "
                       f"in {report.wall_seconds:.1f} s"))  # fmt: skip
