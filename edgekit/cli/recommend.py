"""`edgekit recommend`: which model, in which form, on which toolchain fits a RAM / FPS / power budget."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from edgekit.cli._common import (
    FleetAddress,
    Wide,
    console,
    err_console,
    fmt_num,
    guarded,
    plural,
    print_json,
    split_csv,
)
from edgekit.cli._progress import Quiet, Steps, Verbose
from edgekit.cli._table import Col, Fitted, print_fitted, print_note
from edgekit.errors import BadInputError
from edgekit.metrics import Metric
from edgekit.predict._board_calibration import CALIBRATED_LABEL
from edgekit.recommend import Candidate, Constraints, Recommendation, export_candidates
from edgekit.recommend import recommend as run

if TYPE_CHECKING:
    from edgekit.targets.export import ExportResult  # onnx and numpy: only when something is exported

_SHOWN = 15  # feasible candidates listed in the ranked table


@guarded
def recommend(
    ram: Annotated[str, typer.Option("--ram", metavar="SIZE", help="RAM budget with its unit, e.g. 512MB or 0.5GiB")],
    fps: Annotated[str, typer.Option("--fps", metavar="FPS", help="required frames per second, e.g. 30")],
    power: Annotated[str | None, typer.Option("--power", metavar="WATTS", help="board power budget, e.g. 5W")] = None,
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
            "--export",
            metavar="DIR",
            help="export the best candidate of each device here through the targets path (artifact + manifest)",
        ),
    ] = None,  # fmt: skip
    export_top: Annotated[
        int, typer.Option("--export-top", min=1, help="how many of each device's best to export")
    ] = 1,
    weights: Annotated[
        str, typer.Option("--weights", help="weights of exported models: imagenet | none | checkpoint")
    ] = "none",  # fmt: skip
    show_rejected: Annotated[
        bool, typer.Option("--rejected", help="also list rejected candidates with reasons")
    ] = False,
    measure: Annotated[
        bool, typer.Option("--measure", help="first measure the top candidates on each profile's board (devices.yaml)")
    ] = False,
    on: Annotated[
        str | None,
        typer.Option(
            "--on", help="--measure on: fleet (the Ray cluster's boards), or one board (a link or devices.yaml id)"
        ),
    ] = None,
    address: FleetAddress = None,
    wide: Wide = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Rank model × recipe × device × toolchain candidates that fit the budget (pessimistic predictions).

    Exit status: 0 when something fits, 1 when nothing does (closest misses listed), 2 for bad input.

    Examples:

      edgekit recommend --ram 512MB --fps 30 -p raspberry-pi-4,rk3588

      edgekit recommend --ram 1GB --fps 15 --power 5W --export out/ --export-top 2
    """
    if (on is not None or address is not None) and not measure:
        raise BadInputError("--on and --address say where --measure measures; pass --measure with them")
    if on == "local":
        raise BadInputError("recommend --measure measures on boards: --on fleet, a link or a board of devices.yaml")
    constraints = Constraints.from_text(ram, fps, power, min_top1)
    result = run(constraints, profile, split_csv(models) or None, split_csv(targets) or None)
    failures = []
    if measure:
        # Measuring pulls in bench, compare and the device links: kept off the start-up path of a plain recommend.
        from edgekit.devices.candidates import measure_candidates
        from edgekit.devices.on import resolve_on

        where = resolve_on(on, None, address, need_profile=False) if on is not None else None
        with Steps("recommend --measure", quiet, verbose):
            measured = measure_candidates(result, weights=weights, where=where)
        failures = measured.failures
        if not measured.measured and not failures:
            boards = "the fleet" if on == "fleet" else on if on is not None else "devices.yaml"
            err_console.print(Text(f"warning: --measure: no board in {boards} for {', '.join(result.profiles)} "
                                   "times these candidates; nothing was measured"), soft_wrap=True)  # fmt: skip
        result = run(constraints, profile, split_csv(models) or None, split_csv(targets) or None)  # with the rows
    chosen = result.top_per_device(export_top) if export and result.fits else []
    if not as_json:
        _render(result, limit, show_rejected, wide)  # the tables first: the exports take a while
    with Steps(f"recommend --export ({len(chosen)} artifacts)", quiet, verbose):
        exported = export_candidates(chosen, export, weights) if chosen else []
    if as_json:
        print_json({**result.summary(), "exported": [str(e.out_dir) for e in exported],
                    "exports": [_export_summary(c, e) for c, e in zip(chosen, exported, strict=True)]})  # fmt: skip
    else:
        _print_exports(chosen, exported)
    for line in failures:
        err_console.print(Text(f"error: {line}"), soft_wrap=True)
    if not result.fits or failures:
        raise typer.Exit(1)


def _verified(item: ExportResult) -> str:
    """``verified here (parity ok)``, or why it was only pre-flighted (e.g. rknn needs the vendor SDK)."""
    v = item.manifest.verification
    if v.status == "passed":
        return f"verified here on {v.verifier}"
    return f"NOT verified here: {(v.reason or v.status).removeprefix('not verifiable here: ')}"


def _export_summary(candidate: Candidate, item: ExportResult) -> dict[str, object]:
    v = item.manifest.verification
    return {"profile": candidate.profile, "candidate": candidate.label(), "out_dir": str(item.out_dir),
            "verification": v.status, "reason": v.reason, "notes": item.manifest.notes}  # fmt: skip


def _print_exports(chosen: list[Candidate], exported: list[ExportResult]) -> None:
    from edgekit.cli.targets import artifact_size, deployability

    warned: list[str] = []
    for candidate, item in zip(chosen, exported, strict=True):
        console.print(f"exported: {candidate.label()} → {item.out_dir} ({artifact_size(item.manifest)}); "
                      f"{_verified(item)}; manifest {item.manifest_path.name}",
                      markup=False, soft_wrap=True)  # fmt: skip
        warned += [line for line in deployability(item.manifest) if line.startswith("warning") and line not in warned]
    for line in warned:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def _measured_tag(metric: Metric) -> str:
    """(m): measured; (c): predicted and corrected by the profile's board calibration."""
    if metric.provenance.kind == "measured":
        return " (m)"
    return " (c)" if (metric.provenance.note or "").startswith(CALIBRATED_LABEL) else ""


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


# Columns by importance: what and where always; the deciding figures next; the rest goes first on a narrow terminal.
_COLUMNS = [Col("device"), Col("model"), Col("recipe", 90), Col("target (unit)", runtimes=True), Col("top-1 %", 80),
            Col("FPS worst [mid]", 85), Col("latency ms [interval]", 40), Col("peak RAM MB [interval]", 70),
            Col("energy mJ", 20), Col("margins RAM / FPS / W", 30)]  # fmt: skip
_REASON_COLUMNS = [*_COLUMNS[:4], _COLUMNS[5], _COLUMNS[7], Col("why not", 95)]


def _row(c: Candidate, show_reasons: bool) -> list[str]:
    fps = f"{fmt_num(c.pessimistic_fps)} [{fmt_num(c.prediction.fps.value)}]{_measured_tag(c.prediction.fps)}"
    ram = _span(c.prediction.peak_ram_mb)
    head = [c.profile, c.model, c.recipe, f"{c.target} ({c.unit})"]
    if show_reasons:
        return [*head, fps, ram, "; ".join(c.reasons)]
    power = (
        f" / {'+' if c.margins.power_w >= 0 else ''}{fmt_num(c.margins.power_w)}"
        if c.margins.power_w is not None
        else ""
    )
    margins = f"{c.margins.ram_mb:+.4g} MB / {'+' if c.margins.fps >= 0 else ''}{fmt_num(c.margins.fps)}{power}"
    return [*head, _top1(c), fps, _span(c.prediction.latency_ms), ram, _span(c.prediction.energy_mj), margins]


def _table(title: str, candidates: list[Candidate], show_reasons: bool, wide: bool, shown: list[Fitted]) -> None:
    cols = _REASON_COLUMNS if show_reasons else _COLUMNS
    print_fitted(console, cols, [_row(c, show_reasons) for c in candidates], wide, shown, title=title,
                 title_justify="left")  # fmt: skip


def _render(result: Recommendation, limit: int, show_rejected: bool = False, wide: bool = False) -> None:
    k = result.constraints
    power = f", ≤ {k.power_w:g} W" if k.power_w else ""
    top1 = f", top-1 ≥ {k.min_top1:g}%" if k.min_top1 is not None else ""
    total = len(result.feasible) + len(result.rejected)
    shown: list[Fitted] = []
    scope = f"{plural(len(result.profiles), 'profile')} × {plural(len(result.models), 'model')}"
    console.print(f"[bold]recommend[/bold]: RAM ≤ {k.ram_mb:.4g} MB, ≥ {k.fps:g} FPS{power}{top1} — "
                  f"{scope} → {total} candidates, "
                  f"{len(result.feasible)} fit (hard limits use the pessimistic end of each interval)")  # fmt: skip
    if result.fits:
        _table("best per device", result.best_per_device, False, wide, shown)
        _table(f"top {min(limit, len(result.feasible))} of {len(result.feasible)} feasible, by top-1 (measured, else "
               "published) then worst-case FPS", result.feasible[:limit], False, wide, shown)  # fmt: skip
    else:
        _table("nothing fits — closest misses", result.closest_misses, True, wide, shown)
    if show_rejected and result.fits and result.rejected:  # when nothing fits, the misses are already shown
        closest_first = sorted(result.rejected, key=lambda c: c.miss)[:limit]
        _table(f"{len(closest_first)} of {len(result.rejected)} rejected, closest first", closest_first, True, wide,
               shown)  # fmt: skip
    print_note(console, shown)
    counts = ", ".join(f"{kind} {n}" for kind, n in sorted(result.rejection_counts().items()))
    console.print(f"rejected {len(result.rejected)} ({counts}); every reason: --json", markup=False)
    console.print(
        f"FPS, latency, RAM, energy: predicted by {result.predictor}, except figures marked (m): measured on the "
        "candidate's profile (this host by `edgekit bench`/`compare`, a board by `bench --on`; p50, pessimistic end "
        "p90; where: --json); (c): predicted, corrected by `edgekit calibrate` on that profile; top-1: (m) "
        "measured by `optimize`/`compare`/`bench --data` on the data in --json, else published (torchvision "
        "weights.meta; int8 = torchvision's "
        "quantized weights, not edgekit's PTQ)",
        markup=False,
    )
