"""optimize: recipes end to end on tiny modules, overrides, failure handling, atomic output."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
import torch

from edgekit.analysis import PREPROCESSING_KEY, analyze_onnx
from edgekit.errors import BadInputError, VerificationError
from edgekit.fileio import sha256_file
from edgekit.manifest import LINEAGE_KEY, MANIFEST_NAME, TORCHSCRIPT_METADATA
from edgekit.optimize import ExportOptions, Overrides, SourceModel, optimize_module
from edgekit.passes import QuantOptions
from edgekit.verify import TOLERANCES, Tolerance
from tests.passes.tiny import TINY_PREP, TinyNet, seeded


def _source() -> SourceModel:
    return SourceModel(name="tiny", module=seeded(TinyNet), preprocessing=TINY_PREP, weights="none")


def test_fp32_variant_is_written_with_manifest_and_metadata(tmp_path: Path) -> None:
    # execute
    result = optimize_module(_source(), "fp32", tmp_path / "out")
    # assert: files
    assert result.verdict == "passed"
    assert result.artifact_path == tmp_path / "out" / "tiny-fp32.onnx"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [MANIFEST_NAME, "tiny-fp32.onnx"]
    manifest = json.loads(result.manifest_path.read_text())
    assert manifest["artifact"]["sha256"] == sha256_file(result.artifact_path)
    assert [e["pass_name"] for e in manifest["lineage"]] == ["export_onnx", "simplify"]
    assert [e["verification"]["status"] for e in manifest["lineage"]] == ["passed", "passed"]
    assert (
        manifest["lineage"][0]["verification"]["fidelity"]["max_abs_error"]
        <= 1e-4 * (manifest["lineage"][0]["verification"]["fidelity"]["max_abs_reference"])
    )
    assert manifest["final_check"]["status"] == "passed"
    assert manifest["input"] == {"name": "input", "shape": ["batch", 3, 32, 32], "dtype": "float"}
    assert {"onnx", "onnxruntime", "torch"} <= set(manifest["tool_versions"])
    # assert: metadata inside the ONNX file; the analyzer reads the preprocessing back
    props = {p.key: p.value for p in onnx.load(str(result.artifact_path)).metadata_props}
    assert [step["pass"] for step in json.loads(props[LINEAGE_KEY])] == ["export_onnx", "simplify"]
    assert analyze_onnx(result.artifact_path).preprocessing == TINY_PREP
    assert json.loads(props[PREPROCESSING_KEY])["crop_px"] == 32
    # assert: report
    assert result.report[0] == "tiny · recipe fp32 · weights none"
    assert result.report[-1].startswith("verdict   PASSED")
    assert {m.name for m in result.manifest.metrics} >= {"params", "macs_giga", "file_mb"}


def test_the_same_command_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    first = optimize_module(_source(), "int8", tmp_path / "a", overrides=Overrides(calib_count=4))
    second = optimize_module(_source(), "int8", tmp_path / "b", overrides=Overrides(calib_count=4))
    assert first.manifest.artifact.sha256 == second.manifest.artifact.sha256
    assert first.manifest.content_sha256() == second.manifest.content_sha256()


def test_target_overrides_reach_export_and_quantization(tmp_path: Path, image_folder: Path) -> None:
    overrides = Overrides(
        export=ExportOptions(opset=13, dynamic_batch=False),
        quant=QuantOptions(activation_type="int8", activation_symmetric=True),
        calib_dir=image_folder, calib_count=6,
    )  # fmt: skip
    result = optimize_module(_source(), "int8", tmp_path / "out", overrides=overrides)
    assert result.verdict == "passed"
    export, _, quantize = result.manifest.lineage
    assert (export.config["opset"], export.config["dynamic_batch"]) == (13, False)
    assert quantize.config["activation_type"] == "int8"
    assert quantize.config["activation_symmetric"] is True
    assert quantize.config["calibration_dir"] == str(image_folder)
    assert quantize.guard.status == "passed"
    assert result.manifest.input.shape == [1, 3, 32, 32]
    assert result.manifest.verification_inputs["images"].startswith(f"6 held-out images of {image_folder}")
    model = onnx.load(str(result.artifact_path))
    assert [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] == [13]


def test_torch_only_variant_is_a_torchscript_file(tmp_path: Path) -> None:
    result = optimize_module(_source(), "seed-dynamic", tmp_path / "out")
    assert result.artifact_path.name == "tiny-seed-dynamic.pt"
    assert result.manifest.artifact.format == "torchscript"
    extra = {TORCHSCRIPT_METADATA: ""}
    loaded = torch.jit.load(str(result.artifact_path), _extra_files=extra)
    assert loaded(torch.zeros(1, 3, 32, 32)).shape == (1, 10)
    assert "edgekit.lineage" in json.loads(extra[TORCHSCRIPT_METADATA])
    assert any("does not export to ONNX" in note for note in result.manifest.notes)
    assert result.manifest.final_check.status == "passed"


def test_a_failed_step_writes_a_manifest_but_no_artifact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    strict = Tolerance(name="FP16_TOO_STRICT", rule="relative_max_error", max_relative_error=1e-12, why="test")
    monkeypatch.setitem(TOLERANCES, "fp16", strict)
    result = optimize_module(_source(), "fp16", tmp_path / "out")
    assert result.verdict == "failed"
    assert result.artifact_path is None
    assert [p.name for p in (tmp_path / "out").iterdir()] == [MANIFEST_NAME]
    assert result.manifest.lineage[-1].verification.status == "failed"
    assert result.manifest.final_check.detail == "not written: verification failed"
    with pytest.raises(VerificationError, match=r"tiny fp16 failed verification at fp16; see .*manifest.json"):
        result.require_passed()


def test_no_verify_is_recorded_as_unverified(tmp_path: Path) -> None:
    result = optimize_module(_source(), "fp32", tmp_path / "out", verify=False)
    assert result.verdict == "unverified"
    assert all(entry.verification is None for entry in result.manifest.lineage)
    assert result.manifest.final_check.status == "skipped"
    result.require_passed()


def test_output_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "taken"
    blocker.write_text("x")
    with pytest.raises(BadInputError, match=r"output path .*taken is not usable: .*taken is a file; give a folder"):
        optimize_module(_source(), "fp32", blocker)
    with pytest.raises(BadInputError, match=r"taken is a file"):
        optimize_module(_source(), "fp32", blocker / "sub")
    assert blocker.read_text() == "x"


def test_a_foreign_non_empty_folder_is_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep")
    with pytest.raises(BadInputError, match="is not empty and holds no edgekit manifest.json; refusing to replace"):
        optimize_module(_source(), "fp32", tmp_path)
    assert (tmp_path / "mine.txt").read_text() == "keep"


def test_an_edgekit_folder_is_replaced_whole(tmp_path: Path) -> None:
    optimize_module(_source(), "fp32", tmp_path / "out")
    (tmp_path / "out" / "stale.txt").write_text("old")
    optimize_module(_source(), "fp32", tmp_path / "out")
    assert not (tmp_path / "out" / "stale.txt").exists()


def test_calibration_folder_without_images_fails_before_writing(tmp_path: Path) -> None:
    empty = tmp_path / "calib"
    empty.mkdir()
    (empty / "notes.txt").write_text("no images")
    with pytest.raises(BadInputError, match=r"no readable images in .*calib \(0 image files tried\)"):
        optimize_module(_source(), "int8", tmp_path / "out", overrides=Overrides(calib_dir=empty))
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["calib"]
