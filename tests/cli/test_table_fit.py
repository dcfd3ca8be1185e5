"""Tables fit the terminal: at 80, 120 and 200 columns no cell's word or number is split or cut short.

Each table is rendered on a console of a fixed width; every token of every rendered table line must be a
whole token of the data (a header, a cell, or its abbreviated runtime name), never a piece of one.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from rich import box
from rich.console import Console

from edgekit.bench import fingerprint
from edgekit.cli import bench as bench_cli
from edgekit.cli import compare as compare_cli
from edgekit.cli import recommend as recommend_cli
from edgekit.cli._table import abbreviate, abbreviations, fit_table
from edgekit.compare import CompareConfig, CompareRow, Comparison
from edgekit.metrics import Metric, Provenance, computed, published
from edgekit.recommend import Constraints, recommend

BOX = re.compile(r"[│┃┏┓┗┛┡┩└┘┳┻╇╈━─┼╋┯┷┠┨]+")
WIDTHS = (80, 120, 200)


def _console(width: int) -> Console:
    return Console(width=width, file=io.StringIO(), color_system=None, legacy_windows=False)


def _tokens(text: str) -> set[str]:
    return set(BOX.sub(" ", text).split())


def _data_tokens(headers: list[str], rows: list[list[str]]) -> set[str]:
    words = _tokens(" ".join(headers))
    for row in rows:
        for cell in row:
            words |= _tokens(cell) | _tokens(abbreviate(cell))
    return words


def _table_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if BOX.search(line) and line.strip()[:1] in "│┃"]


@pytest.fixture(scope="module")
def recommendation():
    return recommend(Constraints(ram_mb=512, fps=30), "raspberry-pi-4,rk3588")


@pytest.mark.parametrize("width", WIDTHS)
def test_recommend_tables_split_no_token(recommendation, width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    console = _console(width)
    monkeypatch.setattr(recommend_cli, "console", console)
    recommend_cli._render(recommendation, 15, True)
    output = console.file.getvalue()
    shown = [*recommendation.best_per_device, *recommendation.feasible[:15],
             *sorted(recommendation.rejected, key=lambda c: c.miss)[:15]]  # fmt: skip
    rows = [recommend_cli._row(c, False) for c in shown] + [recommend_cli._row(c, True) for c in shown]
    headers = [c.header for c in recommend_cli._COLUMNS + recommend_cli._REASON_COLUMNS]
    expected = _data_tokens(headers, rows)
    lines = _table_lines(output)
    assert lines, output
    assert max(len(line) for line in output.splitlines()) <= width
    assert "…" not in output
    for line in lines:
        assert _tokens(line) <= expected, (line, _tokens(line) - expected)
    # the columns that are always kept show every candidate's device and model whole
    rendered = _tokens("\n".join(lines))
    assert {c.model for c in shown} | {c.profile for c in shown} <= rendered
    if width == 80:
        assert "left out to fit the terminal: energy mJ" in " ".join(output.split())


def test_recommend_wide_and_piped_keep_every_column(recommendation, monkeypatch: pytest.MonkeyPatch) -> None:
    for width, wide in ((80, True), (250, False)):  # 250: how piped output is laid out (edgekit.cli._common)
        console = _console(width)
        monkeypatch.setattr(recommend_cli, "console", console)
        recommend_cli._render(recommendation, 15, False, wide)
        output = console.file.getvalue()
        assert "left out" not in output
        for header in ("energy", "mJ", "margins", "[interval]"):
            assert header in output, (width, header)
        assert "…" not in output


def _measured(name: str, value: float, unit: str, runtime: str, when: datetime) -> Metric:
    prov = Provenance(kind="measured", host=fingerprint().id, runtime=runtime, tool_versions={runtime: "1.0"},
                      n_samples=10, timestamp=when)  # fmt: skip
    return Metric(name=name, value=value, unit=unit, provenance=prov)


def _comparison() -> Comparison:
    now = datetime.now(timezone.utc)
    rows = []
    for index, (model, runtime, ms) in enumerate([("efficientnet_b0", "onnxruntime-cpu", 1485.3),
                                                  ("mobilenet_v3_large", "openvino-cpu", 3.31),
                                                  ("resnet18", "torch-cpu", 15.65)]):  # fmt: skip
        when = now - timedelta(minutes=12) if index == 0 else now
        cells = {
            "latency_ms_per_image_b1": _measured("latency_ms_per_image_b1", ms, "ms/image", runtime, when),
            "latency_ms_p90_b1": _measured("latency_ms_p90_b1", ms * 1.1, "ms", runtime, when),
            "latency_ms_per_image_b8": _measured("latency_ms_per_image_b8", ms * 0.7, "ms/image", runtime, when),
            "throughput_ips_b8": _measured("throughput_ips_b8", 1034.2, "images/s", runtime, when),
            "peak_rss_mb_b1": _measured("peak_rss_mb_b1", 746, "MB", runtime, when),
            "top1_pct": published("top1_pct", 77.692, "%", "https://example.org/recipe"),
            "size_mb": computed("size_mb", 13.3, "MB", "file size"),
            "macs_giga": computed("macs_giga", 1.814, "GMAC", "edgekit.analyze@1 over sha256:abc"),
            "params_millions": computed("params_millions", 11.69, "M", "edgekit.analyze@1 over sha256:abc"),
        }
        rows.append(CompareRow(model=model, variant="int8" if index else "fp32", runtime=runtime, cells=cells,
                               cached=index == 0))  # fmt: skip
    return Comparison(config=CompareConfig(models=["resnet18"], threads=2), rows=rows, fingerprint=fingerprint(),
                      created_at=now)  # fmt: skip


@pytest.mark.parametrize("width", WIDTHS)
def test_compare_table_splits_no_token_and_marks_stored_rows(width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from edgekit.report import cell_text, used_columns

    result = _comparison()
    console = _console(width)
    monkeypatch.setattr(compare_cli, "console", console)
    compare_cli._print_table(result)
    output = console.file.getvalue()
    cols = used_columns(result)
    rows = [[r.model, r.variant, r.runtime, *(cell_text(r.cells.get(c.id), c.digits) for c in cols),
             compare_cli._age(r)] for r in result.rows]  # fmt: skip
    expected = _data_tokens(["model", "variant", "runtime", "measured", *(c.header for c in cols)], rows)
    lines = _table_lines(output)
    assert "…" not in output
    for line in lines:
        assert _tokens(line) <= expected, (line, _tokens(line) - expected)
    # numbers are whole: each shown latency appears with its tag on one line
    assert "1,485.30 [m]" in output
    # the reused row says how old it is, the fresh ones say "now"; the footer names the store and the protocol
    efficientnet = next(line for line in lines if "efficientnet_b0" in line)
    assert "12 min ago" in efficientnet
    assert "now" in next(line for line in lines if "resnet18" in line)
    flowing = " ".join(output.split())  # footers wrap at spaces on a narrow console
    assert "rows reused from the results store" in flowing
    assert "[m] latency: 3 warm-up, ≥10 runs, ≥1 s per cell" in flowing  # compare's protocol, not bench's
    if width == 80:
        assert "ort = onnxruntime" in output
        assert "ort-cpu" in efficientnet
    if width == 200:
        assert "onnxruntime-cpu" in efficientnet
        assert "left out" not in output


def test_compare_without_stored_rows_has_no_store_column_or_footer(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _comparison()
    result.rows[0].cached = False
    console = _console(200)
    monkeypatch.setattr(compare_cli, "console", console)
    compare_cli._print_table(result)
    output = console.file.getvalue()
    assert "results store" not in output
    assert "measured " not in _table_lines(output)[0]


@pytest.mark.parametrize("width", WIDTHS)
def test_bench_columns_split_no_token(width: int) -> None:
    rows = [[model, runtime, "8", "947.77", "2128.65", "2417.03", "93.7", "118.47", "7.7", "901", "34", "12 min ago"]
            for model in ("efficientnet_b0/int8", "shufflenet_v2_x1_0", "mobilenet_v3_large")
            for runtime in ("onnxruntime-cpu", "openvino-cpu", "torch-cpu")]  # fmt: skip
    cols = [*bench_cli._COLUMNS, bench_cli._STORED]
    console = _console(width)
    fitted = fit_table(console, cols, rows, box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False,
                       collapse_padding=True)  # fmt: skip
    console.print(fitted.table)
    output = console.file.getvalue()
    expected = _data_tokens([c.header for c in cols], rows)
    assert max(len(line) for line in output.splitlines()) <= width
    for line in output.splitlines():
        assert _tokens(line) <= expected, (line, _tokens(line) - expected)
    assert "947.77" in output  # p50 is always kept
    assert ("ort-cpu" in output) == (width < 120)
    assert set(fitted.abbreviated) <= set(abbreviations())


def test_abbreviations_come_from_the_runtimes() -> None:
    assert abbreviations() == {"onnxruntime": "ort", "openvino": "ov"}
    assert abbreviate("onnxruntime-cpu (cpu)") == "ort-cpu (cpu)"
    assert abbreviate("openvino-cpu") == "ov-cpu"
    assert abbreviate("ncnn (gpu)") == "ncnn (gpu)"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("command", ["profiles", "targets"])
def test_listing_tables_split_no_token(command: str, width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from typer.testing import CliRunner

    from edgekit.cli.main import app

    module = importlib.import_module(f"edgekit.cli.{command}")
    console, wide = _console(width), _console(400)
    monkeypatch.setattr(module, "console", wide)
    assert CliRunner().invoke(app, [command, "--wide"]).exit_code == 0
    monkeypatch.setattr(module, "console", console)
    assert CliRunner().invoke(app, [command]).exit_code == 0
    expected = _tokens(wide.file.getvalue()) | _tokens(abbreviate(wide.file.getvalue()))
    lines = _table_lines(console.file.getvalue())
    assert lines
    assert "…" not in console.file.getvalue()
    for line in lines:
        assert _tokens(line) <= expected, (line, _tokens(line) - expected)
