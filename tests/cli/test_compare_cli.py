"""`edgekit compare`: bad input → one line + exit 2; a real run writes the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edgekit.cli.main import app

runner = CliRunner()
QUICK = ["--warmup", "1", "--min-iters", "2", "--min-seconds", "0", "--threads", "1"]


def _one_error_line(result: object) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_class_count_mismatch(image_folder: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["compare", "resnet18", "--data", str(image_folder), "--out", str(tmp_path / "r")])
    assert _one_error_line(result) == (
        f"error: {image_folder} has 3 class folders but resnet18 predicts 1000 classes; the sorted class folders "
        "must be the model's output indices (ImageNet-val layout: 1000 wnid folders), or each folder must be named "
        "by its output index (e.g. 967-espresso) or by one of the model's class names"
    )
    assert not (tmp_path / "r").exists()  # nothing written


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    line = _one_error_line(runner.invoke(app, ["compare", "resnet18", "--data", str(tmp_path / "empty")]))
    assert line == f"error: {tmp_path / 'empty'} has no class sub-folders (expected <dir>/<class>/<image>)"


def test_undecodable_folder(tmp_path: Path) -> None:
    data = tmp_path / "val"
    for index in range(1000):  # the right class count, but nothing decodes
        (data / f"n{index:08d}").mkdir(parents=True)
        (data / f"n{index:08d}" / "0.JPEG").write_bytes(b"\xff\xd8 truncated")
    line = _one_error_line(runner.invoke(app, ["compare", "squeezenet1_1", "--data", str(data), "--limit", "5"]))
    assert line == f"error: no readable images in {data} (5 image files tried)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--batch", "0"], "error: --batch takes positive integers separated by commas (e.g. 1,8), got '0'"),
        (
            ["--batch", "1"],
            "error: --batch names the table's one larger batch (batch 1 is always measured), e.g. 8 or 1,8; got 1",
        ),
        (
            ["--batch", "4,8"],
            "error: --batch names the table's one larger batch (batch 1 is always measured), e.g. 8 or 1,8; got 4,8",
        ),
        (
            ["--variant", "int9"],
            "error: --variants: Value error, unknown variant(s) ['int9']; available: fp16, fp32, "
            "int8, ort-dynamic, pruned30, pruned30-int8, pruned50, seed-l1",
        ),
        (
            ["--targets", "tensorrt"],
            "error: target tensorrt cannot be converted and timed here; timeable targets: "
            "onnxruntime-cpu, openvino-cpu, ncnn",
        ),
        (
            ["--targets", "openvno-cpu"],
            "error: unknown target 'openvno-cpu'; did you mean openvino-cpu, onnxruntime-cpu?",
        ),
        (["--limit", "0"], "error: --limit: Input should be greater than or equal to 1"),
        (["-r", "torch-cuda"], "error: runtime 'torch-cuda' runs on cuda, but --device is cpu"),
    ],
)
def test_bad_options(args: list[str], message: str) -> None:
    assert _one_error_line(runner.invoke(app, ["compare", "resnet18", *args])) == message


def test_device_cuda_without_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from edgekit.runtimes import onnxruntime as onnxruntime_ep

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(onnxruntime_ep, "_available_providers", lambda: ["CPUExecutionProvider"])
    line = _one_error_line(runner.invoke(app, ["compare", "resnet18", "mobilenet_v2", "--device", "cuda"]))
    assert line.startswith("error: --device cuda: no GPU runtime is usable here")


def test_compare_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = runner.invoke(app, ["compare", "squeezenet1_1", "-r", "onnxruntime", *QUICK, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "squeezenet1_1" in result.stdout
    assert "58.18 [p]" in result.stdout  # published top-1, labelled
    assert f"report: {out / 'report.md'}" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["pareto.png", "report.html", "report.md"]
    assert "| squeezenet1_1 | fp32 | onnxruntime-cpu |" in (out / "report.md").read_text()


def test_compare_json(tmp_path: Path) -> None:
    args = ["compare", "squeezenet1_1", "-r", "onnxruntime", *QUICK, "--out", str(tmp_path / "r"), "--json"]
    payload = json.loads(runner.invoke(app, args).stdout)
    (row,) = payload["comparison"]["rows"]
    assert row["cells"]["latency_ms_per_image_b1"]["provenance"]["kind"] == "measured"
    assert row["cells"]["peak_rss_mb_b1"]["unit"] == "MB"
    assert payload["report"]["plot"] == str(tmp_path / "r" / "pareto.png")


@pytest.mark.slow
def test_compare_default_runtimes_end_to_end(tmp_path: Path) -> None:
    result = runner.invoke(app, ["compare", "squeezenet1_1", *QUICK, "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    for runtime in ("torch-cpu", "onnxruntime-cpu", "openvino-cpu"):
        assert runtime in result.stdout
