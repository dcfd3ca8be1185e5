"""Hand-off context values, parameter overrides, the script; calibration files in each tool's layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edgekit.errors import BadInputError
from edgekit.targets import get_target
from edgekit.targets.calibration import unnormalize, write_calibration
from edgekit.targets.handoff import handoff_context, render_handoff

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def test_context_values() -> None:
    context = handoff_context("input", (1, 3, 224, 160), MEAN, STD, "int8", "resnet18-int8.onnx")
    assert context["stem"] == "resnet18-int8"
    assert context["input_shape_x"] == "1x3x224x160"
    assert context["input_chw_csv"] == "3,224,160"
    assert (context["height"], context["width"]) == ("224", "160")
    assert context["mean_255"] == "123.675,116.28,103.53"
    assert context["norm_255"] == "0.0171248,0.017507,0.0174292"
    assert context["calib_list"] == "dataset.txt"


def test_unknown_parameter_and_precision_are_refused() -> None:
    context = handoff_context("input", (1, 3, 224, 224), MEAN, STD, "int8")
    expected = r"^target rknn has no hand-off parameter platform \(parameters: target_platform\)$"
    with pytest.raises(BadInputError, match=expected):
        render_handoff(get_target("rknn"), "int8", context, {"platform": "rk3568"})
    with pytest.raises(BadInputError, match=r"^target rknn accepts fp16, int8; not fp32$"):
        render_handoff(get_target("rknn"), "fp32", context)


def test_script_runs_from_its_folder() -> None:
    context = handoff_context("input", (1, 3, 224, 224), MEAN, STD, "fp16")
    script = render_handoff(get_target("tensorrt"), "fp16", context).script().splitlines()
    assert script[0] == "#!/usr/bin/env bash"
    assert 'cd "$(dirname "$0")"' in script
    assert script[-2].startswith("trtexec --onnx=model.onnx")
    assert script[-2].endswith("--fp16")


def test_unnormalize_inverts_the_normalization_and_clips() -> None:
    nhwc = np.array([[[[0.0, 0.5, 1.0]]]], np.float32)
    pixels = ((nhwc - np.array(MEAN, np.float32)) / np.array(STD, np.float32)).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(unnormalize(pixels, MEAN, STD), nhwc, atol=1e-6)
    assert unnormalize(pixels * 10, MEAN, STD).max() == 1.0


def test_calibration_files_in_every_layout(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    pixels = rng.standard_normal((3, 3, 8, 6)).astype(np.float32)
    written = write_calibration(tmp_path, pixels, MEAN, STD, ["png-list", "npy-nchw", "npy-nhwc-unnormalized",
                                                              "raw-nhwc-list"])  # fmt: skip
    assert len(written) == 3 + 1 + 1 + 1 + 3 + 1
    assert (tmp_path / "dataset.txt").read_text().split() == [f"calibration/{i:04d}.png" for i in range(3)]
    png = np.asarray(Image.open(tmp_path / "calibration/0001.png"), np.float32) / 255
    np.testing.assert_allclose(png, unnormalize(pixels, MEAN, STD)[1], atol=0.5 / 255 + 1e-6)
    np.testing.assert_array_equal(np.load(tmp_path / "calibration/calibration_nchw.npy"), pixels)
    assert np.load(tmp_path / "calibration/calibration_nhwc_0to1.npy").shape == (3, 8, 6, 3)
    raws = (tmp_path / "input_list.txt").read_text().split()
    raw = np.fromfile(tmp_path / raws[2], np.float32).reshape(8, 6, 3)
    np.testing.assert_array_equal(raw, pixels[2].transpose(1, 2, 0))
