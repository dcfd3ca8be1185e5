"""Manifest digests, artifact metadata and deterministic TorchScript bytes."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import onnx
import pytest
import torch

from edgekit.analysis import PREPROCESSING_KEY
from edgekit.manifest import (
    LABELS_KEY,
    LINEAGE_KEY,
    TORCHSCRIPT_METADATA,
    artifact_metadata,
    labels_record,
    stamp_onnx,
    tool_versions,
    torchscript_bytes,
)
from tests.passes.tiny import TINY_PREP, TINY_SHAPE, onnx_artifact, seeded
from tests.passes.tiny import TinyNet as Tiny


def _metadata() -> dict[str, str]:
    labels = labels_record(["cat", "dog"], 2, "test")
    return artifact_metadata(TINY_PREP, labels, [{"pass": "export_onnx", "config": {}}], {"model": "tiny"})


def test_labels_digest_names_or_indices() -> None:
    named = labels_record(["cat", "dog"], 2, "imagenet")
    assert named.source == "imagenet"
    assert named.sha256 == hashlib.sha256(b"cat\ndog").hexdigest()
    indices = labels_record(None, 2, "ignored")
    assert indices.source == "class indices"
    assert indices.sha256 != named.sha256
    assert labels_record(["a"], 2, "wrong count").source == "class indices"


def test_stamp_onnx_writes_sorted_metadata_and_leaves_the_input_alone() -> None:
    model = onnx_artifact().model
    model.metadata_props.add(key=LINEAGE_KEY, value="stale")
    stamped = stamp_onnx(model, _metadata())
    props = {p.key: p.value for p in stamped.metadata_props}
    assert [p.key for p in stamped.metadata_props] == sorted(props)
    assert json.loads(props[PREPROCESSING_KEY])["crop_px"] == 32
    assert json.loads(props[LINEAGE_KEY]) == [{"config": {}, "pass": "export_onnx"}]
    assert json.loads(props[LABELS_KEY])["count"] == 2
    assert stamped.producer_name == "edgekit"
    assert [p.value for p in model.metadata_props] == ["stale"]


def test_torchscript_bytes_load_with_their_metadata() -> None:
    module = seeded(Tiny)
    example = torch.zeros(TINY_SHAPE)
    data = torchscript_bytes(module, example, _metadata())
    extra = {TORCHSCRIPT_METADATA: ""}
    loaded = torch.jit.load(io.BytesIO(data), _extra_files=extra)
    assert json.loads(extra[TORCHSCRIPT_METADATA])[PREPROCESSING_KEY] == _metadata()[PREPROCESSING_KEY]
    torch.testing.assert_close(loaded(example), module(example))


def _serialization_id(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None  # every CRC matches
        (name,) = [n for n in archive.namelist() if n.endswith(".data/serialization_id")]
        return archive.read(name)


def _saved(module: torch.jit.ScriptModule) -> bytes:
    buffer = io.BytesIO()
    torch.jit.save(module, buffer, _extra_files={TORCHSCRIPT_METADATA: "{}"})
    return buffer.getvalue()


def test_torchs_serialization_id_is_derived_from_the_content_not_random() -> None:
    traced = torch.jit.trace(seeded(Tiny), torch.zeros(TINY_SHAPE))
    first = _saved(traced)
    assert _saved(traced) == first  # a random id would differ on every save
    assert len(_serialization_id(first)) == 40  # record-name hash and combined CRC-32, 20 digits each
    with torch.no_grad():
        next(traced.parameters()).add_(1.0)
    assert _serialization_id(_saved(traced)) != _serialization_id(first)
    torch.jit.load(io.BytesIO(first))


@pytest.mark.slow
def test_torchscript_bytes_are_identical_across_processes() -> None:
    script = (
        "import hashlib, torch; from tests.passes.tiny import TinyNet, seeded, TINY_SHAPE; "
        "from edgekit.manifest import torchscript_bytes; "
        "print(hashlib.sha256(torchscript_bytes(seeded(TinyNet), torch.zeros(TINY_SHAPE), {'k': 'v'})).hexdigest())"
    )
    root = Path(__file__).resolve().parents[1]
    digests = {
        subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    }
    assert len(digests) == 1
    assert len(digests.pop().strip()) == 64


def test_manifest_content_digest_ignores_the_timestamp() -> None:
    from edgekit.analysis import TensorSpec
    from edgekit.manifest import Manifest
    from edgekit.verify import FinalCheck

    spec = TensorSpec(name="input", shape=["batch", 3, 32, 32], dtype="float")

    def manifest(created_at: datetime) -> Manifest:
        return Manifest(
            model="tiny", recipe="fp32", weights="none", accuracy_meaningful=False, verdict="passed", input=spec,
            output=spec, preprocessing=TINY_PREP, labels=labels_record(None, 10, ""), lineage=[],
            verification_inputs={}, final_check=FinalCheck(status="skipped", detail=""),
            tool_versions=tool_versions(), created_at=created_at,
        )  # fmt: skip

    early = manifest(datetime(2020, 1, 1, tzinfo=timezone.utc))
    late = manifest(datetime.now(timezone.utc))
    assert early.content_sha256() == late.content_sha256()
    assert tool_versions()["onnx"] == onnx.__version__
