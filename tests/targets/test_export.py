"""export_for_target over ONNX files: pre-flight before anything is written, verify, document, hand off."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edgekit.errors import BadInputError, VerificationError
from edgekit.fileio import sha256_file
from edgekit.targets.export import export_for_target
from edgekit.verify import FP32_MAX_RELATIVE_ERROR
from tests.targets import _vendor
from tests.targets._graphs import classifier, save


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return save(classifier(), tmp_path / "src" / "tiny.onnx")


def test_onnxruntime_export_is_verified_and_documented(tmp_path: Path, tiny: Path) -> None:
    result = export_for_target(tiny, "onnxruntime-cpu", out_dir=tmp_path / "out", samples=4)
    manifest = json.loads(result.manifest_path.read_text())
    (check,) = manifest["verification"]["checks"]
    assert manifest["verification"]["status"] == "passed"
    assert check["gated"]
    assert check["tolerance"] == "FP32_MAX_RELATIVE_ERROR"
    assert check["fidelity"]["n_samples"] == 4
    assert check["fidelity"]["max_abs_error"] <= FP32_MAX_RELATIVE_ERROR * check["fidelity"]["max_abs_reference"]
    assert manifest["preflight"]["issues"] == []
    assert manifest["precision"] == "fp32"
    files = {f["path"]: f for f in manifest["files"]}
    assert set(files) == {"tiny.onnx", "handoff.sh"}
    assert files["tiny.onnx"]["sha256"] == sha256_file(tmp_path / "out" / "tiny.onnx")
    assert "InferenceSession('tiny.onnx'" in (tmp_path / "out" / "handoff.sh").read_text()
    assert any("assumed ImageNet mean/std at 32 px" in n for n in manifest["notes"])


def test_preflight_failure_writes_nothing(tmp_path: Path) -> None:
    source = save(classifier("Erf"), tmp_path / "erf.onnx")
    out = tmp_path / "new" / "out"
    with pytest.raises(BadInputError, match=r"^pre-flight failed for target rknn: operator Erf \(1 node, e.g. erf0\)"):
        export_for_target(source, "rknn", out_dir=out, precision="fp16")
    assert not (tmp_path / "new").exists()


def test_unverifiable_target_gets_preflight_and_commands(tmp_path: Path, tiny: Path) -> None:
    result = export_for_target(tiny, "tensorrt", out_dir=tmp_path / "out", precision="fp16")
    verification = result.manifest.verification
    assert verification.status == "skipped"
    assert verification.reason.startswith("not verifiable here: not verifiable on a host without an NVIDIA GPU")
    assert result.manifest.handoff.commands[0] == (
        "trtexec --onnx=tiny.onnx --saveEngine=tiny.engine --shapes=input:1x3x32x32 --fp16"
    )


def test_self_calibrating_target_gets_calibration_files(tmp_path: Path, tiny: Path, image_folder: Path) -> None:
    result = export_for_target(tiny, "rknn", out_dir=tmp_path / "out", precision="int8", calib_dir=image_folder)
    listed = (tmp_path / "out" / "dataset.txt").read_text().split()
    assert len(listed) == 12  # the fixture's 3 classes × 4 images (fewer than the 32 asked for)
    assert all((tmp_path / "out" / name).is_file() for name in listed)
    assert {f.role for f in result.manifest.files} == {"onnx", "handoff", "calibration"}
    assert "dataset='dataset.txt'" in result.manifest.handoff.commands[0]


def test_dynamic_batch_is_pinned_for_static_targets(tmp_path: Path) -> None:
    source = save(classifier(batch="batch"), tmp_path / "dyn.onnx")
    result = export_for_target(source, "stm32cube-ai", out_dir=tmp_path / "out")
    assert result.manifest.input_shape == [1, 3, 32, 32]
    assert result.manifest.preflight.passed


def test_bad_requests_are_refused_before_any_work(tmp_path: Path, tiny: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(BadInputError, match=r"is not usable: .*file is a file; give a folder"):
        export_for_target(tiny, "onnxruntime-cpu", out_dir=tmp_path / "file")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "mine.txt").write_text("keep")
    with pytest.raises(BadInputError, match=r"is not empty and holds no edgekit manifest.json"):
        export_for_target(tiny, "onnxruntime-cpu", out_dir=tmp_path / "busy")
    with pytest.raises(BadInputError, match=r"^recipe pruned30 needs the torch module \(prune_channels\); "):
        export_for_target(tiny, "onnxruntime-cpu", recipe="pruned30", out_dir=tmp_path / "o")  # an ONNX source
    assert not (tmp_path / "o").exists()
    with pytest.raises(BadInputError, match=r"^target rknn accepts fp16, int8; the recipe makes fp32$"):
        export_for_target("resnet18", "rknn", recipe="fp32", out_dir=tmp_path / "o")
    assert (tmp_path / "busy" / "mine.txt").read_text() == "keep"


def test_parity_failure_is_a_verification_error_and_writes_nothing(
    tmp_path: Path, tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from edgekit.runtimes.onnxruntime import OnnxruntimeConverter

    real_run = OnnxruntimeConverter.run
    monkeypatch.setattr(OnnxruntimeConverter, "run", lambda self, *a: real_run(self, *a) * np.float32(1.01))
    expected = (
        r"^target onnxruntime-cpu: converted artifact outside tolerance: "
        r"fp32 artifact on onnxruntime-cpu \(onnxruntime\) vs fp32 parent: max"
    )
    with pytest.raises(VerificationError, match=expected):
        export_for_target(tiny, "onnxruntime-cpu", out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_reexport_replaces_a_previous_export(tmp_path: Path, tiny: Path) -> None:
    first = export_for_target(tiny, "onnxruntime-cpu", out_dir=tmp_path / "out", verify=False)
    assert first.manifest.verification.reason == "verification skipped (--no-verify)"
    second = export_for_target(tiny, "onnxruntime-cpu", out_dir=tmp_path / "out", samples=2)
    assert second.manifest.verification.status == "passed"
    assert first.manifest.files == second.manifest.files  # same bytes: the artifact is deterministic


@_vendor.requires_ncnn
def test_ncnn_export_converts_and_runs(tmp_path: Path, tiny: Path) -> None:
    result = export_for_target(tiny, "ncnn", out_dir=tmp_path / "out", samples=3)
    paths = [f.path for f in result.manifest.files]
    assert paths == ["handoff.sh", "ncnn/tiny.ncnn.bin", "ncnn/tiny.ncnn.param", "tiny.onnx"]
    (check,) = result.manifest.verification.checks
    assert check.passed
    assert check.fidelity.relative_max_error < FP32_MAX_RELATIVE_ERROR


@_vendor.requires_openvino
def test_openvino_int8_file_is_judged_against_onnxruntime_on_the_same_file(tmp_path: Path, tiny: Path) -> None:
    from tests.targets._graphs import quantized

    qdq = quantized(tiny, tmp_path / "q.onnx")
    result = export_for_target(qdq, "openvino-cpu", out_dir=tmp_path / "out", samples=4)
    (check,) = result.manifest.verification.checks
    assert check.gated
    assert check.reference == "the same int8 file, onnxruntime"
    assert check.fidelity.cosine_mean > 0.98
    assert {f.path for f in result.manifest.files} >= {"openvino/q.xml", "openvino/q.bin"}
