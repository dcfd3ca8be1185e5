"""The report's accuracy-vs-latency plot: which rows it shows, with which accuracy, and the PNG.

One point per (model, variant, runtime) row: x is the measured batch-1 latency per image (p50),
y the top-1 the row carries — *measured* on labelled data where it exists (and the weights make
it meaningful), else *published*. Points are filled when their top-1 is measured and hollow when
published, and each is labelled. Rows with no usable top-1 are left out and listed with the
reason, so nothing disappears silently. The Pareto frontier (lower latency, higher top-1) is
drawn as a step line.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from edgekit.compare._config import CompareRow, Comparison
from edgekit.evaluate import NOT_MEANINGFUL
from edgekit.metrics import ProvenanceKind
from edgekit.models import parse_weights
from edgekit.models._source import is_registry_name

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

LATENCY = "latency_ms_per_image_b1"
TOP1 = "top1_pct"
PLOT_DPI = 120
PLOT_SIZE_IN = (11.0, 7.0)  # 1320×840 px at PLOT_DPI: room for the legend beside the axes and the strip
# Latencies spanning more than this ratio are drawn on a log axis so that fast points stay apart.
LOG_AXIS_RATIO = 10.0
# Share of the data range (or of the value, when the range is zero) left free on each side of
# the axes, so no point sits on the frame and labels fit inside.
X_MARGIN = 0.12
Y_MARGIN = 0.18
MIN_Y_PAD_PCT = 1.0  # percentage points above and below when every point has the same top-1
# Height of the latency-only strip relative to the main axes (MAIN_RATIO).
MAIN_RATIO = 4.0
STRIP_RATIO_BASE = 0.5
STRIP_RATIO_PER_GROUP = 0.3
_TAGS = {"measured": "m", "published": "p"}
_MARKERS = "osD^vP*Xh<>"


@dataclass(frozen=True)
class PlotPoint:
    """One plotted row."""

    model: str
    variant: str
    runtime: str
    latency_ms: float
    top1_pct: float
    kind: ProvenanceKind

    @property
    def group(self) -> str:
        """``model/variant``: points of one group share a marker (and, per runtime, a colour)."""
        return f"{self.model}/{self.variant}"

    @property
    def label(self) -> str:
        """``model/variant · runtime [p]``, the tag saying where its top-1 came from."""
        return f"{self.group} · {self.runtime} [{_TAGS.get(self.kind, self.kind)}]"


@dataclass(frozen=True)
class Omitted:
    """A row the plot does not show, and why."""

    row: str
    reason: str
    group: str = ""  # model/variant, for the latency-only strip
    runtime: str = ""
    latency_ms: float | None = None  # measured batch-1 latency, drawn in the latency-only strip


@dataclass(frozen=True)
class PlotData:
    """The points, the frontier (indices into ``points`` by latency) and the rows left out."""

    points: list[PlotPoint]
    front: list[int]
    omitted: list[Omitted]

    @property
    def latency_only(self) -> list[Omitted]:
        """Rows without a usable top-1 that have a latency: drawn in a strip under the axes."""
        return [o for o in self.omitted if o.latency_ms is not None]

    @property
    def kinds(self) -> list[str]:
        """Provenance kinds of the plotted top-1 figures."""
        return sorted({p.kind for p in self.points})


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of points not dominated in (lower x, higher y), sorted by x."""
    front = []
    for i, (x, y) in enumerate(points):
        dominated = any((ox <= x and oy >= y) and (ox < x or oy > y) for j, (ox, oy) in enumerate(points) if j != i)
        if not dominated:
            front.append(i)
    return sorted(front, key=lambda i: (points[i][0], -points[i][1]))


def _omission(row: CompareRow, meaningful: bool) -> str | None:
    """Why ``row`` cannot be plotted, or None when it can."""
    if LATENCY not in row.cells:
        return "no batch-1 latency"
    top1 = row.cells.get(TOP1)
    if top1 is None:
        if row.variant == "fp32":
            return "no top-1 figure"
        return (f"no top-1: published figures are of torchvision's fp32 weights, not of edgekit's {row.variant} "
                "variant; measure it with --data DIR (its fidelity vs fp32 is in the table)")  # fmt: skip
    # A registry row follows --weights; an own model's row (its own checkpoint or file) says so in its note.
    noise = NOT_MEANINGFUL in (top1.provenance.note or "") or (is_registry_name(row.model) and not meaningful)
    if top1.provenance.kind == "measured" and noise:
        return "its measured top-1 is noise: the weights are random init (use --weights imagenet or a checkpoint)"
    if top1.provenance.kind not in _TAGS:
        return f"its top-1 is {top1.provenance.kind}, not measured or published"
    return None


def plot_data(comparison: Comparison) -> PlotData:
    """The plot's points and the rows it leaves out (including rows the comparison skipped)."""
    meaningful = parse_weights(comparison.config.weights).accuracy_meaningful
    points, omitted = [], []
    for row in comparison.rows:
        reason = _omission(row, meaningful)
        if reason is not None:
            latency = row.cells.get(LATENCY)
            omitted.append(Omitted(f"{row.model}/{row.variant}/{row.runtime}", reason, f"{row.model}/{row.variant}",
                                   row.runtime, latency.value if latency else None))  # fmt: skip
            continue
        top1 = row.cells[TOP1]
        points.append(PlotPoint(model=row.model, variant=row.variant, runtime=row.runtime,
                                latency_ms=row.cells[LATENCY].value, top1_pct=top1.value,
                                kind=top1.provenance.kind))  # fmt: skip
    for skipped in comparison.skipped:
        row, _, reason = skipped.partition(": ")
        omitted.append(Omitted(row, f"not measured: {reason}" if reason else "not measured"))
    front = pareto_front([(p.latency_ms, p.top1_pct) for p in points])
    return PlotData(points=points, front=front, omitted=omitted)


def y_axis_label(kinds: list[str]) -> str:
    """The y axis says which provenance its figures have."""
    parts = {"measured": "[m] measured", "published": "[p] published"}
    return f"top-1 % ({', '.join(parts[k] for k in kinds if k in parts)})" if kinds else "top-1 %"


def axis_limits(values: list[float], margin: float, log: bool, min_pad: float = 0.0) -> tuple[float, float]:
    """Limits that leave ``margin`` of the range (or of the value, for a zero range) free on each side."""
    if log:
        low, high = math.log10(min(values)), math.log10(max(values))
        pad = (high - low) * margin or math.log10(1 + margin * 2)
        return 10 ** (low - pad), 10 ** (high + pad)
    low, high = min(values), max(values)
    pad = max((high - low) * margin, min_pad, abs(high) * margin if high == low else 0.0)
    return low - pad, high + pad


def plot_figure(comparison: Comparison) -> Figure:
    """The accuracy-vs-latency figure (``PLOT_SIZE_IN`` at ``PLOT_DPI``); the caller closes it."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never a display
    import matplotlib.pyplot as plt

    data = plot_data(comparison)
    strip_groups = len({o.group for o in data.latency_only})
    # label offsets are in px, so the figure is drawn at the file's dpi
    if strip_groups:
        ratios = [MAIN_RATIO, STRIP_RATIO_BASE + STRIP_RATIO_PER_GROUP * strip_groups]
        fig, (ax, strip) = plt.subplots(2, 1, sharex=True, figsize=PLOT_SIZE_IN, dpi=PLOT_DPI,
                                        gridspec_kw={"height_ratios": ratios})  # fmt: skip
    else:
        fig, ax = plt.subplots(figsize=PLOT_SIZE_IN, dpi=PLOT_DPI)
        strip = None
    try:
        _draw(fig, ax, strip, data, comparison)
    except BaseException:
        plt.close(fig)
        raise
    return fig


def pareto_png(comparison: Comparison) -> bytes:
    """The accuracy-vs-latency plot as PNG bytes."""
    import matplotlib.pyplot as plt

    fig = plot_figure(comparison)
    try:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=PLOT_DPI)
        return buffer.getvalue()
    finally:
        plt.close(fig)


_GAP_PX = 7  # between a point and its label
_LABEL_FONT_PT = 8
_POINT_BOX_PX = 14  # a point's own footprint, kept free of labels
_MAX_LABEL_STEPS = 8  # how many label heights above/below a point a label may move
_LEADER = {"arrowstyle": "-", "color": "#999", "lw": 0.6, "shrinkB": 5}  # thin line to a label moved away


def _title(comparison: Comparison, data: PlotData) -> str:
    fp = comparison.fingerprint
    title = f"top-1 vs batch-1 latency on {fp.cpu_model}, {comparison.config.threads} threads"
    if "published" in data.kinds and not parse_weights(comparison.config.weights).accuracy_meaningful:
        title += "\nlatency timed with random-init weights (it does not depend on them); [p] top-1: pretrained weights"
    return title


def _draw(fig: Figure, ax: Axes, strip: Axes | None, data: PlotData, comparison: Comparison) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    points, latency_only = data.points, data.latency_only
    runtimes = sorted({p.runtime for p in points} | {o.runtime for o in latency_only})
    groups = sorted({p.group for p in points})
    colours = plt.get_cmap("tab10")

    def colour(runtime: str) -> object:
        return colours(runtimes.index(runtime) % 10)

    def marker(group: str) -> str:
        return _MARKERS[groups.index(group) % len(_MARKERS)]

    for p in points:
        face = colour(p.runtime) if p.kind == "measured" else "white"
        ax.scatter(p.latency_ms, p.top1_pct, s=64, marker=marker(p.group), facecolors=face,
                   edgecolors=colour(p.runtime), linewidths=1.6, zorder=3)  # fmt: skip
    handles = [Line2D([], [], ls="", marker="o", color=colour(r), label=r) for r in runtimes]
    handles += [Line2D([], [], ls="", marker=marker(g), color="#555", markerfacecolor="none", label=g) for g in groups]
    handles += [Line2D([], [], ls="", marker="o", color="#555", label="filled: top-1 measured [m]")] * (
        "measured" in data.kinds
    )
    handles += [Line2D([], [], ls="", marker="o", color="#555", markerfacecolor="white",
                       label="hollow: top-1 published [p]")] * ("published" in data.kinds)  # fmt: skip
    bottom = strip if strip is not None else ax
    bottom.set_xlabel("latency per image at batch 1, p50 (ms, measured)  —  lower is better")
    ax.set_ylabel(y_axis_label(data.kinds) + ", higher is better")
    ax.set_title(_title(comparison, data), fontsize=10)
    ax.grid(alpha=0.3, which="both")
    xs = [p.latency_ms for p in points] + [o.latency_ms for o in latency_only if o.latency_ms is not None]
    if not points:
        ax.text(0.5, 0.5, "no row has a usable top-1: the rows left out are listed below the plot",
                transform=ax.transAxes, ha="center", va="center", color="#a00")  # fmt: skip
    if xs:
        _set_x_axis(ax, xs)
    if points:
        ax.set_ylim(*axis_limits([p.top1_pct for p in points], Y_MARGIN, False, MIN_Y_PAD_PCT))
    front = [points[i] for i in data.front]
    if front:
        ax.step([p.latency_ms for p in front] + [ax.get_xlim()[1]], [p.top1_pct for p in front] + [front[-1].top1_pct],
                where="post", color="#333", lw=1.2, ls="--", zorder=2)  # fmt: skip
        handles.append(Line2D([], [], color="#333", lw=1.2, ls="--", label="Pareto frontier (bold labels)"))
    if strip is not None:
        _draw_strip(strip, latency_only, colour)
        handles.append(Line2D([], [], ls="", marker="D", color="#555", label="no top-1: latency only (strip)"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    fig.tight_layout()
    if points:
        _place_labels(fig, ax, data)


def _set_x_axis(ax: Axes, xs: list[float]) -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator

    log = max(xs) / max(min(xs), 1e-9) > LOG_AXIS_RATIO
    if log:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlim(*axis_limits(xs, X_MARGIN, log))


def _draw_strip(strip: Axes, rows: list[Omitted], colour: Callable[[str], object]) -> None:
    """Rows without a usable top-1, by latency: one line per model/variant, colour = runtime."""
    groups = sorted({o.group for o in rows})
    for o in rows:
        strip.scatter(o.latency_ms, groups.index(o.group), s=40, marker="D", color=colour(o.runtime), zorder=3)
    strip.set_yticks(range(len(groups)), groups, fontsize=8)
    strip.set_ylim(-0.7, len(groups) - 0.3)
    strip.invert_yaxis()
    strip.grid(alpha=0.3, which="both")
    strip.set_title("no usable top-1 — latency only (the reasons are listed below the plot)", fontsize=9, loc="left")


def _candidates(w: float, h: float) -> list[tuple[float, float]]:
    """Label offsets (lower-left corner relative to the point, px), nearest first."""
    g = _GAP_PX
    near = [(g, g / 2), (g, -h - g / 2), (-g - w, g / 2), (-g - w, -h - g / 2), (-w / 2, g + 2), (-w / 2, -h - g - 2)]
    far = [
        (dx, dy)
        for k in range(1, _MAX_LABEL_STEPS + 1)
        for dy in (g / 2 + k * (h + 3), -h - g / 2 - k * (h + 3))
        for dx in (g, -g - w)
    ]
    return near + far


def _place_labels(fig: Figure, ax: Axes, data: PlotData) -> None:
    """Label every point where the label overlaps no other label or point and stays inside the axes."""
    from matplotlib.transforms import Bbox

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer).padded(-2)
    anchors = ax.transData.transform([(p.latency_ms, p.top1_pct) for p in data.points])
    half = _POINT_BOX_PX / 2
    taken = [Bbox.from_bounds(x - half, y - half, _POINT_BOX_PX, _POINT_BOX_PX) for x, y in anchors]
    frontier = set(data.front)
    for i in sorted(range(len(data.points)), key=lambda i: (-anchors[i][1], anchors[i][0])):
        point, (x, y) = data.points[i], anchors[i]
        weight = "bold" if i in frontier else "normal"
        probe = ax.text(0, 0, point.label, fontsize=_LABEL_FONT_PT, fontweight=weight)
        box = probe.get_window_extent(renderer)
        probe.remove()
        w, h = box.width, box.height
        inside = [(dx, dy) for dx, dy in _candidates(w, h) if frame.contains(x + dx, y + dy)
                  and frame.contains(x + dx + w, y + dy + h)]  # fmt: skip
        free = [o for o in inside if not any(Bbox.from_bounds(x + o[0], y + o[1], w, h).overlaps(t) for t in taken)]
        dx, dy = (free or inside or _candidates(w, h))[0]
        taken.append(Bbox.from_bounds(x + dx, y + dy, w, h))
        far = abs(dy) > h + _GAP_PX
        ax.annotate(point.label, xy=(point.latency_ms, point.top1_pct), xytext=(dx, dy), textcoords="offset pixels",
                    ha="left", va="bottom", fontsize=_LABEL_FONT_PT, fontweight=weight, zorder=4,
                    arrowprops=_LEADER if far else None)  # fmt: skip
