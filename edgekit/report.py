"""Reports of a comparison: ``report.md``, ``report.html`` and a Pareto plot PNG, written atomically.

Every cell carries its provenance: a short tag in the tables (``m`` measured, ``p`` published,
``c`` computed, ``x`` predicted) and the full evidence per column below them (and on hover in HTML).
"""

from __future__ import annotations

import base64
import contextlib
import html
from dataclasses import dataclass
from pathlib import Path

from edgekit._versions import package_versions
from edgekit.compare import CompareRow, Comparison
from edgekit.compare.plot import PLOT_DPI, PLOT_SIZE_IN, PlotData, pareto_front, pareto_png, plot_data
from edgekit.fileio import atomic_path
from edgekit.metrics import Metric

__all__ = ["PLOT_DPI", "PLOT_SIZE_IN", "TAGS", "Column", "ReportFiles", "cell_text", "columns", "evidence",
           "pareto_front", "render_html", "render_markdown", "used_columns", "write_pareto_png",
           "write_report"]  # fmt: skip

TAGS = {"measured": "m", "published": "p", "computed": "c", "predicted": "x"}
LEGEND = {
    "m": "measured on this host (latency: the protocol below; accuracy: on the labelled data named below)",
    "p": "published by the model's authors (torchvision weights.meta, cited per cell)",
    "c": "computed exactly from the ONNX graph or file (edgekit.analyze)",
    "x": "predicted by edgekit's fitted model, with an interval",
}


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
        Column("top1_pct", "top-1 %", 2), Column("top5_pct", "top-5 %", 2), Column("top1_drop_pct", "top-1 drop pt", 2),
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


def _weights(comparison: Comparison) -> str:
    """The weights line of the notes (each model's own: a checkpoint, an ONNX file's), else the config's."""
    stated = next((n for n in comparison.notes if n.startswith("weights: ")), None)
    return stated.replace("weights: ", "weights ", 1) if stated else f"weights {comparison.config.weights}"


def _header_lines(comparison: Comparison) -> list[str]:
    """Date, edgekit version, host fingerprint, tool versions: the context of every figure."""
    fp = comparison.fingerprint
    versions = ", ".join(f"{k} {v}" for k, v in sorted(fp.tool_versions.items()))
    edgekit = package_versions(["edgekit"])["edgekit"] or "from source"
    return [
        f"Generated {comparison.created_at:%Y-%m-%d %H:%M} UTC by edgekit {edgekit}; "
        f"{_weights(comparison)}; threads {comparison.config.threads}.",
        f"Host `{fp.id}`: {fp.cpu_model}, {fp.usable_cores} usable cores ({fp.logical_cores} logical), "
        f"{fp.memory_total_mb:,.0f} MB RAM, {fp.os} {fp.machine}, GPU: {fp.gpu_name or 'none'}, Python {fp.python}.",
        f"Versions: {versions or 'none recorded'}.",
    ]  # fmt: skip


def _omitted_lines(data: PlotData) -> list[str]:
    if not data.omitted:
        return ["Every row of the table is in the plot."]
    return [f"{o.row}: {o.reason}" for o in data.omitted]


def render_markdown(comparison: Comparison, plot_name: str | None = "pareto.png") -> str:
    """The report as markdown."""
    cols = used_columns(comparison)
    header = ["model", "variant", "runtime"] + [c.header for c in cols]
    lines = ["# edgekit compare", ""]
    lines += [" ".join(_header_lines(comparison)), ""]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * 3 + "---:|" * len(cols)]
    for row in comparison.rows:
        cells = [cell_text(row.cells.get(c.id), c.digits) for c in cols]
        lines.append("| " + " | ".join(_row_label(row) + cells) + " |")
    lines += ["", "Tags: [m] measured, [p] published, [c] computed exactly, [x] predicted.", ""]
    lines += [f"- {note}" for note in comparison.notes + [f"skipped {s}" for s in comparison.skipped]]
    if plot_name:
        lines += ["", f"![accuracy vs latency]({plot_name})", "", "Not in the plot:", ""]
        lines += [f"- {line}" for line in _omitted_lines(plot_data(comparison))]
    lines += ["", "## Provenance", "", f"- **measured latency, throughput, peak RSS** ({_protocol(comparison)})"]
    lines += [f"  - {e}" for e in _timing_evidence(comparison)]
    for headline, evidence_lines in _column_evidence(comparison, cols):
        lines += [f"- **{headline}**"] + [f"  - {e}" for e in evidence_lines]
    return "\n".join(lines) + "\n"


_CSS = ("body{font-family:sans-serif;margin:2em;color:#222;max-width:1400px}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px}td.n{text-align:right;white-space:nowrap}"
        ".tag{color:#888;font-size:80%}"
        "th{background:#f3f3f3}figure{margin:1.5em 0}figure img{max-width:100%;height:auto;border:1px solid #ddd}"
        "figcaption{font-size:90%;color:#444}dl.legend dt{font-weight:bold;float:left;width:2.5em}"
        "dl.legend dd{margin-left:3em}.meta{color:#444}")  # fmt: skip


def _html_table(comparison: Comparison) -> str:
    esc = html.escape
    cols = used_columns(comparison)
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
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _html_plot(comparison: Comparison, plot_png: bytes) -> str:
    esc = html.escape
    data = plot_data(comparison)
    uri = "data:image/png;base64," + base64.b64encode(plot_png).decode("ascii")
    width, height = (round(side * PLOT_DPI) for side in PLOT_SIZE_IN)
    omitted = "".join(f"<li>{esc(line)}</li>" for line in _omitted_lines(data))
    return (f"<figure><img src='{uri}' width='{width}' height='{height}' alt='top-1 vs batch-1 latency, "
            f"{len(data.points)} points'><figcaption>One point per row: filled = top-1 measured [m], hollow = "
            "published [p]; the dashed step line is the Pareto frontier (no other row is both faster and more "
            "accurate). Rows without a usable top-1 are drawn by latency alone in the strip underneath."
            f"</figcaption></figure><h3>Not in the plot</h3><ul>{omitted}</ul>")  # fmt: skip


def _html_provenance(comparison: Comparison) -> str:
    esc = html.escape
    cols = used_columns(comparison)
    legend = "".join(f"<dt>[{tag}]</dt><dd>{esc(text)}</dd>" for tag, text in LEGEND.items())
    timing = "".join(f"<li>{esc(e)}</li>" for e in _timing_evidence(comparison))
    items = [f"<li><b>measured latency, throughput, peak RSS</b> ({esc(_protocol(comparison))})<ul>{timing}</ul></li>"]
    for headline, lines in _column_evidence(comparison, cols):
        items.append(f"<li><b>{esc(headline)}</b><ul>{''.join(f'<li>{esc(e)}</li>' for e in lines)}</ul></li>")
    return f"<h2>Provenance</h2><dl class='legend'>{legend}</dl><ul>{''.join(items)}</ul>"


def render_html(comparison: Comparison, plot_png: bytes | None = None) -> str:
    """The report as one self-contained HTML page (the plot embedded as a data URI); hover a cell for its provenance.

    Args:
        comparison: the table to render.
        plot_png: the plot's PNG bytes (:func:`edgekit.compare.plot.pareto_png`); rendered here when None.
    """
    esc = html.escape
    meta = "".join(f"<p class='meta'>{esc(line).replace('`', '')}</p>" for line in _header_lines(comparison))
    notes = "".join(f"<li>{esc(n)}</li>" for n in comparison.notes + [f"skipped {s}" for s in comparison.skipped])
    plot = _html_plot(comparison, pareto_png(comparison) if plot_png is None else plot_png)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>edgekit compare — "
        f"{comparison.created_at:%Y-%m-%d %H:%M} UTC</title><style>{_CSS}</style></head><body>"
        f"<h1>edgekit compare</h1>{meta}{_html_table(comparison)}<p>Tags: m measured, p published, c computed, "
        f"x predicted (hover a cell for its evidence).</p><ul>{notes}</ul><h2>Top-1 vs latency</h2>{plot}"
        f"{_html_provenance(comparison)}</body></html>\n"
    )


def write_pareto_png(comparison: Comparison, path: Path) -> None:
    """Write the accuracy-vs-latency plot (:func:`edgekit.compare.plot.pareto_png`) atomically."""
    png = pareto_png(comparison)
    with atomic_path(path) as tmp:
        tmp.write_bytes(png)


@dataclass(frozen=True)
class ReportFiles:
    """Paths of the written report."""

    markdown: Path
    html: Path
    plot: Path


def write_report(comparison: Comparison, out_dir: Path) -> ReportFiles:
    """Write ``report.md``, ``report.html`` (self-contained) and ``pareto.png`` into ``out_dir``, each atomically.

    All three are staged before any is renamed into place: a failure on one leaves every old file as it was.
    """
    out_dir = Path(out_dir)
    files = ReportFiles(out_dir / "report.md", out_dir / "report.html", out_dir / "pareto.png")
    png = pareto_png(comparison)
    with contextlib.ExitStack() as staged:
        markdown, page, plot = (staged.enter_context(atomic_path(p)) for p in (files.markdown, files.html, files.plot))
        plot.write_bytes(png)
        markdown.write_text(render_markdown(comparison), encoding="utf-8")
        page.write_text(render_html(comparison, png), encoding="utf-8")
    return files
