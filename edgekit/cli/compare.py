"""`edgekit compare`: the seed's comparison table, every cell with its provenance, plus a report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from edgekit.bench import BenchConfig
from edgekit.bench.host import usable_cores
from edgekit.cli._common import console, guarded, print_json, split_csv
from edgekit.cli.bench import LazyProgress, bench_config, check_device
from edgekit.compare import CompareConfig, Comparison
from edgekit.compare import compare as run_compare
from edgekit.compare.plan import parse_batches, resolve_runtimes
from edgekit.devices import resolve_board
from edgekit.errors import BadInputError
from edgekit.models._source import is_registry_name, parse_source
from edgekit.report import cell_text, used_columns, write_report
from edgekit.vocab import bad_input

DEFAULT_OUT = Path("edgekit-report")


@guarded
def compare(
    models: Annotated[list[str], typer.Argument(help="registry model names, e.g. resnet18 mobilenet_v2")],
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
    batch: Annotated[int, typer.Option(help="the larger batch size (batch 1 is always measured)")] = 8,
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
    on: Annotated[
        str, typer.Option("--on", help="where to measure: local, ssh://user@host[:port], or a board of devices.yaml")
    ] = "local",
    profile: Annotated[
        str | None, typer.Option("--profile", help="the device profile the --on board stands for, e.g. raspberry-pi-5")
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="seconds one cell may take before it is killed")] = 900.0,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Latency at batch 1 and N, p90, throughput, peak RSS, top-1, size, GMACs, params; writes a report."""
    board = resolve_board(on, profile)
    if board is None and profile is not None:
        raise BadInputError("--profile names the device an --on board stands for; pass --on LINK with it")
    runtime = runtime or (list(board.runtimes) if board else None)
    protocol = bench_config(warmup, min_iters, min_seconds, timeout)
    config = _compare_config(models, variant, runtime, device, batch, threads, weights, data, limit, per_class,
                             protocol, fresh, split_csv(targets))  # fmt: skip
    with LazyProgress("compare") as progress:
        result = run_compare(config, on_progress=progress.advance, board=board, board_threads=threads)
    files = write_report(result, out)
    if as_json:
        print_json({"comparison": result, "report": {k: str(v) for k, v in vars(files).items()}})
        return
    _print_table(result, board.label.id if board else None)
    console.print(f"report: {files.markdown}, {files.html}, {files.plot}")


def _compare_config(models: list[str], variant: list[str] | None, runtime: list[str] | None, device: str,
                    batch: int, threads: int | None, weights: str, data: Path | None, limit: int | None,
                    per_class: int | None, bench: BenchConfig, fresh: bool,
                    targets: list[str]) -> CompareConfig:  # fmt: skip
    from pydantic import ValidationError

    for model in models:
        if not is_registry_name(model) and parse_source(model).kind != "torchvision":
            raise BadInputError(f"compare takes registry models; {model} is an own model: measure it with "
                                f"`edgekit bench {model}`, build variants with `edgekit optimize {model}`")  # fmt: skip
    large = parse_batches(str(batch))[0]
    if large < 2:
        raise BadInputError(f"--batch is the larger batch of the table and must be at least 2, got {batch}")
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


def _print_table(result: Comparison, board: str | None = None) -> None:
    from rich.markup import escape
    from rich.text import Text

    cols = used_columns(result)
    table = Table(title=escape("edgekit compare — [m] measured, [p] published, [c] computed"))
    for header in ["model", "variant", "runtime"] + [c.header for c in cols]:
        table.add_column(header, justify="left" if header in ("model", "variant", "runtime") else "right")
    for row in result.rows:
        cells = [Text(cell_text(row.cells.get(c.id), c.digits)) for c in cols]  # Text: "[m]" is not markup
        table.add_row(row.model, row.variant, row.runtime, *cells)
    console.print(table)
    fp = result.fingerprint
    where = f"board {board}" if board else "host"
    console.print(f"{where} {fp.id}: {fp.cpu_model}, {fp.usable_cores} usable cores, threads {result.config.threads}")
    for note in result.notes + [f"skipped {s}" for s in result.skipped]:
        console.print(Text(f"- {note}"))
