"""Reports of a comparison: ``report.md``, ``report.html`` and a Pareto plot PNG, written atomically.

Every cell carries its provenance: a short tag in the tables (``m`` measured, ``p`` published,
``c`` computed, ``x`` predicted) and the full evidence per column below them (and on hover in HTML).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from edgekit.compare import CompareRow, Comparison
from edgekit.fileio import atomic_path
from edgekit.metrics import Metric

TAGS = {"measured": "m", "published": "p", "computed": "c", "predicted": "x"}
PLOT_DPI = 120  # 960×600 px at the default 8×5 in figure size


@dataclass(frozen=True)
class Column:
    """One table column: the cell id in ``CompareRow.cells``, its header and number format."""

    id: str
    header: str
    digits: int


def columns(large_batch: int) -> list[Column]:
    """The comparison's columns in display order."""
    n = large_batch
    return [
        Column("latency_ms_per_image_b1", "ms/img b1 (p50)", 2), Column("latency_ms_p90_b1", "p90 ms b1", 2),
        Column(f"latency_ms_per_image_b{n}", f"ms/img b{n} (p50)", 2), Column(f"throughput_ips_b{n}", f"img/s b{n}", 1),
        Column("peak_rss_mb_b1", "peak RSS MB b1", 0),
        Column("top1_pct", "top-1 %", 2), Column("top5_pct", "top-5 %", 2),
        Column("top1_agreement_pct", "agree % vs fp32", 1), Column("cosine_mean", "cosine vs fp32", 4),
        Column("size_mb", "size MB", 1), Column("macs_giga", "GMACs", 3), Column("params_millions", "params M", 2),
    ]  # fmt: skip


def used_columns(comparison: Comparison) -> list[Column]:
    """Columns with at least one value (fidelity only appears once variants do)."""
    return [c for c in columns(comparison.large_batch) if any(c.id in r.cells for r in comparison.rows)]


def cell_text(metric: Metric | None, digits: int, tag: bool = True) -> str:
    """``12.34 [m]``; an em dash for a missing cell."""
    if metric is None:
        return "—"
    text = f"{metric.value:,.{digits}f}"
    return f"{text} [{TAGS[metric.provenance.kind]}]" if tag else text


def evidence(metric: Metric) -> str:
    """One line of provenance: kind plus its evidence."""
    p = metric.provenance
    parts = [p.kind]
    if p.kind == "measured":
        versions = ", ".join(f"{k} {v}" for k, v in sorted((p.tool_versions or {}).items()))
        parts += [f"host {p.host}", f"{p.runtime}", f"n={p.n_samples}", versions]
    parts += [x for x in (p.citation, p.method, p.predictor, p.note) if x]
    return "; ".join(parts)


def _row_label(row: CompareRow) -> list[str]:
    return [row.model, row.variant, row.runtime]


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of points not dominated in (lower x, higher y), sorted by x."""
    front = []
    for i, (x, y) in enumerate(points):
        dominated = any((ox <= x and oy >= y) and (ox < x or oy > y) for j, (ox, oy) in enumerate(points) if j != i)
        if not dominated:
            front.append(i)
    return sorted(front, key=lambda i: points[i][0])


_TIMING_PREFIXES = ("latency_", "throughput_", "peak_rss_")


def _timing_evidence(comparison: Comparison) -> list[str]:
    """One line per runtime for the latency/throughput/memory cells: host, versions, iterations."""
    by_runtime: dict[str, list[Metric]] = {}
    for row in comparison.rows:
        for cell_id, metric in row.cells.items():
            if cell_id.startswith(_TIMING_PREFIXES) and metric.provenance.kind == "measured":
                by_runtime.setdefault(row.runtime, []).append(metric)
    lines = []
    for runtime, metrics in sorted(by_runtime.items()):
        p = metrics[0].provenance
        versions = ", ".join(f"{k} {v}" for k, v in sorted((p.tool_versions or {}).items()))
        counts = sorted({m.provenance.n_samples or 0 for m in metrics})
        lines.append(f"{runtime}: host {p.host}; {versions}; {counts[0]}–{counts[-1]} timed iterations per cell")
    return lines


def _column_evidence(comparison: Comparison, cols: list[Column]) -> list[tuple[str, list[str]]]:
    """Distinct provenance lines per non-timing column (accuracy, fidelity, size, MACs, params)."""
    out = []
    for col in cols:
        if col.id.startswith(_TIMING_PREFIXES):
            continue
        lines = sorted({evidence(r.cells[col.id]) for r in comparison.rows if col.id in r.cells})
        out.append((col.header, lines))
    return out


def _protocol(comparison: Comparison) -> str:
    b = comparison.config.bench
    isolation = "one child process per model × runtime" if b.isolate else "in-process"
    return (f"{b.warmup} warm-up runs, then at least {b.min_iters} runs and {b.min_seconds:g} s per cell; "
            f"{comparison.config.threads} threads; {isolation}; seeded N(0,1) inputs")  # fmt: skip


def render_markdown(comparison: Comparison, plot_name: str | None = "pareto.png") -> str:
    """The report as markdown."""
    cols = used_columns(comparison)
    fp = comparison.fingerprint
    header = ["model", "variant", "runtime"] + [c.header for c in cols]
    lines = [
        "# edgekit compare", "",
        f"Host `{fp.id}`: {fp.cpu_model}, {fp.usable_cores} usable cores, {fp.os}, GPU: {fp.gpu_name or 'none'}; "
        f"threads {comparison.config.threads}; {comparison.created_at:%Y-%m-%d %H:%M} UTC.", "",
        "| " + " | ".join(header) + " |", "|" + "---|" * 3 + "---:|" * len(cols),
    ]  # fmt: skip
    for row in comparison.rows:
        cells = [cell_text(row.cells.get(c.id), c.digits) for c in cols]
        lines.append("| " + " | ".join(_row_label(row) + cells) + " |")
    lines += ["", "Tags: [m] measured, [p] published, [c] computed exactly, [x] predicted.", ""]
    lines += [f"- {note}" for note in comparison.notes + [f"skipped {s}" for s in comparison.skipped]]
    if plot_name:
        lines += ["", f"![accuracy vs latency]({plot_name})"]
    lines += ["", "## Provenance", "", f"- **measured latency, throughput, peak RSS** ({_protocol(comparison)})"]
    lines += [f"  - {e}" for e in _timing_evidence(comparison)]
    for headline, evidence_lines in _column_evidence(comparison, cols):
        lines += [f"- **{headline}**"] + [f"  - {e}" for e in evidence_lines]
    return "\n".join(lines) + "\n"


_CSS = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        "padding:4px 8px}td.n{text-align:right}.tag{color:#888;font-size:80%}")  # fmt: skip


def render_html(comparison: Comparison, plot_name: str | None = "pareto.png") -> str:
    """The report as a standalone HTML page; hover a cell for its provenance."""
    cols = used_columns(comparison)
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in ["model", "variant", "runtime"] + [c.header for c in cols])
    body = []
    for row in comparison.rows:
        tds = "".join(f"<td>{esc(x)}</td>" for x in _row_label(row))
        for col in cols:
            metric = row.cells.get(col.id)
            if metric is None:
                tds += "<td class='n'>—</td>"
                continue
            tag = TAGS[metric.provenance.kind]
            tds += (f"<td class='n' title='{esc(evidence(metric), quote=True)}'>{cell_text(metric, col.digits, False)}"
                    f" <span class='tag'>{tag}</span></td>")  # fmt: skip
        body.append(f"<tr>{tds}</tr>")
    notes = "".join(f"<li>{esc(n)}</li>" for n in comparison.notes + [f"skipped {s}" for s in comparison.skipped])
    plot = f"<p><img src='{esc(plot_name)}' alt='accuracy vs latency'></p>" if plot_name else ""
    fp = comparison.fingerprint
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>edgekit compare</title><style>{_CSS}</style>"
        f"</head><body><h1>edgekit compare</h1><p>Host <code>{esc(fp.id)}</code>: {esc(fp.cpu_model)}, "
        f"{fp.usable_cores} usable cores, {esc(fp.os)}; threads {comparison.config.threads}.</p>"
        f"<table><tr>{head}</tr>{''.join(body)}</table><p>Tags: m measured, p published, c computed, "
        f"x predicted (hover a cell for its evidence).</p><ul>{notes}</ul>{plot}</body></html>\n"
    )


def _plot_points(comparison: Comparison) -> list[tuple[CompareRow, float, float]]:
    return [(r, r.cells["latency_ms_per_image_b1"].value, r.cells["top1_pct"].value)
            for r in comparison.rows if "latency_ms_per_image_b1" in r.cells and "top1_pct" in r.cells]  # fmt: skip


_MARKERS = "osD^vP*Xh<>"
# Latencies spanning more than this ratio are drawn on a log axis so that fast points stay apart.
_LOG_AXIS_RATIO = 10.0


def write_pareto_png(comparison: Comparison, path: Path) -> None:
    """Accuracy vs batch-1 latency: one point per (model, variant, runtime), colour = runtime,
    marker = model/variant, Pareto front (lower latency, higher accuracy) drawn as a step line."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never a display
    import matplotlib.pyplot as plt

    points = _plot_points(comparison)
    runtimes = sorted({r.runtime for r, _, _ in points})
    models = sorted({f"{r.model}/{r.variant}" for r, _, _ in points})
    colours = plt.get_cmap("tab10")
    fig, ax = plt.subplots(figsize=(8, 5))
    try:
        for row, x, y in points:
            ax.scatter(x, y, s=48, color=colours(runtimes.index(row.runtime) % 10),
                       marker=_MARKERS[models.index(f"{row.model}/{row.variant}") % len(_MARKERS)],
                       label=f"{row.model}/{row.variant} · {row.runtime}")  # fmt: skip
        front = pareto_front([(x, y) for _, x, y in points])
        if len(front) > 1:
            ax.step([points[i][1] for i in front], [points[i][2] for i in front], where="post", color="gray",
                    lw=1, label="Pareto front")  # fmt: skip
        xs = [x for _, x, _ in points]
        if xs and max(xs) / max(min(xs), 1e-9) > _LOG_AXIS_RATIO:
            ax.set_xscale("log")
        kinds = sorted({r.cells["top1_pct"].provenance.kind for r, _, _ in points}) or ["none"]
        ax.set_xlabel("latency per image at batch 1, p50 (ms, measured)")
        ax.set_ylabel(f"top-1 % ({', '.join(kinds)})")
        title = f"accuracy vs latency on {comparison.fingerprint.cpu_model}, {comparison.config.threads} threads"
        ax.set_title(title + ("" if points else " — no accuracy available"))
        ax.grid(alpha=0.3, which="both")
        if points:
            ax.legend(fontsize=7, loc="best")
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=PLOT_DPI)
    finally:
        plt.close(fig)


@dataclass(frozen=True)
class ReportFiles:
    """Paths of the written report."""

    markdown: Path
    html: Path
    plot: Path


def write_report(comparison: Comparison, out_dir: Path) -> ReportFiles:
    """Write ``report.md``, ``report.html`` and ``pareto.png`` into ``out_dir`` (each atomically)."""
    out_dir = Path(out_dir)
    files = ReportFiles(out_dir / "report.md", out_dir / "report.html", out_dir / "pareto.png")
    write_pareto_png(comparison, files.plot)
    for path, text in ((files.markdown, render_markdown(comparison)), (files.html, render_html(comparison))):
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
    return files
