"""The target schema rejects what it must and the registry finds, lists and refuses names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from edgekit.errors import BadInputError, UnknownNameError
from edgekit.paths import HOME_ENV, bundled_data_dir
from edgekit.targets import get_target, list_targets, load_target_file, load_targets


def _raw(target_id: str = "onnxruntime-cpu") -> dict[str, Any]:
    return yaml.safe_load((bundled_data_dir("targets") / f"{target_id}.yaml").read_text())


def _write(folder: Path, name: str, data: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_unknown_key_is_rejected_with_its_name(tmp_path: Path) -> None:
    data = _raw() | {"opset_maximum": 23}
    with pytest.raises(
        BadInputError, match=r"invalid target onnxruntime-cpu.yaml: opset_maximum: Extra inputs are not permitted"
    ):
        load_target_file(_write(tmp_path, "onnxruntime-cpu", data))


def test_schema_version_is_required_and_pinned(tmp_path: Path) -> None:
    data = _raw() | {"schema_version": 2}
    with pytest.raises(BadInputError, match=r"schema_version: Input should be 1"):
        load_target_file(_write(tmp_path, "onnxruntime-cpu", data))


def test_file_name_must_match_id(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match=r"declares id 'onnxruntime-cpu'; the file must be named"):
        load_target_file(_write(tmp_path, "ort", _raw()))


def test_int8_needs_a_quantization_block(tmp_path: Path) -> None:
    data = _raw()
    del data["quantization"]
    with pytest.raises(BadInputError, match=r"quantization is required exactly when int8 is among precisions"):
        load_target_file(_write(tmp_path, "onnxruntime-cpu", data))


def test_precision_inputs_must_cover_the_precisions(tmp_path: Path) -> None:
    data = _raw() | {"precisions": ["fp32", "fp16", "int8"]}
    with pytest.raises(BadInputError, match=r"precision_inputs keys \['fp32', 'int8'\] must equal precisions"):
        load_target_file(_write(tmp_path, "onnxruntime-cpu", data))


def test_unknown_template_placeholder_is_named(tmp_path: Path) -> None:
    data = _raw("tensorrt")
    data["handoff"]["commands"] = ["trtexec --onnx={onnx} --workspace={workspace_mb}"]
    with pytest.raises(BadInputError, match=r"handoff uses unknown placeholders \['workspace_mb'\]"):
        load_target_file(_write(tmp_path, "tensorrt", data))


def test_measured_overhead_needs_its_evidence(tmp_path: Path) -> None:
    data = _raw()
    del data["runtime_overhead_mb"]["host"]
    with pytest.raises(BadInputError, match=r"a measured runtime_overhead_mb needs host, tool_versions and n_samples"):
        load_target_file(_write(tmp_path, "onnxruntime-cpu", data))


def test_ops_needs_exactly_one_list(tmp_path: Path) -> None:
    data = _raw()
    data["ops"]["supported"] = ["Conv"]
    with pytest.raises(BadInputError, match=r"exactly one of 'supported' \(allow-list\) or 'unsupported'"):
        load_target_file(_write(tmp_path, "onnxruntime-cpu", data))


def test_runtime_overhead_becomes_a_metric_with_provenance() -> None:
    measured = get_target("onnxruntime-cpu").runtime_overhead_mb.metric()
    estimate = get_target("tensorrt").runtime_overhead_mb.metric()
    assert (measured.name, measured.unit, measured.provenance.kind) == ("runtime_overhead_mb", "MB", "measured")
    assert measured.provenance.n_samples == 5
    assert estimate.provenance.kind == "predicted"
    assert (estimate.provenance.interval.low, estimate.value, estimate.provenance.interval.high) == (150, 300, 600)


def test_unknown_target_suggests_close_names() -> None:
    with pytest.raises(UnknownNameError, match=r"unknown target 'onnxruntime'; did you mean onnxruntime-cpu"):
        get_target("onnxruntime")


def test_list_targets_filters_by_pattern() -> None:
    assert list_targets("onnxruntime*") == ["onnxruntime-cpu", "onnxruntime-cuda"]
    assert len(list_targets()) == 11


def test_user_folder_adds_targets_but_cannot_redefine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HOME_ENV, str(tmp_path))
    mine = _raw("ncnn") | {"id": "ncnn-armv82", "name": "ncnn on ARMv8.2 (fp16)"}
    _write(tmp_path / "targets", "ncnn-armv82", mine)
    assert "ncnn-armv82" in load_targets()
    _write(tmp_path / "targets", "ncnn", _raw("ncnn"))
    with pytest.raises(BadInputError, match=r"target 'ncnn' is defined twice"):
        load_targets()
