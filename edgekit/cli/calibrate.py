"""`edgekit calibrate PROFILE`: fit a board-specific latency correction from the measurements stored on that profile."""

from __future__ import annotations

import math
from typing import Annotated

import typer
from rich.table import Table

from edgekit.cli._common import console, fmt_num, guarded, print_json
from edgekit.predict._board_calibration import Correction
from edgekit.predict._board_fit import CalibrationResult
from edgekit.predict._board_fit import calibrate as run_calibrate


@guarded
def calibrate(
    profile: Annotated[str, typer.Argument(help="device profile id whose stored measurements to fit (e.g. host)")],
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Correct the predictor for one board from its stored measurements; later predict/recommend use it."""
    result = run_calibrate(profile)
    if as_json:
        print_json({"path": str(result.path), "calibration": result.calibration.model_dump(mode="json"),
                    "skipped": [vars(s) for s in result.skipped]})  # fmt: skip
        return
    _print(result)


def _interval(c: Correction) -> str:
    return f"x{fmt_num(math.exp(-c.half_width))} – x{fmt_num(math.exp(c.half_width))}"


def _print(result: CalibrationResult) -> None:
    cal = result.calibration
    rows = Table(title=f"{len(cal.rows)} measurements on profile {cal.profile} against {cal.predictor}")
    for column in ("model", "runtime", "precision", "where", "measured p50 ms", "predicted ms", "measured / predicted"):
        rows.add_column(column)
    for r in cal.rows:
        rows.add_row(r.model, r.bench_runtime, r.precision, r.board, fmt_num(r.measured_ms), fmt_num(r.predicted_ms),
                     fmt_num(r.measured_ms / r.predicted_ms))  # fmt: skip
    console.print(rows)
    fits = Table(title=f"corrections ({cal.coverage:.0%} t prediction interval from the log residuals)")
    for column in ("applies to", "basis", "rows", "factor", "interval around the corrected value", "s (ln)", "dof"):
        fits.add_column(column)
    for c in [*cal.own, cal.pooled]:
        where = f"{c.runtime} {c.unit} {c.precision}" if c.basis == "own" else "every other runtime/precision"
        fits.add_row(where, c.basis, str(c.n), f"x{fmt_num(c.factor)}", _interval(c), f"{c.sigma:.3f}", str(c.dof))
    console.print(fits)
    for s in result.skipped:
        console.print(f"left out: {s.model} {s.variant} {s.runtime}: {s.reason}", markup=False)
    console.print(
        f"saved {result.path}; `edgekit predict`/`recommend` on {cal.profile} now label their latency "
        f"'predicted, calibrated on {len(cal.rows)} measurements (profile {cal.profile})'",
        markup=False,
    )
