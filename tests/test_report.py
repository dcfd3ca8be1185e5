"""report.md / report.html / pareto.png from a comparison, written atomically."""

from __future__ import annotations

import struct
from datetime import datetime, timezone
from pathlib import Path

import pytest

from edgekit import report
from edgekit.bench import fingerprint
from edgekit.compare import CompareConfig, CompareRow, Comparison
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
    assert (width, height) == (8 * report.PLOT_DPI, 5 * report.PLOT_DPI)
    assert files.markdown.read_text().startswith("# edgekit compare")


def test_a_failed_render_leaves_nothing_half_written(comparison: Comparison, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text("previous report")

    def broken(text: str) -> str:
        raise RuntimeError("disk full")

    monkeypatch.setattr(report, "render_html", lambda c: broken(""))
    with pytest.raises(RuntimeError, match="disk full"):
        report.write_report(comparison, out)
    assert (out / "report.html").read_text() == "previous report"
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_plot_without_accuracy_still_writes_a_png(comparison: Comparison, tmp_path: Path) -> None:
    for row in comparison.rows:
        del row.cells["top1_pct"]
    report.write_pareto_png(comparison, tmp_path / "p.png")
    assert (tmp_path / "p.png").read_bytes().startswith(PNG_MAGIC)
