"""The bundled data: every targets/*.yaml validates, cross-references hold, templates render."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
import yaml

from edgekit.paths import bundled_data_dir
from edgekit.targets import load_target_file, load_targets
from edgekit.targets.handoff import handoff_context, render_handoff
from edgekit.targets.schema_json import SCHEMA_FILE, render_schema

# Fixed with the profiles/predictor side (notes/targets_contract.md): one file per id.
CONTRACT_IDS = {"onnxruntime-cpu", "onnxruntime-cuda", "openvino-cpu", "tensorrt", "tflite", "edgetpu", "ncnn",
                "rknn", "qnn", "stm32cube-ai", "esp-dl"}  # fmt: skip
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
TARGET_FILES = sorted(bundled_data_dir("targets").glob("*.yaml"))
PAIRS = [(spec.id, precision) for spec in load_targets().values() for precision in spec.precisions]


@pytest.mark.parametrize("path", TARGET_FILES, ids=lambda p: p.stem)
def test_every_target_file_validates(path: Path) -> None:
    spec = load_target_file(path)
    assert spec.id == path.stem
    assert spec.schema_version == 1
    assert spec.opset_min <= spec.opset_preferred <= spec.opset_max
    assert spec.ops.source
    assert spec.toolchain.docs_url.startswith("https://")


def test_bundled_ids_are_the_contract_ids() -> None:
    assert set(load_targets()) == CONTRACT_IDS


def test_committed_json_schema_is_current() -> None:
    assert (bundled_data_dir("targets") / SCHEMA_FILE).read_text() == render_schema()


def test_every_profile_target_exists() -> None:
    known = set(load_targets())
    files = sorted(p for p in bundled_data_dir("profiles").glob("*.yaml"))
    if not files:
        pytest.skip("no profiles/*.yaml yet")
    missing = {p.stem: sorted(set(yaml.safe_load(p.read_text()).get("targets", [])) - known) for p in files}
    assert {k: v for k, v in missing.items() if v} == {}


@pytest.mark.parametrize(("target_id", "precision"), PAIRS, ids=[f"{t}-{p}" for t, p in PAIRS])
def test_every_handoff_template_renders(target_id: str, precision: str) -> None:
    spec = load_targets()[target_id]
    context = handoff_context("input", (1, 3, 224, 224), IMAGENET_MEAN, IMAGENET_STD, precision, "m.onnx")
    rendered = render_handoff(spec, precision, context)
    text = "\n".join([*rendered.commands, rendered.produces])
    assert rendered.commands, "at least one command"
    assert not [f for _, f, _, _ in string.Formatter().parse(text) if f], "no placeholder left"
    assert "m.onnx" in text or "m.onnx" in rendered.produces


def _render(target_id: str, precision: str, **overrides: str) -> list[str]:
    context = handoff_context("input", (1, 3, 224, 224), IMAGENET_MEAN, IMAGENET_STD, precision, "m.onnx")
    return render_handoff(load_targets()[target_id], precision, context, overrides or None).commands


def test_trtexec_flags_follow_the_precision() -> None:
    assert _render("tensorrt", "fp32")[0] == "trtexec --onnx=m.onnx --saveEngine=m.engine --shapes=input:1x3x224x224"
    assert _render("tensorrt", "fp16")[0].endswith("--shapes=input:1x3x224x224 --fp16")
    assert _render("tensorrt", "int8")[0].endswith("--int8 --fp16")


def test_rknn_script_quantizes_only_for_int8_and_takes_the_platform() -> None:
    int8 = _render("rknn", "int8", target_platform="rk3568")[0]
    assert "target_platform='rk3568'" in int8
    assert "mean_values=[[123.675,116.28,103.53]], std_values=[[58.395,57.12,57.375]]" in int8
    assert "rknn.build(do_quantization=True, dataset='dataset.txt')" in int8
    assert "rknn.build(do_quantization=False, dataset=None)" in _render("rknn", "fp16")[0]


def test_onnx2tf_int8_gets_calibration_and_normalization() -> None:
    (convert, _check) = _render("tflite", "int8")
    assert convert == (
        "onnx2tf -i m.onnx -o tflite -ois input:1,3,224,224 -oiqt -qt per-channel -cind input "
        'calibration/calibration_nhwc_0to1.npy "[[[[0.485,0.456,0.406]]]]" "[[[[0.229,0.224,0.225]]]]"'
    )


def test_ncnn_int8_adds_table_and_int8_steps_and_fp32_has_one_command() -> None:
    # Bracketed key=value words are quoted: unquoted, the shell would glob them against the folder's files.
    assert _render("ncnn", "fp32") == ['pnnx m.onnx "inputshape=[1,3,224,224]" fp16=0']
    table = _render("ncnn", "int8")[1]
    assert table.startswith('ncnn2table m.ncnn.param m.ncnn.bin dataset.txt m.table "mean=[123.675,116.28,103.53]"')
    assert '"norm=[0.0171248,0.017507,0.0174292]" "shape=[224,224,3]" pixel=RGB' in table
