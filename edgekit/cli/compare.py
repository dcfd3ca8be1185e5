"""`edgekit compare`: the seed's comparison table, every cell with its provenance, plus a report."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from edgekit.bench import BenchConfig
from edgekit.bench.host import usable_cores
from edgekit.cli._common import (
    CellTimeout,
    FleetAddress,
    On,
    OnProfile,
    Wide,
    age,
    console,
    guarded,
    print_json,
    protocol,
    split_csv,
)
from edgekit.cli._progress import Quiet, Verbose
from edgekit.cli._source import MODEL_HELP, InputSize, Labels, Layout, Mean, Std, triple
from edgekit.cli._table import Col, print_fitted
from edgekit.cli.bench import LazyProgress, bench_config, check_device
from edgekit.compare import CompareConfig, CompareRow, Comparison
from edgekit.compare import compare as run_compare
from edgekit.compare.plan import parse_batches, resolve_runtimes
from edgekit.devices.board import Board
from edgekit.devices.on import Fleet, resolve_on
from edgekit.errors import BadInputError
from edgekit.report import cell_text, used_columns, write_report
from edgekit.vocab import bad_input

DEFAULT_OUT = Path("edgekit-report")


@guarded
def compare(
    models: Annotated[
        list[str], typer.Argument(metavar="MODEL...", help=f"models: {MODEL_HELP}; e.g. resnet18 mobilenet_v2")
    ],
    variant: Annotated[
        list[str] | None,
        typer.Option("--variant", help="variants: fp32 or recipes, e.g. fp32,int8,pruned30 (default fp32)"),
    ] = None,
    runtime: Annotated[
        list[str] | None, typer.Option("--runtime", "-r", help="runner or family; default: all available on the device")
    ] = None,
    targets: Annotated[
        list[str] | None,
        typer.Option(
            "--targets", help="also time vendor-converted artifacts: openvino-cpu (IR), ncnn, onnxruntime-cpu"
        ),
    ] = None,
    device: Annotated[str, typer.Option(help="cpu or cuda")] = "cpu",
    batch: Annotated[
        str,
        typer.Option(metavar="N[,N...]", help="batch sizes as in bench; batch 1 is always measured, plus one larger"),
    ] = "8",
    threads: Annotated[int | None, typer.Option(help="intra-op threads (default: usable cores)")] = None,
    weights: Annotated[str, typer.Option(help="imagenet | none | checkpoint path")] = "none",
    data: Annotated[
        Path | None, typer.Option(help="labelled image folder (sorted class folders = output indices)")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="accuracy over the first K images")] = None,
    per_class: Annotated[int | None, typer.Option("--per-class", help="or over N images per class")] = None,
    out: Annotated[Path, typer.Option(help="folder for report.md, report.html, pareto.png")] = DEFAULT_OUT,
    warmup: Annotated[int, typer.Option(help="untimed iterations per cell")] = 3,
    min_iters: Annotated[int, typer.Option(help="timed iterations per cell, at least")] = 10,
    min_seconds: Annotated[float, typer.Option(help="timed seconds per cell, at least")] = 1.0,
    fresh: Annotated[bool, typer.Option("--fresh", help="re-measure even if the store has these results")] = False,
    input_size: InputSize = None,
    mean: Mean = None,
    std: Std = None,
    layout: Layout = None,
    labels: Labels = None,
    on: On = "local",
    profile: OnProfile = None,
    address: FleetAddress = None,
    timeout: CellTimeout = 900.0,
    wide: Wide = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Latency at batch 1 and N, p90, throughput, peak RSS, top-1, size, GMACs, params; writes a report.

    Examples:

      edgekit compare mobilenet_v2 resnet18 --variant fp32,int8

      edgekit compare mobilenet_v2 --variant fp32,int8 --weights imagenet --data val/ --per-class 10

      edgekit compare mobilenet_v2 --variant fp32,int8 --on pi5

      edgekit compare mobilenet_v2 --variant fp32,int8 -r onnxruntime --on fleet --profile raspberry-pi-5
    """
    where = resolve_on(on, profile, address)
    board = where if isinstance(where, Board) else None
    runtime = runtime or (list(board.runtimes) if board else None)
    measuring = bench_config(warmup, min_iters, min_seconds, timeout)
    config = _compare_config(models, variant, runtime, device, batch, threads, weights, data, limit, per_class,
                             measuring, fresh, split_csv(targets))  # fmt: skip
    source = {"input_size": input_size, "mean": triple(mean, "mean"), "std": triple(std, "std"), "layout": layout,
              "labels": labels}  # fmt: skip
    config = config.model_copy(update=source)
    with LazyProgress("compare", quiet, verbose) as progress:
        result = run_compare(config, on_progress=progress.advance, board=where, board_threads=threads)
    files = write_report(result, out)
    if as_json:
        print_json({"comparison": result, "report": {k: str(v) for k, v in vars(files).items()}})
        return
    _print_table(result, _where_label(where), wide)
    console.print(f"report: {files.markdown}, {files.html}, {files.plot}")


def _compare_config(models: list[str], variant: list[str] | None, runtime: list[str] | None, device: str,
                    batch: str, threads: int | None, weights: str, data: Path | None, limit: int | None,
                    per_class: int | None, bench: BenchConfig, fresh: bool,
                    targets: list[str]) -> CompareConfig:  # fmt: skip
    from pydantic import ValidationError

    larger = [b for b in parse_batches(batch) if b != 1]
    if len(larger) != 1:
        raise BadInputError(f"--batch names the table's one larger batch (batch 1 is always measured), e.g. 8 or 1,8; "
                            f"got {batch}")  # fmt: skip
    large = larger[0]
    if threads is not None and threads < 1:
        raise BadInputError(f"--threads must be at least 1, got {threads}")
    runtimes = resolve_runtimes(split_csv(runtime), check_device(device)) if runtime or device == "cuda" else None
    try:
        return CompareConfig(
            models=models, variants=split_csv(variant) or ["fp32"], runtimes=runtimes, device=device,
            large_batch=large, threads=threads or usable_cores(), weights=weights, data=data, limit=limit,
            per_class=per_class, bench=bench, fresh=fresh, targets=targets,
        )  # fmt: skip
    except ValidationError as exc:
        raise bad_input(exc, limit=1, options=True, empty="compare") from None


# Column importance on a narrow terminal (higher stays longer); model, variant and runtime always stay.
_PRIORITY = {"latency_ms_per_image_b1": 95, "top1_pct": 90, "top1_drop_pct": 88, "throughput_ips_b": 80,
             "size_mb": 75, "latency_ms_p90_b1": 60, "latency_ms_per_image_b": 55, "top1_agreement_pct": 50,
             "peak_rss_mb_b1": 45, "cosine_mean": 40, "top5_pct": 35, "macs_giga": 30,
             "params_millions": 25}  # fmt: skip
_STORED_PRIORITY = 92  # "measured" (how old a reused row is) matters more than most figures


def _priority(column_id: str) -> int:
    return _PRIORITY.get(column_id, _PRIORITY.get(column_id.rstrip("0123456789"), 20))


def _measured_at(row: CompareRow) -> datetime | None:
    stamps = [m.provenance.timestamp for m in row.cells.values() if m.provenance.kind == "measured"]
    return min((t for t in stamps if t is not None), default=None)


def _print_table(result: Comparison, board: str | None = None, wide: bool = False) -> None:
    from rich.text import Text

    metric_cols = used_columns(result)
    cols = [Col("model"), Col("variant"), Col("runtime", runtimes=True)]
    cols += [Col(c.header, _priority(c.id), justify="right", no_wrap=True) for c in metric_cols]
    stored = any(row.cached for row in result.rows)
    if stored:
        cols.append(Col("measured", _STORED_PRIORITY, no_wrap=True))
    rows = []
    for row in result.rows:
        cells = [cell_text(row.cells.get(c.id), c.digits) for c in metric_cols]
        rows.append([row.model, row.variant, row.runtime, *cells, *([_age(row)] if stored else [])])
    print_fitted(console, cols, rows, wide, title="edgekit compare — [m] measured, [p] published, [c] computed")
    fp = result.fingerprint
    where = f"board {board}" if board else "host"
    console.print(Text(f"{where} {fp.id}: {fp.cpu_model}, {fp.usable_cores} usable cores, threads "
                       f"{result.config.threads}; [m] latency: {protocol(result.config.bench)}"))  # fmt: skip
    if stored:
        console.print(Text("measured: rows reused from the results store, with their age (--fresh re-measures); "
                           "'now' = measured by this run"))  # fmt: skip
    for note in result.notes + [f"skipped {s}" for s in result.skipped]:
        console.print(Text(f"- {note}"))


def _where_label(where: Board | Fleet | None) -> str | None:
    """The board a comparison measured on (fleet: its profile and the nodes), None here."""
    if isinstance(where, Fleet):
        return f"{where.profiles[0]} of the fleet"
    return where.label.id if where else None


def _age(row: CompareRow) -> str:
    return age(_measured_at(row)) if row.cached else "now"
