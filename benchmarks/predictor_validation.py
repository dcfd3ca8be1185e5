"""Cross-validate the latency predictor on the published calibration file; optionally refit what ships.

Leave-one-device-out (each device's rows predicted from the other devices plus its own profile),
with intervals whose quantiles come from an inner leave-one-device-out over the remaining devices
only (nested, so coverage is out of sample); leave-one-model-out; leave-one-source-out.
Prints median absolute % error and interval coverage and writes a markdown report.

Usage:
    .venv/bin/python benchmarks/predictor_validation.py            # validate, write the report
    .venv/bin/python benchmarks/predictor_validation.py --write    # also refit the shipped parameters
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict
from datetime import date
from importlib.metadata import version
from pathlib import Path

import numpy as np

from edgekit.predict import LATENCY_CSV, save_params
from edgekit.predict._features import write_shipped_features
from edgekit.predict._params import Hyper
from edgekit.predict._validate import (
    Residual,
    calibrate,
    cross_validate,
    design_replicates,
    folds,
    median_abs_pct,
    nested_lodo,
    nested_selection_lodo,
    prepare,
    replicate_spread,
    split_median_abs_pct,
    without_offsets,
)

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "benchmarks" / "results" / "predictor_validation.md"
TARGET_MEDIAN_PCT, TARGET_COVERAGE = 25.0, 0.80  # issue #6 acceptance targets for leave-one-device-out
# Models recommend considers by default: their features ship too, so a fresh install needs no export.
DEFAULT_CANDIDATES = ["mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small", "shufflenet_v2_x1_0",
                      "squeezenet1_1", "efficientnet_b0", "mnasnet1_0", "resnet18"]  # fmt: skip


def covered(residuals: list[Residual], quantiles: dict) -> float:
    """Share of residuals inside the shipped interval of their tier and group."""
    hits = []
    for r in residuals:
        by_group = quantiles[r.tier]
        q = by_group.get(r.group) or by_group["all"]
        hits.append(q.low <= r.log_ratio <= q.high)
    return float(np.mean(hits))


def table(rows: list[tuple], header: tuple) -> list[str]:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def per_fold(residuals: list[Residual], hits: list[bool] | None = None) -> list[tuple]:
    """n, median |error| % (and nested coverage) per fold."""
    groups: dict[str, list[int]] = defaultdict(list)
    for k, r in enumerate(residuals):
        groups[r.fold.split(":", 1)[1]].append(k)
    out = []
    for fold, ks in sorted(groups.items()):
        row = [fold, len(ks), f"{median_abs_pct([residuals[k].log_ratio for k in ks]):.1f}"]
        if hits is not None:
            row.append(f"{np.mean([hits[k] for k in ks]) * 100:.0f}%")
        out.append(tuple(row))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="refit and write the shipped parameters and features")
    parser.add_argument("--out", type=Path, default=REPORT)
    args = parser.parse_args()
    hyper = Hyper()
    design, _, skipped = prepare(hyper)
    if args.write:
        pairs = [(r.coords.model, r.coords.input_size or 224) for r in design.rows]
        write_shipped_features(pairs + [(m, 224) for m in DEFAULT_CANDIDATES])
    params, by_method = calibrate(hyper)
    nested = nested_lodo(design, hyper)
    lodo = [r for r, _ in nested]
    hits = [h for _, h in nested]
    ablations = {text: ablated_lodo(hyper, update) for text, update in ABLATIONS}
    lines = report(params, by_method, lodo, hits, len(design.rows), skipped, ablations, selected_lodo(hyper))
    lines += data_floor(design, lodo)
    print("\n".join(lines))
    args.out.write_text("\n".join(lines) + "\n")
    if args.write:
        print(f"wrote {save_params(params.model_copy(update={'validation': summary(lodo, hits, by_method)}))}")


# Earlier versions of the model, each one hyper-parameter change away, scored the same way.
ABLATIONS = (
    ("memory terms at theoretical DRAM bandwidth instead of the unit's rate (`memory_rate=dram`)",
     {"memory_rate": "dram"}),
    ("one thread-scaling exponent (0.9) for every core, shared L2 or not",
     {"thread_exponent": 0.9, "shared_cache_thread_exponent": 0.9}),
)  # fmt: skip


# The thread exponents were chosen by the leave-one-device-out score itself; redoing that choice inside
# each fold (an inner leave-one-device-out over the other devices) measures what choosing costs.
EXPONENT_CANDIDATES = (
    (0.95, 0.6), (0.9, 0.9), (0.9, 0.6), (1.0, 0.6), (0.95, 0.7), (0.95, 0.5),
)  # fmt: skip


def selected_lodo(hyper: Hyper) -> float:
    """Leave-one-device-out median |error| with the thread exponents chosen inside each fold."""
    hypers = [hyper.model_copy(update={"thread_exponent": private, "shared_cache_thread_exponent": shared})
              for private, shared in EXPONENT_CANDIDATES]  # fmt: skip
    residuals, _ = nested_selection_lodo([prepare(h)[0] for h in hypers], hypers)
    return median_abs_pct([r.log_ratio for r in residuals])


def ablated_lodo(hyper: Hyper, update: dict) -> float:
    """Leave-one-device-out median |error| of the model with ``update`` applied to its hyper-parameters."""
    changed = hyper.model_copy(update=update)
    design, _, _ = prepare(changed)
    residuals = cross_validate(design, changed, folds(design)["leave-one-device-out"], "lodo")
    return median_abs_pct([r.log_ratio for r in residuals])


def data_floor(design, lodo: list[Residual]) -> list[str]:
    """What the calibration data itself allows: replicate spread, and the error left if device offsets were known."""
    spread = replicate_spread(design_replicates(design))
    coords = lambda i: design.rows[i].coords  # noqa: E731
    device = median_abs_pct(without_offsets(lodo, lambda i: coords(i).device_id))
    device_unit = median_abs_pct(without_offsets(lodo, lambda i: (coords(i).device_id, coords(i).unit)))
    return [
        "",
        "## What the calibration data allows",
        "",
        f"- Replicates: {spread.rows} rows in {spread.groups} groups share every coordinate (device, model, runtime, "
        f"unit, cores, precision, threads, batch, input) with another row, yet were published a median "
        f"**×{spread.median_max_over_min:.2f}** apart (max/min; different boards, OS and benchmark builds under one "
        f"device). A prediction is one value per coordinate, so in half of these groups it misses some published "
        f"row by at least **{spread.median_unavoidable_pct:.1f}%**, whatever the predictor. (This bounds the worst "
        f"row of each group, not the median over all rows.)",
        f"- Leave-one-device-out with each held-out device's own median offset removed afterwards (an oracle no "
        f"predictor has; this model's structure otherwise): {device:.1f}%; with the offset of each device *and "
        f"compute unit* removed: {device_unit:.1f}%. Most of the remaining error is within a device, not its level.",
        *unstated_throughput(design, lodo),
        "",
        "### Leave-one-device-out by board (devices whose rows name more than one board)",
        "",
        *table(board_rows(design, lodo), ("device", "board", "rows", "median abs err %")),
    ]


def unstated_throughput(design, lodo: list[Residual]) -> list[str]:
    """The score split by whether the row's compute unit states a throughput in its profile."""
    split = split_median_abs_pct(lodo, lambda i: not design.assumed_peak[i])
    if False not in split:
        return []
    devices = sorted({design.rows[r.row].coords.device_id for r in lodo if design.assumed_peak[r.row]})
    (n_stated, stated_pct), (n_unstated, unstated_pct) = split[True], split[False]
    return [
        f"- Rows on compute units whose profile states a throughput: {n_stated} rows, median |error| "
        f"{stated_pct:.1f}%; rows on units with no throughput in any source ({', '.join(devices)}; costed at a "
        f"unit-typical stand-in peak, so all such units of one architecture look alike): {n_unstated} rows, "
        f"{unstated_pct:.1f}%.",
    ]


def board_rows(design, lodo: list[Residual]) -> list[tuple]:
    """Leave-one-device-out median |error| per named board, for devices published on several boards."""
    boards: dict[str, set[str]] = defaultdict(set)
    for row in design.rows:
        boards[row.coords.device_id].add(row.board)
    key = lambda i: (design.rows[i].coords.device_id, design.rows[i].board or "(not named)")  # noqa: E731
    split = split_median_abs_pct([r for r in lodo if len(boards[design.rows[r.row].coords.device_id]) > 1], key)
    return [(device, board, n, f"{pct:.1f}") for (device, board), (n, pct) in sorted(split.items())]


def summary(lodo: list[Residual], hits: list[bool], by_method: dict) -> dict[str, float]:
    """Headline figures stored with the parameters."""
    return {
        "lodo_median_abs_pct": median_abs_pct([r.log_ratio for r in lodo]),
        "lodo_nested_coverage": float(np.mean(hits)),
        "lomo_median_abs_pct": median_abs_pct([r.log_ratio for r in by_method["leave-one-model-out"]]),
        "loso_median_abs_pct": median_abs_pct([r.log_ratio for r in by_method["leave-one-source-out"]]),
    }


def report(params, by_method, lodo, hits, n_rows, skipped, ablations: dict[str, float], selected: float) -> list[str]:
    """The markdown report."""
    figures = summary(lodo, hits, by_method)
    coverage = params.hyper.interval_coverage
    met = lambda ok: "met" if ok else "NOT met"  # noqa: E731
    return [
        "# Latency predictor validation",
        "",
        f"Generated by `.venv/bin/python benchmarks/predictor_validation.py` on {date.today().isoformat()} "
        f"(predictor params {params.digest()}, calibration CSV sha256 {params.calibration_sha256[:12]}, "
        f"torchvision {version('torchvision')}, numpy {version('numpy')}).",
        f"Calibration: `{LATENCY_CSV.relative_to(ROOT)}`, {n_rows} usable rows on profiled devices "
        f"({skipped} rows on devices without a profile left out; `excluded` rows never used).",
        f"Stated interval: central {coverage:.0%} of held-out log residuals of the prediction's tier.",
        f"Hyper-parameters (fixed, not tuned per fold; the thread exponents and Winograd discount were chosen "
        f"by this leave-one-device-out score, so it is optimistic — see the re-chosen figure below): "
        f"{params.hyper.model_dump_json()}.",
        "",
        "## Headline (leave-one-device-out)",
        "",
        f"- median |error|: **{figures['lodo_median_abs_pct']:.1f}%** (target ≤ {TARGET_MEDIAN_PCT:.0f}%: "
        f"{met(figures['lodo_median_abs_pct'] <= TARGET_MEDIAN_PCT)})",
        f"- coverage of the stated interval, nested (quantiles from the other devices only): "
        f"**{figures['lodo_nested_coverage']:.0%}** (target ≥ {TARGET_COVERAGE:.0%}: "
        f"{met(figures['lodo_nested_coverage'] >= TARGET_COVERAGE)})",
        f"- the same with the thread exponents re-chosen for each held-out device, among "
        f"{len(EXPONENT_CANDIDATES)} candidates, by an inner leave-one-device-out over the other devices: "
        f"**{selected:.1f}%** (the shipped exponents were chosen on the whole score above, which is therefore "
        f"optimistic; this figure is not)",
        f"- leave-one-model-out median |error|: {figures['lomo_median_abs_pct']:.1f}% "
        f"(calibrated device, unseen network; coverage of shipped intervals "
        f"{covered(by_method['leave-one-model-out'], params.interval_quantiles):.0%})",
        f"- leave-one-source-out median |error|: {figures['loso_median_abs_pct']:.1f}% "
        f"(coverage of shipped intervals {covered(by_method['leave-one-source-out'], params.interval_quantiles):.0%})",
        *(f"- ablation: {text}: leave-one-device-out median |error| {value:.1f}%" for text, value in ablations.items()),
        "",
        "## Leave-one-device-out by device (nested interval coverage)",
        "",
        *table(per_fold(lodo, hits), ("device", "rows", "median abs err %", "coverage")),
        "",
        "## Leave-one-source-out by publisher",
        "",
        *table(per_fold(by_method["leave-one-source-out"]), ("source", "rows", "median abs err %")),
        "",
        "## Shipped interval quantiles (log observed/predicted)",
        "",
        *table(
            [
                (
                    t,
                    g,
                    f"{q.low:+.2f}",
                    f"{q.high:+.2f}",
                    f"×{math.exp(q.low):.2f} … ×{math.exp(q.high):.2f}",
                    q.n,
                    q.method,
                )
                for t, by in params.interval_quantiles.items()
                for g, q in by.items()
            ],
            ("tier", "unit group", "low", "high", "factor range", "residuals", "from"),
        ),  # fmt: skip
    ]


if __name__ == "__main__":
    main()
