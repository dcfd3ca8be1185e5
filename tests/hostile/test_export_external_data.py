"""ONNX files with external data: data inside the model's folder exports (inlined); anything else is refused.

Before: only the ``.onnx`` was copied into the export, so openvino-cpu and onnxruntime-cpu failed with an
error naming an internal temp path. Data outside the folder (``..``, an absolute path, a symbolic link)
must still never be read.
"""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
from typer.testing import CliRunner

from edgekit.cli.main import app
from edgekit.onnx_io import external_tensors
from tests.hostile import _odd_models as odd
from tests.hostile.test_export_odd_models import leftovers
from tests.targets import _vendor

runner = CliRunner()
VERIFIED = [pytest.param("onnxruntime-cpu"), pytest.param("openvino-cpu", marks=_vendor.openvino)]


@pytest.mark.parametrize("location", ["weights.bin", "data/weights.bin"])
@pytest.mark.parametrize("target", VERIFIED)
def test_external_data_inside_the_folder_exports_and_verifies(target: str, location: str, tmp_path: Path,
                                                              private_tmp: Path) -> None:  # fmt: skip
    source = odd.external_data(tmp_path / "model", location)
    out = tmp_path / "out"
    result = runner.invoke(app, ["export", str(source), "-t", target, "--out", str(out), "--samples", "2", "--json"])
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.stdout)["manifest"]
    assert manifest["verification"]["status"] == "passed"
    assert "model.onnx" in {f["path"] for f in manifest["files"]}
    assert not any("weights.bin" in f["path"] for f in manifest["files"])
    # The artifact is self-contained: its weights travel inside it, so the folder can be copied anywhere.
    assert external_tensors(onnx.load(str(out / "model.onnx"), load_external_data=False)) == []
    assert leftovers(private_tmp) == []


@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        ("parent", "tensor 'conv_w' keeps its data in '../weights.bin'; edgekit reads external data only from files "
                   "inside the model's folder"),
        ("absolute", "; edgekit reads external data only from files inside the model's folder"),
        ("symlink", "tensor 'conv_w' keeps its data in 'weights.bin', which is a symbolic link; edgekit reads "
                    "external data only from regular files inside the model's folder"),
        ("missing", "tensor 'conv_w' keeps its data in 'gone.bin', which is missing (keep it beside the .onnx file)"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("command", ["export", "analyze"])
def test_external_data_outside_the_folder_is_refused(case: str, fragment: str, command: str, tmp_path: Path,
                                                     private_tmp: Path) -> None:  # fmt: skip
    folder = tmp_path / "model"
    if case == "symlink":
        source = odd.symlinked_data(folder)
    else:
        location = {"parent": "../weights.bin", "absolute": str(tmp_path / "elsewhere" / "w.bin"),
                    "missing": "gone.bin"}[case]  # fmt: skip
        source = odd.pointing_at(folder, location)
        if case == "missing":
            (folder / "gone.bin").unlink()
    out = tmp_path / "out"
    args = ["export", str(source), "-t", "onnxruntime-cpu", "--out", str(out)] if command == "export" else [
        "analyze", str(source)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: model.onnx: tensor 'conv_w' keeps its data in ")
    assert fragment in line
    assert "edgekit-target-" not in line  # the message names the user's file, not an internal temp path
    assert not out.exists()
    assert leftovers(private_tmp) == []
