"""`edgekit predict`: latency, FPS, peak RAM and energy of a model on a device profile (all *predicted*)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.table import Table

from edgekit.cli._common import console, fmt_num, guarded, print_json
from edgekit.cli._source import MODEL_HELP
from edgekit.errors import BadInputError
from edgekit.metrics import Metric
from edgekit.predict import Coordinates, Prediction, RowError, predict_table
from edgekit.predict import predict as run_predict
from edgekit.predict._board_calibration import CALIBRATED_LABEL
from edgekit.predict._board_calibration import TIER as CALIBRATED_TIER
from edgekit.profiles import get_profile
from edgekit.targets import get_target
from edgekit.vocab import bad_input


def default_runtime(profile_id: str, unit: str, precision: str) -> str:
    """The runtime of the profile's first target that runs ``unit`` at ``precision``.

    Raises:
        BadInputError: none of the profile's targets does.
    """
    profile = get_profile(profile_id)
    for target_id in profile.targets:
        target = get_target(target_id)
        if unit in target.compute_units and precision in target.precisions:
            return target.runtime
    raise BadInputError(f"no target of {profile_id} runs {unit} at {precision} (targets: {', '.join(profile.targets)})"
                        "; pass --runtime")  # fmt: skip


def _coordinates(model: str, profile: str, runtime: str | None, unit: str, precision: str, threads: int | None,
                 cores: str | None, input_size: int | None) -> Coordinates:  # fmt: skip
    from pydantic import ValidationError

    runtime = runtime or default_runtime(profile, unit, precision)
    try:
        return Coordinates(device_id=profile, model=model, runtime=runtime, unit=unit, precision=precision,
                           threads=threads, cores=cores, input_size=input_size)  # fmt: skip
    except ValidationError as exc:
        raise bad_input(exc, limit=1, locations=False) from None


@guarded
def predict(
    model: Annotated[
        str | None, typer.Argument(metavar="MODEL", help=f"required unless --table: {MODEL_HELP}, e.g. resnet18")
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option("--profile", "-p", help="device profile id (edgekit profiles); required unless --table"),
    ] = None,
    runtime: Annotated[
        str | None,
        typer.Option(
            help="runtime key, e.g. ncnn, onnxruntime, tensorrt; default: the profile's first target for the unit"
        ),
    ] = None,  # fmt: skip
    unit: Annotated[Literal["cpu", "gpu", "npu", "tpu"], typer.Option(help="compute unit")] = "cpu",
    precision: Annotated[Literal["fp32", "fp16", "int8"], typer.Option(help="numeric precision")] = "fp32",
    threads: Annotated[int | None, typer.Option(min=1, help="CPU threads (default: all selected cores)")] = None,
    cores: Annotated[Literal["all", "big", "little"] | None, typer.Option(help="CPU cluster selection")] = None,
    input_size: Annotated[int | None, typer.Option("--input-size", min=16, help="input side in px")] = None,
    power_mode: Annotated[
        str | None, typer.Option("--power-mode", help="profile power mode (default: its default)")
    ] = None,  # fmt: skip
    table: Annotated[
        Path | None, typer.Option("--table", help="CSV laid out like published-latency.csv: predict every row")
    ] = None,  # fmt: skip
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Predict latency (with interval), FPS, peak RAM and energy; the same coordinates as the published table.

    Examples:

      edgekit predict resnet18 -p raspberry-pi-4 --precision int8

      edgekit predict --table my-latency.csv --json
    """
    if table is not None:
        if model or profile:
            raise BadInputError("--table predicts the file's rows; do not also give MODEL or --profile")
        results = predict_table(table)
        if as_json:
            print_json([_table_entry(line, r) for line, r in enumerate(results, start=2)])
        else:
            _print_many(results)
        return
    if not model or not profile:
        raise BadInputError("give MODEL and --profile (or --table FILE.csv)")
    coords = _coordinates(model, profile, runtime, unit, precision, threads, cores, input_size)
    result = run_predict(coords, power_mode=power_mode)
    if as_json:
        print_json(result.summary())
        return
    _print_one(result)


def _span(metric: Metric | None, digits: int = 3) -> str:
    if metric is None:
        return "unknown"
    interval = metric.provenance.interval
    bounds = f" [{interval.low:.{digits}g} – {interval.high:.{digits}g}]" if interval else ""
    return f"{metric.value:.{digits}g}{bounds} {metric.unit}"


def _print_one(r: Prediction) -> None:
    console.print(f"[bold]{r.coordinates.label()}[/bold]  (power mode {r.power_mode}, target {r.target or '—'})")
    grid = Table(show_header=False, box=None)
    kind = f"{CALIBRATED_LABEL} {r.coordinates.device_id}" if r.tier == CALIBRATED_TIER else "predicted"
    grid.add_row("latency", _span(r.latency_ms), kind)
    grid.add_row("throughput", _span(r.fps), kind)
    grid.add_row("peak RAM", _span(r.peak_ram_mb), "predicted" if r.peak_ram_mb else "no target for this runtime")
    if r.flash_mb:
        grid.add_row("flash (weights)", _span(r.flash_mb), "computed")
    grid.add_row("energy / inference", _span(r.energy_mj), "predicted" if r.energy_mj else "no power figure")
    console.print(grid)
    console.print(f"interval: {r.latency_ms.provenance.note}", markup=False)
    if r.peak_ram_mb:
        console.print(f"RAM: {r.peak_ram_mb.provenance.note}", markup=False)
    console.print(f"by {r.latency_ms.provenance.predictor.split(';')[0]}", markup=False)


def _table_entry(line: int, r: Prediction | RowError) -> dict:
    """One JSON entry per row, in file order: ``line`` and ``error`` (None for a predicted row) on each."""
    return r.summary() if isinstance(r, RowError) else {"line": line, **r.summary(), "error": None}


def _print_many(results: list[Prediction | RowError]) -> None:
    table = Table(title="predicted latency per row (interval: stated coverage of held-out residuals)")
    errors = sum(isinstance(r, RowError) for r in results)
    columns = ("row", "coordinates", "tier", "predicted ms", "interval ms", "table ms") + (("error",) if errors else ())
    for column in columns:
        table.add_column(column, no_wrap=column == "coordinates")
    for index, r in enumerate(results, start=2):
        if isinstance(r, RowError):
            table.add_row(str(index), r.coordinates.label(), "error", "—", "—", "—", r.error.split(": ", 1)[-1])
            continue
        interval = r.latency_ms.provenance.interval
        observed = f"{fmt_num(r.observed_latency_ms)}" if r.observed_latency_ms is not None else "—"
        table.add_row(str(index), r.coordinates.label(), r.tier, f"{fmt_num(r.latency_ms.value)}",
                      f"{fmt_num(interval.low)} – {fmt_num(interval.high)}" if interval else "—", observed,
                      *([""] if errors else []))  # fmt: skip
    console.print(table)
    if errors:
        console.print(f"{errors} of {len(results)} rows could not be placed (reason in the table and in --json)",
                      markup=False)  # fmt: skip
