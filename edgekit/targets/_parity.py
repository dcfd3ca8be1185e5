"""Run a converted artifact on sample inputs and judge it against its parent under named tolerances.

The tolerances are edgekit.verify's (one per kind of transform, P13): a vendor conversion of
an fp32 model must match the fp32 parent as tightly as the fp32 export itself; fp16 and int8
artifacts get the fp16 and int8 rules. The same int8 file run by onnxruntime is reported next
to the vendor's figures (not gated: the two runtimes may round differently).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from edgekit.fidelity import Fidelity
from edgekit.ort import make_session, run_batches
from edgekit.targets._converter import ToolchainConverter
from edgekit.verify.tolerances import Tolerance, tolerance_for

VerificationStatus = Literal["passed", "failed", "skipped"]


class ParityCheck(BaseModel):
    """One comparison: candidate logits against reference logits on the same inputs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str
    reference: str
    candidate: str
    fidelity: Fidelity
    tolerance: str
    detail: str
    gated: bool
    passed: bool


class ParityVerdict(BaseModel):
    """The verdict of converting and running the artifact here (``verifier``: the runtime that ran it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: VerificationStatus
    reason: str | None = None
    verifier: str | None = None
    converted_precision: str | None = None
    tool_versions: dict[str, str] = {}
    inputs: str | None = None
    checks: list[ParityCheck] = []

    def failures(self) -> list[ParityCheck]:
        """Gated checks that failed."""
        return [c for c in self.checks if c.gated and not c.passed]


def reference_logits(onnx_path: Path, pixels: np.ndarray) -> np.ndarray:
    """Logits of an ONNX model in onnxruntime with graph optimizations off (the graph as written, P12)."""
    return run_batches(make_session(onnx_path, optimize=False), pixels)


def _check(label: str, reference: str, candidate: str, ref: np.ndarray, cand: np.ndarray,
           tolerance: Tolerance, gated: bool) -> ParityCheck:  # fmt: skip
    judgement = tolerance.judge(ref, cand)
    return ParityCheck(label=label, reference=reference, candidate=candidate, fidelity=judgement.fidelity,
                       tolerance=tolerance.name, detail=judgement.detail, gated=gated,
                       passed=judgement.within)  # fmt: skip


def verify_conversion(converter: ToolchainConverter, out_dir: Path, files: list[Path], artifact: Path,
                      parent: Path | None, precision: str, pixels: np.ndarray) -> list[ParityCheck]:  # fmt: skip
    """Run the converted files and compare them with the fp32 parent (gated).

    Without an fp32 parent (an fp16 or int8 ONNX file given as is), the same file run by
    onnxruntime is the gated reference. For int8 with a parent, the onnxruntime run of the same
    file is reported next to it.
    """
    candidate = converter.run(out_dir, files, pixels)
    name = f"{converter.spec.id} ({converter.name})"
    tolerance = tolerance_for(precision)  # type: ignore[arg-type]
    same_file = f"the same {precision} file, onnxruntime"
    if parent is None:
        return [_check(f"{precision} artifact on {name} vs {same_file}", same_file, name,
                       reference_logits(artifact, pixels), candidate, tolerance, gated=True)]  # fmt: skip
    checks = [_check(f"{precision} artifact on {name} vs fp32 parent", "fp32 parent, onnxruntime", name,
                     reference_logits(parent, pixels), candidate, tolerance, gated=True)]  # fmt: skip
    if precision == "int8" and converter.name != "onnxruntime":
        checks.append(_check(f"int8 artifact on {name} vs {same_file}", same_file, name,
                             reference_logits(artifact, pixels), candidate, tolerance, gated=False))  # fmt: skip
    return checks
