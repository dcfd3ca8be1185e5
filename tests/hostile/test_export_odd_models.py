"""``export`` and ``analyze`` of ONNX files that are no image classifier, or no valid graph: one line, exit 2.

Each case runs the real CLI in-process with the temp folder redirected to a private one, and asserts
the exit code, the single ``error:`` line (no traceback), that the output folder was never created and
that no temporary folder was left behind; vendor toolchains never start (the checks run first).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper
from typer.testing import CliRunner

from edgekit.cli.main import app
from tests.hostile import _odd_models as odd
from tests.targets import _vendor
from tests.targets._graphs import SIDE, classifier, save

runner = CliRunner()
CLASSIFIER = "edgekit exports image classifiers with one float32 N×3×H×W input"
CASES: dict[str, tuple[Callable[[], onnx.ModelProto], str]] = {
    "two-inputs": (odd.two_inputs, f"the model has 2 inputs ('input', 'second'); {CLASSIFIER}"),
    "rank-2": (odd.rank2, f"input 'input' has rank 2 (shape [1, 16]); {CLASSIFIER}"),
    "int64": (odd.int64_input, f"input 'input' is int64; {CLASSIFIER}"),
    "cycle": (odd.cycle, "not a valid ONNX graph: the graph has a cycle through 2 nodes (r1, r2)"),
    "absurd-dims": (lambda: odd.with_input_shape(1, 3, 10**9, 10**9),
                    "input 'input' has shape [1, 3, 1000000000, 1000000000]; edgekit takes classifier inputs up to "
                    "64×3×2048×2048"),
    "nhwc": (lambda: odd.with_input_shape(1, SIDE, SIDE, 3),
             f"input 'input' has {SIDE} channels (shape [1, {SIDE}, {SIDE}, 3]); {CLASSIFIER} (RGB, channels first)"),
    "short-initializer": (odd.short_initializer,
                          "not a valid ONNX graph: TensorProto (tensor name: conv_w) raw_data size (10 bytes) is too "
                          "small for the declared shape and type (864 bytes required)."),
}  # fmt: skip
TARGETS = [("onnxruntime-cpu", []), ("openvino-cpu", []), ("ncnn", []), ("rknn", ["--precision", "fp16"])]


def leftovers(tmp: Path) -> list[Path]:
    """Files, and export/conversion work folders, a run left in the temp dir (an empty per-user parent may stay)."""
    work = ("edgekit-target-", "edgekit-pnnx-", "edgekit-isolated-", "edgekit-export-")
    return [p for p in tmp.rglob("*") if p.is_file() or p.name.startswith(work)]


def _one_error_line(result, expected: str) -> None:  # noqa: ANN001 (click's Result)
    assert (result.exit_code, "Traceback" in result.output) == (2, False), result.output
    assert result.stderr.strip().splitlines() == [f"error: {expected}"]


@pytest.mark.parametrize("target", [t for t, _ in TARGETS])
@pytest.mark.parametrize("case", sorted(CASES))
def test_export_of_an_odd_model_is_one_line_and_writes_nothing(case: str, target: str, tmp_path: Path,
                                                               private_tmp: Path) -> None:  # fmt: skip
    build, message = CASES[case]
    source = save(build(), tmp_path / f"{case}.onnx")
    out = tmp_path / "new" / "out"
    result = runner.invoke(app, ["export", str(source), "-t", target, "--out", str(out), *dict(TARGETS)[target]])
    _one_error_line(result, f"pre-flight failed for target {target}: {message}")
    assert not (tmp_path / "new").exists()
    assert leftovers(private_tmp) == []


@pytest.mark.parametrize(
    ("preprocessing", "message"),
    [
        ({"resize_px": 10**9, "crop_px": SIDE, "mean": [0.5] * 3, "std": [0.5] * 3},
         f"resizes to 1000000000 px for a {SIDE}-px crop; edgekit takes {SIDE}-{4 * SIDE} px"),
        ({"resize_px": SIDE, "crop_px": SIDE, "mean": [0.5] * 3, "std": [0.0] * 3},
         "needs finite mean and positive std"),
        ({"resize_px": 256, "crop_px": 224, "mean": [0.5] * 3, "std": [0.5] * 3},
         f"crops 224 px, but the model's input is {SIDE} px a side"),
        ({"crop_px": "x"}, "metadata is not valid preprocessing JSON (ValidationError)"),
    ],
)  # fmt: skip
def test_hostile_preprocessing_metadata_is_refused(preprocessing: dict, message: str, tmp_path: Path,
                                                   private_tmp: Path) -> None:  # fmt: skip
    source = save(odd.with_metadata(preprocessing), tmp_path / "meta.onnx")
    result = runner.invoke(app, ["export", str(source), "-t", "onnxruntime-cpu", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: the model's edgekit.preprocessing metadata ")
    assert message in line
    assert not (tmp_path / "out").exists()
    assert leftovers(private_tmp) == []


def test_rknn_preflight_runs_the_checker_on_a_cycle(tmp_path: Path) -> None:
    from edgekit.targets.preflight import preflight

    report = preflight(save(odd.cycle(), tmp_path / "cycle.onnx"), "rknn", "fp16")
    assert [(i.check, i.message) for i in report.issues] == [
        ("graph", "not a valid ONNX graph: the graph has a cycle through 2 nodes (r1, r2)")
    ]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("short-initializer", "short-initializer.onnx is not a valid ONNX model: TensorProto (tensor name: conv_w) "
                              "raw_data size (10 bytes) is too small for the declared shape and type (864 bytes "
                              "required)."),
        ("cycle", "cycle.onnx is not a valid ONNX model: the graph has a cycle through 2 nodes (r1, r2)"),
    ],
)  # fmt: skip
def test_analyze_refuses_an_invalid_graph(case: str, message: str, tmp_path: Path) -> None:
    source = save(CASES[case][0](), tmp_path / f"{case}.onnx")
    result = runner.invoke(app, ["analyze", str(source)])
    assert (result.exit_code, result.stderr.strip().splitlines()) == (2, [f"error: {message}"]), result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [source.name]  # analyze writes nothing beside the file


def test_ncnn_export_of_a_rank2_model_exits_2_in_a_real_process(tmp_path: Path) -> None:
    """Before: SIGSEGV inside ncnn (exit 139) and edgekit-target-* folders left in the temp dir."""
    source = save(odd.rank2(), tmp_path / "rank2.onnx")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-c", "from edgekit.cli.main import main; main()", "export", str(source),
                           "--target", "ncnn", "--out", str(tmp_path / "out")], capture_output=True, text=True,
                          env=env, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"error: pre-flight failed for target ncnn: input 'input' has rank 2 (shape [1, 16]); {CLASSIFIER}"
    ]
    assert not (tmp_path / "out").exists()
    assert leftovers(tmp) == []


@pytest.mark.parametrize(
    "target", [pytest.param("onnxruntime-cpu"), pytest.param("openvino-cpu", marks=_vendor.openvino)]
)
def test_a_valid_graph_the_runtime_cannot_run_is_one_line(target: str, tmp_path: Path, private_tmp: Path) -> None:
    """A Reshape to 7 rows of 8×32×32 values passes every check of edgekit's and fails inside the runtime."""
    model = classifier()
    model.graph.initializer.append(numpy_helper.from_array(np.array([7, -1], np.int64), "rows"))
    model.graph.node.insert(2, helper.make_node("Reshape", ["act", "rows"], ["flat7"], name="reshape7"))
    model.graph.node[3].input[0] = "flat7"
    source = save(model, tmp_path / "odd.onnx")
    result = runner.invoke(app, ["export", str(source), "-t", target, "--out", str(tmp_path / "out")])
    assert result.exit_code in (1, 2), result.output  # the runtime's refusal (2) or a failed conversion (1)
    assert "Traceback" not in result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ")
    assert "Reshape" in line  # what failed, not only where in the vendor's C++ sources
    assert "edgekit-target-" not in line  # and the user's file name, not the internal copy's path
    assert not (tmp_path / "out").exists()
    assert leftovers(private_tmp) == []
