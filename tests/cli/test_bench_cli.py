"""`edgekit bench`: bad input → one line + exit 2; JSON with measured provenance; the store; --fresh."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edgekit.cli.main import app
from tests.bench._tiny import tiny_onnx

runner = CliRunner()
QUICK = ["--warmup", "1", "--min-iters", "3", "--min-seconds", "0"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_onnx(tmp_path_factory.mktemp("cli") / "tiny.onnx")


def _one_error_line(result: object) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--batch", "0"], "error: --batch takes positive integers separated by commas (e.g. 1,8), got '0'"),
        (["--batch", "1,x"], "error: --batch takes positive integers separated by commas (e.g. 1,8), got '1,x'"),
        (["--threads", "0"], "error: --threads must be at least 1, got 0"),
        (["--device", "gpu"], "error: --device must be one of cpu, cuda, got 'gpu'"),
        (["--min-iters", "0"], "error: --min-iters: Input should be greater than or equal to 1"),
        (["-r", "tensorflow"], "error: unknown runtime 'tensorflow'; known: "),
    ],
)
def test_bad_input_is_one_line_exit_2(args: list[str], message: str) -> None:
    line = _one_error_line(runner.invoke(app, ["bench", "resnet18", *args]))
    assert line.startswith(message)


def test_device_cuda_without_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from edgekit.runtimes import onnxruntime as onnxruntime_ep

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(onnxruntime_ep, "_available_providers", lambda: ["CPUExecutionProvider"])
    line = _one_error_line(runner.invoke(app, ["bench", "resnet18", "--device", "cuda"]))
    assert line.startswith("error: --device cuda: no GPU runtime is usable here (onnxruntime-cuda: ")


def test_unknown_model_and_missing_file() -> None:
    assert _one_error_line(runner.invoke(app, ["bench", "resnet81"])).startswith(
        "error: unknown model 'resnet81'; did you mean resnet18"
    )
    assert _one_error_line(runner.invoke(app, ["bench", "missing.onnx"])) == "error: no such model file: missing.onnx"


def test_a_file_only_torch_can_not_run(tiny: Path) -> None:
    line = _one_error_line(runner.invoke(app, ["bench", str(tiny), "-r", "torch"]))
    assert line == f"error: nothing to run: {tiny} on torch-cpu: torch-cpu loads registry models only"


def test_json_rows_store_and_fresh(tiny: Path) -> None:
    args = ["bench", str(tiny), "-r", "onnxruntime", "--batch", "2,1", "--threads", "1", *QUICK, "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    payload = json.loads(first.stdout)
    assert payload["accuracy"] == {}  # a file has no registry accuracy
    rows = payload["results"]
    assert [(r["result"]["spec"]["batch"], r["cached"]) for r in rows] == [(1, False), (2, False)]
    p50 = next(m for m in rows[0]["metrics"] if m["name"] == "latency_ms_p50")
    assert p50["provenance"]["kind"] == "measured"
    assert p50["provenance"]["runtime"] == "onnxruntime-cpu"
    assert rows[0]["result"]["memory"]["peak_rss_mb"] > 0  # a child process per model × runtime
    again = json.loads(runner.invoke(app, args).stdout)["results"]
    assert [r["cached"] for r in again] == [True, True]
    assert [r["result"]["run_id"] for r in again] == [r["result"]["run_id"] for r in rows]
    fresh = json.loads(runner.invoke(app, [*args, "--fresh"]).stdout)["results"]
    assert [r["cached"] for r in fresh] == [False, False]


def test_table_output(tiny: Path) -> None:
    args = ["bench", str(tiny), "-r", "onnxruntime-cpu", "--threads", "1", *QUICK]
    result = runner.invoke(app, [*args, "--fresh"])  # other tests of this module may have stored the cell
    assert result.exit_code == 0, result.output
    # the protocol behind "measured" is named: QUICK is 1 warm-up, 3 runs, 0 s
    assert "edgekit bench — measured (1 warm-up, ≥3 runs, ≥0 s per cell), 1 threads" in result.stdout
    assert "tiny" in result.stdout
    assert "onnxruntime-cpu" in result.stdout
    assert "host " in result.stdout
    assert "onnxruntime 1." in result.stdout
    # a fresh run has no "from the results store" column or footer; the same run again reuses the row, with its age
    assert "results store" not in result.stdout
    assert "measured  " not in result.stdout.splitlines()[2]
    again = runner.invoke(app, args).stdout
    assert "measured: reused from the results store, with its age (--fresh re-measures)" in again
    row = next(line for line in again.splitlines() if line.strip().startswith("tiny"))
    assert re.search(r"\d+ s ago$", row.rstrip()), row


def test_registry_model_shows_published_top1_and_data_is_checked_first(image_folder: Path) -> None:
    args = ["bench", "squeezenet1_1", "-r", "onnxruntime", "--threads", "1", *QUICK]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "squeezenet1_1: 58.18 % (published)" in result.stdout
    line = _one_error_line(runner.invoke(app, [*args, "--data", str(image_folder)]))
    assert line.startswith(f"error: {image_folder} has 3 class folders but squeezenet1_1 predicts 1000 classes")
