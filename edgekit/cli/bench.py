"""`edgekit bench`: latency distribution, throughput and peak memory per model × runtime × batch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from edgekit.bench import BenchConfig, BenchResult
from edgekit.bench._spec import DEFAULT_MIN_SECONDS
from edgekit.bench.accuracy import BenchAccuracy, bench_accuracy
from edgekit.cli._common import (
    CellTimeout,
    FleetAddress,
    On,
    OnProfile,
    Wide,
    age,
    console,
    err_console,
    guarded,
    print_json,
    protocol,
    split_csv,
)
from edgekit.cli._progress import Quiet, Steps, Verbose
from edgekit.cli._table import Col, print_fitted
from edgekit.compare.plan import parse_batches, plan, resolve_runtimes
from edgekit.devices.board import Board
from edgekit.devices.on import Fleet, measure_on, resolve_on
from edgekit.devices.remote_bench import check_board_runtimes
from edgekit.errors import BadInputError
from edgekit.vocab import bad_input

DEVICES = ("cpu", "cuda")


def check_device(device: str) -> str:
    """Validate ``--device`` (one line, exit 2 on a typo)."""
    if device not in DEVICES:
        raise BadInputError(f"--device must be one of {', '.join(DEVICES)}, got {device!r}")
    return device


class LazyProgress:
    """A transient rich progress bar on stderr that appears once the first cell is done; until then a spinner
    names the step running (exporting, timing the first cell), see :class:`~edgekit.cli._progress.Steps`.

    Both are transient, so errors raised before any progress (bad data, unknown names) print as one clean line.
    """

    def __init__(self, what: str, quiet: bool = False, verbose: bool = False) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(),
                                  TextColumn("{task.description}"), TimeElapsedColumn(), console=err_console,
                                  transient=True)  # fmt: skip
        self._task = self._progress.add_task("", total=None)
        self._started = False
        self._quiet = quiet
        self._steps = Steps(what, quiet, verbose)

    def advance(self, done: int, total: int, label: str) -> None:
        """Show ``done`` of ``total`` cells, the last one labelled."""
        if not self._started:
            self._steps.pause()
            if not self._quiet:
                self._progress.start()
            self._started = True
        self._progress.update(self._task, completed=done, total=total, description=label)

    def __enter__(self) -> LazyProgress:
        self._steps.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._started and not self._quiet:
            self._progress.stop()
        self._steps.__exit__()


@guarded
def bench(
    targets: Annotated[
        list[str], typer.Argument(metavar="MODEL...", help="registry model names or model files (.onnx, OpenVINO .xml)")
    ],
    runtime: Annotated[
        list[str] | None,
        typer.Option(
            "--runtime",
            "-r",
            help="runner or family (torch, onnxruntime, openvino); repeat or comma-separate; default: all available",
        ),
    ] = None,
    device: Annotated[str, typer.Option(help="cpu or cuda")] = "cpu",
    batch: Annotated[str, typer.Option(metavar="N[,N...]", help="batch sizes, e.g. 1,8")] = "1",
    threads: Annotated[int | None, typer.Option(help="intra-op threads (default: usable cores)")] = None,
    weights: Annotated[
        str, typer.Option(help="imagenet | none | checkpoint path (latency does not depend on it)")
    ] = "none",
    input_size: Annotated[int | None, typer.Option("--input-size", help="input side in px")] = None,
    warmup: Annotated[int, typer.Option(help="untimed iterations first")] = 10,
    min_iters: Annotated[int, typer.Option(help="at least this many timed iterations")] = 30,
    min_seconds: Annotated[float, typer.Option(help="and at least this many seconds")] = DEFAULT_MIN_SECONDS,
    data: Annotated[
        Path | None,
        typer.Option(
            help="labelled image folder: top-1/top-5 of each model, kept for recommend (sorted class folders = outputs)"
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="accuracy over the first K images")] = None,
    per_class: Annotated[int | None, typer.Option("--per-class", help="or over N images per class")] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="re-measure even if the store has this result")] = False,
    on: On = "local",
    profile: OnProfile = None,
    address: FleetAddress = None,
    timeout: CellTimeout = 900.0,
    wide: Wide = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Measure p50/p90/p99 latency, throughput and peak RSS (one child process per model × runtime).

    Examples:

      edgekit bench mobilenet_v2 resnet18 -r onnxruntime,openvino --batch 1,8

      edgekit bench model.onnx --threads 4 --json

      edgekit bench mobilenet_v2 --on ssh://pi@pi5.local --profile raspberry-pi-5

      edgekit bench mobilenet_v2 -r onnxruntime --on fleet --profile raspberry-pi-5,jetson-orin-nano
    """
    where = resolve_on(on, profile, address)
    board = where if isinstance(where, Board) else None
    batches = parse_batches(batch)
    requested = split_csv(runtime) or (list(board.runtimes) if board else [])
    runtimes = resolve_runtimes(requested, check_device(device))  # type: ignore[arg-type]
    the_plan = plan(targets, runtimes, batches, threads, weights=weights, input_px=input_size)
    config = bench_config(warmup, min_iters, min_seconds, timeout)
    if board is not None:
        check_board_runtimes(the_plan.specs)  # before the model exports and accuracy runs
    done: list[BenchResult] = []
    progress = LazyProgress("bench", quiet, verbose)
    cells = len(the_plan.specs) * (len(where.profiles) if isinstance(where, Fleet) else 1)

    def _on_done(result: BenchResult, cached: bool) -> None:
        done.append(result)
        progress.advance(len(done), cells, _label(result))

    with progress:
        accuracy = bench_accuracy(targets, data, weights, limit, per_class, threads, input_size)  # fails before timing
        measured = measure_on(where, the_plan.specs, config, fresh=fresh, threads=threads, on_done=_on_done)
    results, failures = measured.results, measured.failures
    if as_json:
        print_json({"results": [_json_row(r, cached) for r, cached in results], "accuracy": accuracy.figures,
                    "accuracy_notes": accuracy.notes, "failures": failures})  # fmt: skip
    else:
        if results:
            _print_table(results, the_plan.skipped, config, wide)
        _print_accuracy(accuracy)
    for line in failures:
        err_console.print(Text(f"error: {line}"), soft_wrap=True)
    if failures:
        raise typer.Exit(1)


def _print_accuracy(accuracy: BenchAccuracy) -> None:
    for model, metrics in accuracy.figures.items():
        console.print(
            Text(
                f"{model}: "
                + ", ".join(m.format(4) for m in metrics)
                + (f" — {metrics[0].provenance.note}" if metrics[0].provenance.note else "")
            )
        )
    for note in accuracy.notes:
        console.print(Text(note))


def bench_config(warmup: int, min_iters: int, min_seconds: float, timeout: float = 900.0) -> BenchConfig:
    """Build the protocol settings, turning a bad value into one clear line."""
    from pydantic import ValidationError

    try:
        return BenchConfig(warmup=warmup, min_iters=min_iters, min_seconds=min_seconds, timeout_s=timeout)
    except ValidationError as exc:
        raise bad_input(exc, limit=1, options=True) from None


def _label(result: BenchResult) -> str:
    at = f" @{result.board.profile}" if result.board else ""
    return f"{result.spec.model} {result.spec.runtime} b{result.spec.batch}{at}"


def _json_row(result: BenchResult, cached: bool) -> dict[str, object]:
    return {"result": result.model_dump(mode="json"), "metrics": [m.model_dump(mode="json") for m in result.metrics()],
            "cached": cached}  # fmt: skip


# Column importance on a narrow terminal (higher stays longer).
_COLUMNS = [Col("model"), Col("runtime", runtimes=True), Col("batch", justify="right", no_wrap=True),
            *(Col(h, p, justify="right", no_wrap=True) for h, p in (("p50", 99), ("p90", 70), ("p99", 40),
              ("CV%", 50), ("ms/img", 80), ("img/s", 75), ("RSS MB", 60), ("iters", 30)))]  # fmt: skip
_STORED = Col("measured", 92, no_wrap=True)
_BOARD = Col("board", 96, no_wrap=True)


def _print_table(results: list[tuple[BenchResult, bool]], skipped: list[str], config: BenchConfig,
                 wide: bool = False) -> None:  # fmt: skip
    from rich import box

    threads = sorted({r.spec.threads for r, _ in results})
    stored = any(cached for _, cached in results)
    several = len({r.board.id for r, _ in results if r.board is not None}) > 1  # the fleet: a row per cell and board
    rows = []
    for r, cached in results:
        st = r.stats
        variant = "" if r.spec.variant in ("fp32", "file") else f"/{r.spec.variant}"
        rows.append([
            r.spec.model + variant, r.spec.runtime, str(r.spec.batch), f"{st.latency_ms_p50:.2f}",
            f"{st.latency_ms_p90:.2f}", f"{st.latency_ms_p99:.2f}", f"{100 * st.cv:.1f}",
            f"{st.latency_ms_per_image_p50:.2f}", f"{st.throughput_ips:.1f}",
            f"{r.memory.peak_rss_mb:.0f}" if r.memory else "—", str(st.iters),
            *([age(r.timestamp) if cached else "now"] if stored else []),
            *([f"{r.board.profile} {r.board.id[:8]}" if r.board else "—"] if several else []),
        ])  # fmt: skip
    caption = "measured: reused from the results store, with its age (--fresh re-measures)" if stored else None
    print_fitted(console, [*_COLUMNS, *([_STORED] if stored else []), *([_BOARD] if several else [])], rows, wide,
                 title=f"edgekit bench — measured ({protocol(config)}), {'/'.join(map(str, threads))} threads; "
                 "ms per batch call", caption=caption, box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False,
                 collapse_padding=True)  # fmt: skip
    fp = results[0][0].fingerprint
    versions = ", ".join(f"{k} {v}" for k, v in sorted(fp.tool_versions.items()))
    wheres = {(r.board.id if r.board else None, r.fingerprint.id): r for r, _ in results}  # each board once
    for r in wheres.values():
        board, fp = r.board, r.fingerprint
        where = f"measured on {board.profile} ({board.id}, {board.link}), board" if board else "host"
        console.print(Text(f"{where} {fp.id}: {fp.cpu_model}, {fp.usable_cores} usable cores, {fp.os}, "
                           f"GPU {fp.gpu_name or 'none'}"))  # fmt: skip
    console.print(Text(f"versions: {versions}"))
    for line in skipped:
        console.print(Text(f"skipped {line}"))
    busy = [r.load_average_1m for r, _ in results if r.contended and r.load_average_1m is not None]
    if busy:
        err_console.print(
            Text(
                f"warning: the host was busy while measuring (1-minute load average up to "
                f"{max(busy):.1f} on {fp.usable_cores} cores); latencies include contention"
            )
        )
