"""The manifest beside every artifact, and the metadata written inside the artifact itself.

The manifest (JSON) holds the lineage of passes with their configs and reports, the sha256
of the artifact, tool versions, the input spec and preprocessing, and every verification
result. Inside the artifact, ONNX ``metadata_props`` (or TorchScript extra files) carry the
preprocessing, the labels digest and the lineage, with no timestamp, so the bytes depend only
on the inputs of the command.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import warnings
from datetime import datetime
from typing import Any, Literal

import onnx
from pydantic import BaseModel, ConfigDict, Field

from edgekit._versions import package_versions
from edgekit.analysis import PREPROCESSING_KEY, TensorSpec
from edgekit.fidelity import Fidelity
from edgekit.metrics import Metric
from edgekit.models import Preprocessing
from edgekit.passes import PassReport
from edgekit.verify import GuardOutcome, StepVerdict
from edgekit.verify.final import FinalCheck

MANIFEST_SCHEMA_VERSION = 1
MANIFEST_NAME = "manifest.json"
LABELS_KEY = "edgekit.labels"
LINEAGE_KEY = "edgekit.lineage"
SOURCE_KEY = "edgekit.source"
TORCHSCRIPT_METADATA = "edgekit.json"  # extra file inside TorchScript archives
_TOOLS = ("edgekit", "torch", "torchvision", "onnx", "onnxruntime", "onnxsim", "torch-pruning", "numpy")


class ArtifactRecord(BaseModel):
    """The file the recipe produced."""

    model_config = ConfigDict(extra="forbid")

    file: str
    format: Literal["onnx", "torchscript"]
    sha256: str
    bytes: int


class LabelsRecord(BaseModel):
    """Which class names the output indices stand for, by digest."""

    model_config = ConfigDict(extra="forbid")

    count: int
    sha256: str
    source: str
    names: list[str] | None = Field(None, description="the class names by output index, when known")

    def describe(self, shown: int = 5) -> str:
        """``5 classes (labels file labels.txt): daisy, dandelion, rose, sunflower, tulip``."""
        if not self.names:
            return f"{self.count} classes (indices 0..{self.count - 1}; no names given)"
        more = f", … (+{len(self.names) - shown})" if len(self.names) > shown else ""
        return f"{self.count} classes ({self.source}): {', '.join(self.names[:shown])}{more}"


class LineageEntry(BaseModel):
    """One pass as it ran: config, report, verification, and the int8 guard's record if any."""

    model_config = ConfigDict(extra="forbid")

    pass_name: str
    config: dict[str, Any]
    report: PassReport
    verification: StepVerdict | None = None
    guard: GuardOutcome | None = None


class Manifest(BaseModel):
    """Everything needed to trust, reproduce and deploy one artifact."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = MANIFEST_SCHEMA_VERSION
    model: str
    recipe: str
    weights: str
    accuracy_meaningful: bool = Field(description="False for random-init weights: no accuracy, fidelity only")
    verdict: Literal["passed", "failed", "unverified"]
    artifact: ArtifactRecord | None = Field(None, description="None when the variant failed verification")
    input: TensorSpec
    output: TensorSpec
    preprocessing: Preprocessing
    labels: LabelsRecord
    lineage: list[LineageEntry]
    verification_inputs: dict[str, str]
    end_to_end: Fidelity | None = Field(None, description="final artifact vs the float model, on the images")
    final_check: FinalCheck
    metrics: list[Metric] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    tool_versions: dict[str, str]
    created_at: datetime | None = Field(None, description="the only time field; excluded from content_sha256")

    def content_sha256(self) -> str:
        """Digest of the manifest without its timestamp: equal for equal commands."""
        payload = self.model_dump(mode="json", exclude={"created_at"})
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def tool_versions() -> dict[str, str]:
    """Installed versions of the tools that shape the artifact."""
    installed = {tool: v for tool, v in package_versions(_TOOLS).items() if v is not None}
    return {"python": platform.python_version(), **installed}


def labels_record(names: list[str] | None, count: int, source: str) -> LabelsRecord:
    """Digest the class names (one per line); without names, the indices ``0..count-1`` are digested."""
    lines = names if names is not None and len(names) == count else [str(i) for i in range(count)]
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    named = lines is names
    return LabelsRecord(count=count, sha256=digest, source=source if named else "class indices",
                        names=list(lines) if named else None)  # fmt: skip


def artifact_metadata(preprocessing: Preprocessing, labels: LabelsRecord, lineage: list[dict[str, Any]],
                      source: dict[str, str]) -> dict[str, str]:  # fmt: skip
    """The key/value pairs written into the artifact (compact JSON values, sorted keys)."""

    def dump(value: Any) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)

    return {
        PREPROCESSING_KEY: dump(preprocessing.model_dump(mode="json")),
        LABELS_KEY: dump(labels.model_dump(mode="json")),
        LINEAGE_KEY: dump(lineage),
        SOURCE_KEY: dump(source),
    }


def stamp_onnx(model: onnx.ModelProto, metadata: dict[str, str]) -> onnx.ModelProto:
    """A copy of ``model`` whose metadata_props hold ``metadata`` (replacing equal keys)."""
    stamped = onnx.ModelProto()
    stamped.CopyFrom(model)
    kept = [(p.key, p.value) for p in stamped.metadata_props if p.key not in metadata]
    del stamped.metadata_props[:]
    for key, value in sorted([*kept, *metadata.items()]):
        stamped.metadata_props.add(key=key, value=value)
    stamped.producer_name = "edgekit"
    stamped.producer_version = tool_versions().get("edgekit", "")
    return stamped


def torchscript_bytes(module: Any, example: Any, metadata: dict[str, str]) -> bytes:
    """Trace ``module`` and serialize it with ``metadata`` as an extra file, deterministically.

    No byte is rewritten: torch's archive writer (``PyTorchStreamWriter``) gives every entry a
    fixed timestamp and derives ``.data/serialization_id`` from the record names and the CRC-32 of
    their data, and the metadata is JSON with sorted keys, so the same command gives the same bytes
    (``tests/test_manifest.py`` compares two processes: within one process, tracing a class again
    renames its types ``___torch_mangle_N``).
    """
    import torch

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated, yet the one format that
        traced = torch.jit.trace(module, example, check_trace=False)  # holds dynamic-quantized Linear layers
        buffer = io.BytesIO()
        torch.jit.save(traced, buffer, _extra_files={TORCHSCRIPT_METADATA: json.dumps(metadata, sort_keys=True)})
    return buffer.getvalue()
