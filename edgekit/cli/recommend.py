"""`edgekit recommend`: which model, in which form, on which toolchain fits a RAM / FPS / power budget."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from edgekit.cli._common import console, err_console, fmt_num, guarded, print_json, split_csv
from edgekit.metrics import Metric
from edgekit.recommend import Candidate, Constraints, Recommendation, export_candidates
from edgekit.recommend import recommend as run
from edgekit.units import parse_bytes, parse_fps, parse_power

_SHOWN = 15  # feasible candidates listed in the ranked table


@guarded
def recommend(
    ram: Annotated[str, typer.Option("--ram", help="RAM budget, e.g. 512MB or 0.5GiB")],
    fps: Annotated[str, typer.Option("--fps", help="required frames per second, e.g. 30")],
    power: Annotated[str | None, typer.Option("--power", help="board power budget, e.g. 5W")] = None,
    profile: Annotated[str, typer.Option("--profile", "-p", help="profile id(s), comma-separated, or 'all'")] = "all",
    min_top1: Annotated[
        float | None, typer.Option("--min-top1", min=0, max=100, help="minimum published ImageNet top-1 %")
    ] = None,  # fmt: skip
    models: Annotated[
        list[str] | None, typer.Option("--models", "-m", help="candidate models (default: 8 classic edge CNNs)")
    ] = None,  # fmt: skip
    targets: Annotated[list[str] | None, typer.Option("--targets", "-t", help="restrict to these target ids")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="feasible candidates listed")] = _SHOWN,
    export: Annotated[
        Path | None,
        typer.Option(
            "--export", help="export the best candidate(s) here through the targets path (verified artifact + manifest)"
        ),
    ] = None,  # fmt: skip
    export_top: Annotated[int, typer.Option("--export-top", min=1, help="how many of the best to export")] = 1,
    weights: Annotated[
        str, typer.Option("--weights", help="weights of exported models: imagenet | none | checkpoint")
    ] = "none",  # fmt: skip
    show_rejected: Annotated[
        bool, typer.Option("--rejected", help="also list rejected candidates with reasons")
    ] = False,
    measure: Annotated[
        bool, typer.Option("--measure", help="first measure the top candidates on each profile's board (devices.yaml)")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Rank model × recipe × device × toolchain candidates that fit the budget (pessimistic predictions).

    Exit status: 0 when something fits, 1 when nothing does (closest misses listed), 2 for bad input.
    """
    constraints = Constraints(ram_mb=parse_bytes(ram).mib, fps=parse_fps(fps).fps,
                              power_w=parse_power(power).watts if power else None, min_top1=min_top1)  # fmt: skip
    result = run(constraints, profile, split_csv(models) or None, split_csv(targets) or None)
    failures = []
    if measure:
        # Measuring pulls in bench, compare and the device links: kept off the start-up path of a plain recommend.
        from edgekit.devices.candidates import measure_candidates

        measured = measure_candidates(result, weights=weights)
        failures = measured.failures
        if not measured.measured and not failures:
            err_console.print(Text(f"warning: --measure: no board in devices.yaml for {', '.join(result.profiles)} "
                                   "times these candidates; nothing was measured"), soft_wrap=True)  # fmt: skip
        result = run(constraints, profile, split_csv(models) or None, split_csv(targets) or None)  # with the rows
    exported = export_candidates(result.feasible[:export_top], export, weights) if export and result.fits else []
    if as_json:
        print_json({**result.summary(), "exported": [str(e.out_dir) for e in exported]})
    else:
        _render(result, limit, show_rejected)
        for item in exported:
            console.print(f"exported: {item.out_dir} (manifest {item.manifest_path.name})", markup=False)
    for line in failures:
        err_console.print(Text(f"error: {line}"), soft_wrap=True)
    if not result.fits or failures:
        raise typer.Exit(1)


def _measured_tag(metric: Metric) -> str:
    return " (m)" if metric.provenance.kind == "measured" else ""


def _span(metric: Metric | None) -> str:
    if metric is None:
        return "—"
    interval = metric.provenance.interval
    text = (
        f"{fmt_num(metric.value)} [{fmt_num(interval.low)}–{fmt_num(interval.high)}]"
        if interval
        else fmt_num(metric.value)
    )
    return text + _measured_tag(metric)


def _top1(c: Candidate) -> str:
    if c.top1 is None:
        return "—"  # an own model with no measurement, or no published figure at this precision
    if c.top1.provenance.kind == "measured":
        return f"{c.top1.value:.1f} (m)"
    return f"{c.top1.value:.1f}" + (" (tv int8)" if c.precision == "int8" else "")


def _table(title: str, candidates: list[Candidate], show_reasons: bool = False) -> Table:
    table = Table(title=title, title_justify="left")
    columns = ["device", "model", "recipe", "target (unit)", "top-1 %", "FPS worst [mid]", "latency ms [interval]",
               "peak RAM MB [interval]", "energy mJ", "margins RAM / FPS / W"]  # fmt: skip
    if show_reasons:
        columns = [*columns[:4], "FPS worst [mid]", "peak RAM MB [interval]", "why not"]
    for column in columns:
        table.add_column(column, overflow="fold")
    for c in candidates:
        fps = f"{fmt_num(c.pessimistic_fps)} [{fmt_num(c.prediction.fps.value)}]{_measured_tag(c.prediction.fps)}"
        ram = _span(c.prediction.peak_ram_mb)
        head = [c.profile, c.model, c.recipe, f"{c.target} ({c.unit})"]
        if show_reasons:
            table.add_row(*head, fps, ram, "; ".join(c.reasons))
            continue
        power = (
            f" / {'+' if c.margins.power_w >= 0 else ''}{fmt_num(c.margins.power_w)}"
            if c.margins.power_w is not None
            else ""
        )
        margins = f"{c.margins.ram_mb:+.4g} MB / {'+' if c.margins.fps >= 0 else ''}{fmt_num(c.margins.fps)}{power}"
        table.add_row(*head, _top1(c), fps, _span(c.prediction.latency_ms), ram, _span(c.prediction.energy_mj),
                      margins)  # fmt: skip
    return table


def _render(result: Recommendation, limit: int, show_rejected: bool = False) -> None:
    k = result.constraints
    power = f", ≤ {k.power_w:g} W" if k.power_w else ""
    top1 = f", top-1 ≥ {k.min_top1:g}%" if k.min_top1 is not None else ""
    total = len(result.feasible) + len(result.rejected)
    console.print(f"[bold]recommend[/bold]: RAM ≤ {k.ram_mb:.4g} MB, ≥ {k.fps:g} FPS{power}{top1} — "
                  f"{len(result.profiles)} profiles × {len(result.models)} models → {total} candidates, "
                  f"{len(result.feasible)} fit (hard limits use the pessimistic end of each interval)")  # fmt: skip
    if result.fits:
        console.print(_table("best per device", result.best_per_device))
        console.print(_table(f"top {min(limit, len(result.feasible))} of {len(result.feasible)} feasible, by "
                             "published top-1 then worst-case FPS", result.feasible[:limit]))  # fmt: skip
    else:
        console.print(_table("nothing fits — closest misses", result.closest_misses, show_reasons=True))
    if show_rejected and result.fits and result.rejected:  # when nothing fits, the misses are already shown
        closest_first = sorted(result.rejected, key=lambda c: c.miss)[:limit]
        console.print(_table(f"{len(closest_first)} of {len(result.rejected)} rejected, closest first", closest_first,
                             show_reasons=True))  # fmt: skip
    counts = ", ".join(f"{kind} {n}" for kind, n in sorted(result.rejection_counts().items()))
    console.print(f"rejected {len(result.rejected)} ({counts}); every reason: --json", markup=False)
    console.print(
        f"FPS, latency, RAM, energy: predicted by {result.predictor}, except figures marked (m): measured on this "
        "host by `edgekit bench`/`compare` (p50; pessimistic end p90); top-1: (m) measured by `optimize --data`/"
        "`compare --data` on the data in --json, else published (torchvision weights.meta; int8 = torchvision's "
        "quantized weights, not edgekit's PTQ)",
        markup=False,
    )
