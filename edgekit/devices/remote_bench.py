"""``bench --on BOARD``: measure cells on a board with the local protocol and store them under its fingerprint.

The ONNX artifact is built here as for a local run, shipped once (by sha256), and timed on the board by
the runner; each result is a :class:`~edgekit.bench.BenchResult` with the *board's* fingerprint and its
:class:`~edgekit.bench.BoardLabel`, stored as soon as it is measured. A failed cell is one line and
does not stop the others, and the cells measured before it are kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from pydantic import ValidationError

from edgekit.bench._inputs import onnx_input_shape
from edgekit.bench.run import BenchConfig, BenchResult, BenchSpec, config_hash
from edgekit.bench.runners import ArtifactSource, get_runner
from edgekit.devices._board_main import PREPARERS
from edgekit.devices.board import Board
from edgekit.devices.check import RUNNER_TOOL, BoardCheck, probe
from edgekit.errors import BadInputError, BoardError, BoardProtocolError
from edgekit.profiles import get_profile
from edgekit.store import MeasurementKey, ResultsStore

_CHECK_KIND = "board-check"  # results-store records of each board's last check, keyed by board id


@dataclass
class BoardRun:
    """What a run on a board produced: results in spec order (None where the cell failed) and one line per failure."""

    check: BoardCheck
    results: list[tuple[BenchResult, bool] | None] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def check_board_runtimes(specs: list[BenchSpec]) -> None:
    """Refuse, before anything runs, cells the board runner cannot time.

    Raises:
        BadInputError: a runtime with no board runner, or a source that is not a file.
    """
    for spec in specs:
        if spec.runtime not in PREPARERS:
            raise BadInputError(f"{spec.runtime} cannot be timed on a board yet; board runtimes: "
                                f"{', '.join(PREPARERS)} (pass --runtime onnxruntime)")  # fmt: skip
        if not isinstance(spec.source, ArtifactSource) or Path(spec.source.path).suffix.lower() != ".onnx":
            raise BadInputError(f"{spec.model}: a board is sent ONNX files (the board converts nothing)")


def save_check(check: BoardCheck, store: ResultsStore) -> None:
    """Keep a board's check as its last one (``edgekit devices`` shows it)."""
    store.put_record(_CHECK_KIND, check.board, check.model_dump_json())


def last_check(board_id: str, store: ResultsStore) -> BoardCheck | None:
    """The newest stored check of ``board_id``."""
    payload = store.latest_record(_CHECK_KIND, board_id)
    return BoardCheck.model_validate_json(payload) if payload else None


def bench_on_board(board: Board, specs: list[BenchSpec], config: BenchConfig, *, store: ResultsStore | None = None,
                   fresh: bool = False, threads: int | None = None,
                   on_done: Callable[[BenchResult, bool], None] | None = None) -> BoardRun:  # fmt: skip
    """Measure ``specs`` on ``board`` (reusing stored results of the same board fingerprint unless ``fresh``).

    Args:
        threads: intra-op threads; None uses the board's usable cores (not this machine's).

    Raises:
        BadInputError: a cell the board cannot time (before anything runs).
        BoardError: the board cannot be reached or probed (before any cell).
    """
    check_board_runtimes(specs)
    store = store or ResultsStore()
    # One look into the board's cache ships the runner and every artifact (already there: nothing is copied).
    names = board.ship(sorted({Path(s.source.path) for s in specs}))  # type: ignore[union-attr]
    check = probe(board, get_profile(board.label.profile), ship=False)
    save_check(check, store)
    specs = [s.model_copy(update={"threads": threads or check.fingerprint.usable_cores}) for s in specs]
    run = BoardRun(check=check, results=[None] * len(specs))
    todo = []
    for index, spec in enumerate(specs):
        hit = None if fresh else _stored(store, spec, config, check)
        if hit is not None:
            run.results[index] = (hit, True)
            if on_done:
                on_done(hit, True)
        else:
            todo.append(index)
    for index in todo:
        spec = specs[index]
        try:
            result = _measure_cell(board, check, spec, config, names[Path(spec.source.path)])  # type: ignore[union-attr]
        except BoardError as exc:
            run.failures.append(f"{spec.model} {spec.runtime} batch {spec.batch} on {board.label.id}: {exc}")
            continue
        store.put(result)
        run.results[index] = (result, False)
        if on_done:
            on_done(result, False)
    return run


def measure_one(board: Board, spec: BenchSpec, config: BenchConfig) -> BenchResult:
    """Measure one cell on ``board`` as ``bench --on`` does (ship, probe, time), without storing it: a fleet node
    measuring for a board that cannot run Ray hands the result to the sweep, which stores it.

    Raises:
        BadInputError: a cell the board cannot time.
        BoardError: the link, the probe or the runner failed.
    """
    check_board_runtimes([spec])
    path = Path(spec.source.path)  # type: ignore[union-attr]
    names = board.ship([path])
    check = probe(board, get_profile(board.label.profile), ship=False)
    return _measure_cell(board, check, spec, config, names[path])


def _stored(store: ResultsStore, spec: BenchSpec, config: BenchConfig, check: BoardCheck) -> BenchResult | None:
    key = MeasurementKey(model=spec.model, variant=spec.variant, runtime=spec.runtime, batch=spec.batch,
                         threads=spec.threads, fingerprint=check.fingerprint.id,
                         config_hash=config_hash(spec, config))  # fmt: skip
    hit = store.latest(key)
    return hit if hit is not None and hit.board is not None and hit.board.id == check.board else None


def _measure_cell(board: Board, check: BoardCheck, spec: BenchSpec, config: BenchConfig, name: str) -> BenchResult:
    source = spec.source
    assert isinstance(source, ArtifactSource)  # check_board_runtimes refused the rest
    shape = onnx_input_shape(Path(source.path), spec.batch, source.input_px)
    request = {
        "runtime": spec.runtime,
        "artifact": f"{board.cache_dir.rstrip('/')}/{name}",
        "shape": list(shape),
        "threads": spec.threads,
        "config": {"warmup": config.warmup, "min_iters": config.min_iters, "min_seconds": config.min_seconds},
    }
    answer = board.call("bench", request, config.timeout_s)
    runner = get_runner(spec.runtime)
    versions = {p: v for p, v in check.fingerprint.tool_versions.items() if p in (RUNNER_TOOL, *runner.packages)}
    try:
        return BenchResult(
            spec=spec, device=runner.device, stats=answer["stats"], memory=answer["memory"],
            settings=answer["settings"], load_average_1m=answer["load_average_1m"], runtime_versions=versions,
            fingerprint=check.fingerprint, board=board.label, config=config, config_hash=config_hash(spec, config),
            run_id=uuid.uuid4().hex[:12], timestamp=datetime.now(timezone.utc),
        )  # fmt: skip
    except (KeyError, ValidationError) as exc:  # never store a number from a reply we do not understand
        raise BoardProtocolError(f"{board.label.link}: the board runner's result is malformed ({exc!r:.120})") from None
