"""`edgekit optimize` and `edgekit recipes`: output, JSON, and one-line errors with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edgekit.cli.main import app

runner = CliRunner()


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_recipes_table_and_json() -> None:
    table = runner.invoke(app, ["recipes"])
    assert table.exit_code == 0
    for name in ("fp32", "fp16", "int8", "seed-dynamic", "seed-l1", "pruned30", "pruned30-int8"):
        assert name in table.stdout
    rows = json.loads(runner.invoke(app, ["recipes", "seed*", "--json"]).stdout)
    assert [(r["name"], r["output_kind"], r["baseline"]) for r in rows] == [
        ("seed-dynamic", "torch", True), ("seed-l1", "onnx", True),
    ]  # fmt: skip
    assert [s["pass_name"] for s in rows[1]["steps"]] == ["prune_l1", "export_onnx", "simplify"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--recipe", "int9"], "error: unknown recipe 'int9'; did you mean int8?"),
        (["--recipe", "fp32", "--opset", "99"], "error: --opset 99 is outside 11..20 (torch's exporter)"),
    ],
)
def test_bad_recipe_or_option_is_one_line_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["optimize", "mobilenet_v3_small", *args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert _one_error_line(result.stderr) == message
    assert not (tmp_path / "out").exists()


def test_unknown_model_is_one_line_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["optimize", "resnet19", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert _one_error_line(result.stderr).startswith("error: unknown model 'resnet19'; did you mean resnet18")


def test_output_path_that_is_a_file_is_one_line_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "out.onnx"
    blocker.write_text("keep")
    result = runner.invoke(app, ["optimize", "mobilenet_v3_small", "--out", str(blocker)])
    assert result.exit_code == 2
    assert _one_error_line(result.stderr) == (
        f"error: output path {blocker} is not usable: {blocker} is a file; give a folder"
    )
    assert blocker.read_text() == "keep"


def test_calibration_folder_without_readable_images_is_one_line_exit_2(tmp_path: Path) -> None:
    calib = tmp_path / "calib"
    calib.mkdir()
    (calib / "a.jpg").write_bytes(b"\xff\xd8 truncated")
    result = runner.invoke(app, ["optimize", "mobilenet_v3_small", "--recipe", "int8", "--calib", str(calib),
                                 "--out", str(tmp_path / "out")])  # fmt: skip
    assert result.exit_code == 2
    assert _one_error_line(result.stderr) == f"error: no readable images in {calib} (1 image files tried)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calib"]  # nothing half-written


@pytest.mark.torchvision
def test_optimize_writes_a_verified_variant_and_reports_it(tmp_path: Path) -> None:
    out = tmp_path / "v"
    result = runner.invoke(app, ["optimize", "mobilenet_v3_small", "--recipe", "fp32", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "mobilenet_v3_small · recipe fp32 · weights none"
    assert "export_onnx          passed" in result.stdout
    assert f"verdict   PASSED   manifest {out / 'manifest.json'}" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "mobilenet_v3_small-fp32.onnx"]
    again = runner.invoke(app, ["optimize", "mobilenet_v3_small", "--out", str(out), "--static-batch", "--json"])
    payload = json.loads(again.stdout)
    assert payload["verdict"] == "passed"
    assert payload["manifest"]["input"]["shape"] == [1, 3, 224, 224]
    assert payload["manifest"]["lineage"][0]["config"]["dynamic_batch"] is False


def test_a_variant_that_fails_verification_exits_1_after_its_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import edgekit.optimize
    from edgekit.verify import TOLERANCES, Tolerance
    from tests.passes.tiny import TINY_PREP, TinyNet, seeded

    strict = Tolerance(name="FP16_TOO_STRICT", rule="relative_max_error", max_relative_error=1e-12, why="test")
    monkeypatch.setitem(TOLERANCES, "fp16", strict)

    def tiny_optimize(model: str, recipe: str, weights: str, calib: Path | None, out: Path, **_: object) -> object:
        source = edgekit.optimize.SourceModel(name="tiny", module=seeded(TinyNet), preprocessing=TINY_PREP)
        return edgekit.optimize.optimize_module(source, recipe, out)

    monkeypatch.setattr(edgekit.optimize, "optimize", tiny_optimize)
    result = runner.invoke(app, ["optimize", "tiny", "--recipe", "fp16", "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "fp16                 failed" in result.stdout
    assert "verdict   FAILED" in result.stdout
    assert _one_error_line(result.stderr) == (
        f"error: tiny fp16 failed verification at fp16; see {tmp_path / 'out' / 'manifest.json'}"
    )
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["manifest.json"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--recipe", "int8", "--max-drop", "1"], "error: --max-drop needs --data DIR: the top-1 drop is measured on a "
         "labelled image folder"),
        (["--recipe", "fp16", "--max-drop", "1", "--data", "DATA"], "error: --max-drop applies to recipes that end in "
         "static int8 (e.g. int8), not fp16"),
    ],
)  # fmt: skip
def test_max_drop_without_data_or_int8_is_one_line_exit_2(tmp_path: Path, image_folder: Path, args: list[str],
                                                          message: str) -> None:  # fmt: skip
    args = [str(image_folder) if a == "DATA" else a for a in args]
    result = runner.invoke(app, ["optimize", "mobilenet_v3_small", *args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert _one_error_line(result.stderr) == message
    assert not (tmp_path / "out").exists()
