"""Where ``--on`` measures: here (``local``), one board over its link, or the fleet (``fleet``), parsed in one place.

:func:`resolve_on` turns the option into a :class:`Where`; :func:`measure_on` measures cells there and stores
them as they arrive, so ``bench``, ``compare`` and ``recommend --measure`` share one dispatch. Ray is imported
only when ``--on fleet`` is asked for (through :mod:`edgekit.fleet`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from edgekit.bench.host import HostFingerprint
from edgekit.bench.run import BenchConfig, BenchResult, BenchSpec
from edgekit.devices._board_main import PREPARERS
from edgekit.devices.board import Board
from edgekit.devices.config import resolve_board
from edgekit.devices.remote_bench import bench_on_board
from edgekit.errors import BadInputError
from edgekit.profiles import get_profile
from edgekit.store import ResultsStore

FLEET = "fleet"
FLEET_RUNTIMES = tuple(PREPARERS)  # what recommend --measure times on fleet boards: runners that load ONNX files


@dataclass(frozen=True)
class Fleet:
    """The fleet's boards of ``profiles`` (every cell is measured once per profile)."""

    address: str | None
    profiles: tuple[str, ...]


Where = Board | Fleet | None  # None: this machine
Done = Callable[[BenchResult, bool], None]  # (result, found in the store)


@dataclass
class Measured:
    """What :func:`measure_on` produced: results in cell order (with whether the store had them), one line per
    failed cell, and the fingerprint of where a single board measured (None here or on the fleet)."""

    results: list[tuple[BenchResult, bool]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    fingerprint: HostFingerprint | None = None


def resolve_on(on: str, profile: str | None = None, address: str | None = None, *,
               need_profile: bool = True) -> Where:  # fmt: skip
    """``--on``: ``local`` (None), ``fleet``, an ``ssh://`` link or a devices.yaml board.

    For ``fleet``, ``profile`` is ``P[,P...]`` (default: every profile with a board in the cluster) and
    ``address`` the cluster (default: the one ``edgekit fleet up`` recorded).

    Raises:
        BadInputError: ``--address`` without ``--on fleet``; a profile no fleet board advertises; see
            :func:`~edgekit.devices.config.resolve_board`.
        MissingDependencyError: ``fleet`` without Ray installed, or no cluster answers.
    """
    if on != FLEET:
        if address is not None:
            raise BadInputError("--address names the Ray cluster of --on fleet; pass --on fleet with it")
        board = resolve_board(on, profile, need_profile=need_profile)
        if board is None and profile is not None and need_profile:
            raise BadInputError("--profile names the device an --on board stands for; pass --on LINK with it")
        return board
    from edgekit.fleet import fleet_boards

    wanted = tuple(dict.fromkeys(get_profile(p.strip()).id for p in (profile or "").split(",") if p.strip()))
    boards = fleet_boards(address, set(wanted))  # every wanted profile has an alive board
    profiles = wanted or tuple(sorted(boards))
    if not profiles:
        raise BadInputError("no board in the fleet advertises edgekit-device:<profile>; add one with "
                            "`edgekit fleet join --address ... --profile ...`")  # fmt: skip
    return Fleet(address=address, profiles=profiles)


def describe(where: Where) -> str:
    """Where cells are measured, for messages."""
    if where is None:
        return "this machine"
    if isinstance(where, Fleet):
        return f"the fleet ({', '.join(where.profiles)})"
    return f"board {where.label.id}"


def measure_on(where: Where, specs: list[BenchSpec], config: BenchConfig, *, store: ResultsStore | None = None,
               fresh: bool = False, threads: int | None = None, on_done: Done | None = None) -> Measured:  # fmt: skip
    """Measure ``specs`` where ``--on`` says (on the fleet: each spec on a board of every profile), reusing the
    store's results unless ``fresh``; each result is stored as it arrives and passed to ``on_done``.

    Args:
        threads: on one board, its intra-op threads (None: the board's usable cores); the fleet and this machine
            use each spec's threads.

    Raises:
        BadInputError: a cell the board cannot time (before anything runs).
        BoardError: a board that cannot be reached or probed (before any cell).
        MissingDependencyError: no Ray or no cluster (fleet).
    """
    if where is None:
        from edgekit.compare.cached import bench_cached

        return Measured(results=bench_cached(specs, config, store, fresh, on_done=on_done))
    if isinstance(where, Board):
        run = bench_on_board(where, specs, config, store=store, fresh=fresh, threads=threads, on_done=on_done)
        return Measured([r for r in run.results if r is not None], run.failures, run.check.fingerprint)
    return _on_fleet(where, specs, config, store, fresh, on_done)


def _on_fleet(where: Fleet, specs: list[BenchSpec], config: BenchConfig, store: ResultsStore | None, fresh: bool,
              on_done: Done | None) -> Measured:  # fmt: skip
    from edgekit.fleet import CellOutcome, FleetCell, run_sweep

    cells = [FleetCell(spec=spec, profile=p) for spec in specs for p in where.profiles]

    def _arrived(outcome: CellOutcome) -> None:
        if outcome.result is not None and on_done is not None:
            on_done(outcome.result, outcome.record.status == "stored")

    report = run_sweep(cells, config, store=store, address=where.address, fresh=fresh, on_outcome=_arrived)
    done = Measured()
    for outcome in report.outcomes:
        if outcome.result is None:
            done.failures.append(f"{outcome.cell.label}: {outcome.record.error}")
        else:
            done.results.append((outcome.result, outcome.record.status == "stored"))
    return done
