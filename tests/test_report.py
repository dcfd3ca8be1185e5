"""report.md / report.html / pareto.png from a comparison, written atomically."""

from __future__ import annotations

import base64
import re
import struct
from datetime import datetime, timezone
from pathlib import Path

import pytest

from edgekit import report
from edgekit.bench import fingerprint
from edgekit.compare import CompareConfig, CompareRow, Comparison
from edgekit.compare.plot import plot_data
from edgekit.metrics import Metric, Provenance, computed, published

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _measured(name: str, value: float, unit: str, runtime: str) -> Metric:
    prov = Provenance(kind="measured", host=fingerprint().id, runtime=runtime, tool_versions={runtime: "1.0"},
                      n_samples=10)  # fmt: skip
    return Metric(name=name, value=value, unit=unit, provenance=prov)


def _row(model: str, runtime: str, latency_ms: float, top1: float) -> CompareRow:
    cells = {
        "latency_ms_per_image_b1": _measured("latency_ms_per_image_b1", latency_ms, "ms/image", runtime),
        "latency_ms_p90_b1": _measured("latency_ms_p90_b1", latency_ms * 1.1, "ms", runtime),
        "latency_ms_per_image_b8": _measured("latency_ms_per_image_b8", latency_ms * 0.7, "ms/image", runtime),
        "throughput_ips_b8": _measured("throughput_ips_b8", 1000 / (latency_ms * 0.7), "images/s", runtime),
        "top1_pct": published("top1_pct", top1, "%", "https://example.org/recipe"),
        "macs_giga": computed("macs_giga", 1.814, "GMAC", "edgekit.analyze@1 over sha256:abc"),
    }
    return CompareRow(model=model, variant="fp32", runtime=runtime, cells=cells)


@pytest.fixture
def comparison() -> Comparison:
    rows = [_row("resnet18", "onnxruntime-cpu", 14.0, 69.758), _row("resnet18", "torch-cpu", 30.0, 69.758),
            _row("mobilenet_v2", "onnxruntime-cpu", 5.0, 71.878)]  # fmt: skip
    return Comparison(config=CompareConfig(models=["resnet18", "mobilenet_v2"], threads=2), rows=rows,
                      fingerprint=fingerprint(), notes=["top-1: published"], skipped=["x/y/z: reason"],
                      created_at=datetime(2025, 1, 2, 3, 4, tzinfo=timezone.utc))  # fmt: skip


def test_pareto_front() -> None:
    points = [(14.0, 69.8), (30.0, 69.8), (5.0, 71.9), (3.0, 60.0), (4.0, 60.0)]
    assert report.pareto_front(points) == [3, 2]  # (3, 60) and (5, 71.9) dominate the rest


def test_markdown_has_every_cell_with_its_tag(comparison: Comparison) -> None:
    text = report.render_markdown(comparison)
    header = (
        "| model | variant | runtime | ms/img b1 (p50) | p90 ms b1 | ms/img b8 (p50) | img/s b8 | top-1 % | GMACs |"
    )
    row = "| resnet18 | fp32 | onnxruntime-cpu | 14.00 [m] | 15.40 [m] | 9.80 [m] | 102.0 [m] | 69.76 [p] | 1.814 [c] |"
    assert header in text
    assert row in text
    assert "- skipped x/y/z: reason" in text
    assert "![accuracy vs latency](pareto.png)" in text
    assert (
        "- **measured latency, throughput, peak RSS** (3 warm-up runs, then at least 10 runs and 1 s per cell; "
        "2 threads; one child process per model × runtime; seeded N(0,1) inputs)" in text
    )
    assert f"  - onnxruntime-cpu: host {fingerprint().id}; onnxruntime-cpu 1.0; 10–10 timed iterations per cell" in text
    assert "published; https://example.org/recipe" in text


def test_html_escapes_and_carries_provenance_on_hover(comparison: Comparison) -> None:
    comparison.rows[0].model = "<b>resnet18</b>"
    page = report.render_html(comparison)
    assert "&lt;b&gt;resnet18&lt;/b&gt;" in page
    assert "<b>resnet18</b>" not in page
    assert "title='published; https://example.org/recipe'>69.76 <span class='tag'>p</span>" in page
    assert page.count("<tr>") == 4  # header + 3 rows


def test_write_report_files(comparison: Comparison, tmp_path: Path) -> None:
    files = report.write_report(comparison, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["pareto.png", "report.html", "report.md"]
    png = files.plot.read_bytes()
    assert png.startswith(PNG_MAGIC)
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == tuple(round(side * report.PLOT_DPI) for side in report.PLOT_SIZE_IN) == (1320, 840)
    assert files.markdown.read_text().startswith("# edgekit compare")


def test_a_failed_render_leaves_nothing_half_written(comparison: Comparison, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    out = tmp_path / "out"
    out.mkdir()
    previous = {name: f"previous {name}" for name in ("report.md", "report.html", "pareto.png")}
    for name, text in previous.items():
        (out / name).write_text(text)

    def broken(text: str) -> str:
        raise RuntimeError("disk full")

    monkeypatch.setattr(report, "render_html", lambda c, png=None: broken(""))
    with pytest.raises(RuntimeError, match="disk full"):
        report.write_report(comparison, out)
    # The old report stays whole (no new plot or markdown beside an old page) and no staging file is left.
    assert {p.name: p.read_text() for p in out.iterdir()} == previous


def test_plot_without_accuracy_still_writes_a_png(comparison: Comparison, tmp_path: Path) -> None:
    for row in comparison.rows:
        del row.cells["top1_pct"]
    report.write_pareto_png(comparison, tmp_path / "p.png")
    assert (tmp_path / "p.png").read_bytes().startswith(PNG_MAGIC)


def _measured_top1(value: float) -> Metric:
    prov = Provenance(kind="measured", host=fingerprint().id, runtime="onnxruntime-cpu", n_samples=500,
                      tool_versions={"onnxruntime": "1.0"}, note="on val/ (first 500 images)")  # fmt: skip
    return Metric(name="top1_pct", value=value, unit="%", provenance=prov)


def _int8_row(model: str, runtime: str, latency_ms: float) -> CompareRow:
    row = _row(model, runtime, latency_ms, 0.0)
    del row.cells["top1_pct"]
    return row.model_copy(update={"variant": "int8"})


def test_html_is_self_contained_with_date_versions_host_and_legend(comparison: Comparison) -> None:
    png = report.pareto_png(comparison)
    page = report.render_html(comparison, png)
    sources = re.findall(r"src='([^']*)'", page)
    assert len(sources) == 1
    assert sources[0].startswith("data:image/png;base64,")  # no file beside the page is needed
    assert base64.b64decode(sources[0].split(",", 1)[1]) == png
    assert "pareto.png" not in page
    assert "Generated 2025-01-02 03:04 UTC by edgekit" in page
    fp = fingerprint()
    assert f"Host {fp.id}: {fp.cpu_model}" in page
    for package, version in fp.tool_versions.items():
        assert f"{package} {version}" in page
    for tag in ("[m]", "[p]", "[c]"):
        assert f"<dt>{tag}</dt>" in page
    assert "<h2>Provenance</h2>" in page


def test_plot_uses_measured_top1_where_it_exists_and_lists_what_it_leaves_out(comparison: Comparison) -> None:
    comparison.config = comparison.config.model_copy(update={"weights": "imagenet"})  # measured top-1 is meaningful
    comparison.rows[2].cells["top1_pct"] = _measured_top1(70.5)  # mobilenet_v2 measured on labelled data
    comparison.rows.append(_int8_row("resnet18", "onnxruntime-cpu", 8.0))
    data = plot_data(comparison)
    assert [(p.model, p.runtime, p.kind) for p in data.points] == [
        ("resnet18", "onnxruntime-cpu", "published"), ("resnet18", "torch-cpu", "published"),
        ("mobilenet_v2", "onnxruntime-cpu", "measured"),
    ]  # fmt: skip
    assert data.points[2].top1_pct == 70.5
    assert data.points[2].label == "mobilenet_v2/fp32 · onnxruntime-cpu [m]"
    assert data.points[0].label == "resnet18/fp32 · onnxruntime-cpu [p]"
    assert [(o.row, o.reason.split(":")[0]) for o in data.omitted] == [
        ("resnet18/int8/onnxruntime-cpu", "no top-1"), ("x/y/z", "not measured"),
    ]  # fmt: skip
    assert "edgekit's int8 variant" in data.omitted[0].reason
    assert [data.points[i].model for i in data.front] == ["mobilenet_v2"]  # fastest and most accurate
    markdown = report.render_markdown(comparison)
    assert "- resnet18/int8/onnxruntime-cpu: no top-1" in markdown
    assert "- x/y/z: not measured: reason" in markdown
    assert "<li>resnet18/int8/onnxruntime-cpu: no top-1" in report.render_html(comparison, b"png")


def test_measured_top1_of_random_init_weights_is_not_plotted(comparison: Comparison) -> None:
    noisy = comparison.model_copy(update={"config": comparison.config.model_copy(update={"data": Path("val")})})
    for row in noisy.rows:
        row.cells["top1_pct"] = _measured_top1(0.1)
    assert noisy.config.weights == "none"
    data = plot_data(noisy)
    assert data.points == []
    assert all("random init" in o.reason for o in data.omitted[:3])


def test_plot_labels_every_point_without_overlap_inside_margins(comparison: Comparison) -> None:
    import matplotlib.pyplot as plt

    from edgekit.compare.plot import plot_figure

    comparison.rows += [_row("resnet18", "openvino-cpu", 14.5, 69.758), _row("resnet50", "onnxruntime-cpu", 14.2, 76.1)]
    fig = plot_figure(comparison)
    try:
        (ax,) = fig.axes
        renderer = fig.canvas.get_renderer()
        frame = ax.get_window_extent(renderer)
        labels = [t for t in ax.texts if " · " in t.get_text()]
        assert sorted(t.get_text() for t in labels) == sorted(p.label for p in plot_data(comparison).points)
        boxes = [t.get_window_extent(renderer) for t in labels]
        for i, box in enumerate(boxes):
            assert frame.contains(box.x0, box.y0), labels[i].get_text()
            assert frame.contains(box.x1, box.y1), labels[i].get_text()
            assert not any(box.overlaps(other) for other in boxes[i + 1 :]), labels[i].get_text()
        (x_low, x_high), (y_low, y_high) = ax.get_xlim(), ax.get_ylim()
        points = plot_data(comparison).points
        assert x_low < min(p.latency_ms for p in points)
        assert max(p.latency_ms for p in points) < x_high
        assert y_low < min(p.top1_pct for p in points) - 0.5
        assert max(p.top1_pct for p in points) + 0.5 < y_high
        (frontier,) = [line for line in ax.lines if line.get_linestyle() == "--"]
        # mobilenet_v2 (5 ms, 71.9 %) then resnet50 (14.2 ms, 76.1 %), drawn on to the right edge
        assert list(frontier.get_xdata()) == [5.0, 14.2, x_high]
        assert list(frontier.get_ydata()) == [71.878, 76.1, 76.1]
    finally:
        plt.close(fig)


def test_axis_limits_leave_room_for_a_single_value() -> None:
    from edgekit.compare.plot import axis_limits

    low, high = axis_limits([58.178], 0.18, False, 1.0)
    assert low < 58.178 - 0.9
    assert high > 58.178 + 0.9
    low, high = axis_limits([0.5, 50.0], 0.12, True)
    assert low < 0.5
    assert high > 50.0


def test_rows_without_top1_are_drawn_by_latency_in_a_strip(comparison: Comparison) -> None:
    import matplotlib.pyplot as plt

    from edgekit.compare.plot import plot_figure

    comparison.rows.append(_int8_row("resnet18", "onnxruntime-cpu", 8.0))
    fig = plot_figure(comparison)
    try:
        ax, strip = fig.axes
        assert [t.get_text() for t in strip.get_yticklabels()] == ["resnet18/int8"]
        (offsets,) = [c.get_offsets() for c in strip.collections]
        assert offsets.tolist() == [[8.0, 0.0]]
        assert strip.get_xlim() == ax.get_xlim()  # one latency axis for both
    finally:
        plt.close(fig)
