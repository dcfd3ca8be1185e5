"""`edgekit targets` and `edgekit export`: exit codes, one-line errors, key output lines."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from edgekit.cli.main import app
from tests.targets._graphs import classifier, save

runner = CliRunner()


def test_targets_lists_every_target_with_verifiability() -> None:
    result = runner.invoke(app, ["targets"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[1]: line for line in result.output.splitlines() if line.startswith("│")}
    assert len(rows) == 11
    assert "verified" in rows["onnxruntime-cpu"]
    assert "pre-flight" in rows["tensorrt"]
    assert "tensorrt: not verifiable on a host without an NVIDIA GPU" in result.output


def test_targets_json_carries_specs_and_the_verdict() -> None:
    result = runner.invoke(app, ["targets", "onnxruntime*", "--json"])
    assert result.exit_code == 0
    data = {row["id"]: row for row in json.loads(result.stdout)}
    assert set(data) == {"onnxruntime-cpu", "onnxruntime-cuda"}
    assert data["onnxruntime-cpu"]["verifiable_here"] is True
    assert data["onnxruntime-cpu"]["runtime_overhead_mb"]["basis"] == "measured"
    why = data["onnxruntime-cuda"]["why_not_verifiable"]
    assert why == "needs onnxruntime-gpu with the CUDA provider and an NVIDIA GPU"


def test_export_onnx_file(tmp_path: Path) -> None:
    source = save(classifier(), tmp_path / "tiny.onnx")
    result = runner.invoke(app, ["export", str(source), "--target", "onnxruntime-cpu", "--out", str(tmp_path / "o"),
                                 "--samples", "2"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "pre-flight passed for target onnxruntime-cpu (fp32, opset 17)" in result.output
    assert "parity ok (gated, FP32_MAX_RELATIVE_ERROR)" in result.output
    assert (tmp_path / "o" / "manifest.json").is_file()


def test_export_op_the_target_lacks_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    source = save(classifier("Erf"), tmp_path / "erf.onnx")
    result = runner.invoke(app, ["export", str(source), "-t", "rknn", "--precision", "fp16", "--out",
                                 str(tmp_path / "o")])  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.startswith("error: pre-flight failed for target rknn: operator Erf (1 node, e.g. erf0) is "
                                    "not supported by target rknn")  # fmt: skip
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_export_bad_inputs_exit_2(tmp_path: Path) -> None:
    source = save(classifier(), tmp_path / "tiny.onnx")
    unknown = runner.invoke(app, ["export", str(source), "-t", "tensorrtt"])
    assert unknown.exit_code == 2
    assert unknown.stderr.strip() == "error: unknown target 'tensorrtt'; did you mean tensorrt?"
    bad_param = runner.invoke(app, ["export", str(source), "-t", "rknn", "--precision", "fp16", "--param", "rk3568"])
    assert bad_param.exit_code == 2
    assert "--param takes key=value (e.g. target_platform=rk3568), got 'rk3568'" in bad_param.stderr
    wrong_precision = runner.invoke(app, ["export", "resnet18", "-t", "esp-dl", "--recipe", "fp16"])
    assert wrong_precision.exit_code == 2
    assert wrong_precision.stderr.strip() == "error: target esp-dl accepts int8; the recipe makes fp16"


def test_export_param_reaches_the_handoff(tmp_path: Path) -> None:
    source = save(classifier(), tmp_path / "tiny.onnx")
    result = runner.invoke(app, ["export", str(source), "-t", "rknn", "--precision", "fp16", "--param",
                                 "target_platform=rk3568", "--out", str(tmp_path / "o"), "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    handoff = json.loads(result.stdout)["manifest"]["handoff"]
    assert handoff["parameters"] == {"target_platform": "rk3568"}
    assert "target_platform='rk3568'" in handoff["commands"][0]


def test_export_says_what_is_not_deployable_and_the_size(tmp_path: Path) -> None:
    source = save(classifier(), tmp_path / "tiny.onnx")
    out = tmp_path / "o"
    result = runner.invoke(app, ["export", str(source), "-t", "onnxruntime-cpu", "--recipe", "int8", "--out", str(out),
                                 "--samples", "2"])  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    size = (out / "tiny-int8.onnx").stat().st_size
    assert f"  size: tiny-int8.onnx {size / 1024:.3g} KB; folder " in result.stdout
    assert "note: assumed ImageNet mean/std at 32 px (give --mean/--std if the model was trained otherwise)" in lines
    assert ("warning: int8 calibrated on generated images (32, seeded), not on your data: int8 ranges fit noise; "
            "give --calib DIR with representative images before deploying") in lines  # fmt: skip
    assert not any("random-init" in line for line in lines)  # an ONNX file's weights are its own
    args = ["export", str(source), "-t", "onnxruntime-cpu", "--recipe", "int8", "--out", str(tmp_path / "c"),
            "--samples", "2", "--calib", str(_images(tmp_path))]  # fmt: skip
    calibrated = runner.invoke(app, args)
    assert calibrated.exit_code == 0, calibrated.output
    assert "calibrated on generated images" not in calibrated.stdout


def _images(tmp_path: Path) -> Path:
    from PIL import Image

    folder = tmp_path / "calib"
    folder.mkdir()
    for i in range(4):
        Image.new("RGB", (40, 40), (60 * i, 20, 200 - 40 * i)).save(folder / f"{i}.png")
    return folder
