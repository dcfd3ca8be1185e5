"""Structural and numeric checks of one transform against its parent.

Structure: ``onnx.checker.check_model(full_check=True)`` and an onnxruntime session. Numbers:
both models run on the same seeded inputs, onnxruntime with graph optimizations disabled
(P12) so that the graph itself is judged, then :func:`edgekit.fidelity.fidelity` and the
transform's named tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import onnx
from pydantic import BaseModel, ConfigDict

from edgekit.errors import BadInputError
from edgekit.fidelity import Fidelity
from edgekit.ort import make_session, run_batches
from edgekit.passes import Artifact, ParityKind
from edgekit.verify.tolerances import DecisiveAgreement, Tolerance, tolerance_for

# Random parity inputs: standard normal, like normalized pixels; 4 samples exercise the batch axis.
PARITY_RANDOM_COUNT = 4
PARITY_RANDOM_SEED = 1234
InputSet = Literal["random", "images"]
# Trained classifiers emit logits of order 1-10; a parent whose logits stay below this is almost
# surely random-init (torchvision's MobileNets reach ~1e-9), which explains a failed int8 step.
TINY_LOGIT_SCALE = 1e-6


@dataclass(frozen=True)
class ProbeInputs:
    """The two input sets every check draws from, with labels for the report."""

    random: np.ndarray
    images: np.ndarray
    images_label: str
    random_label: str = f"{PARITY_RANDOM_COUNT} seeded N(0,1) random inputs (seed {PARITY_RANDOM_SEED})"

    def get(self, which: InputSet) -> np.ndarray:
        """The pixels of one input set."""
        return self.random if which == "random" else self.images

    def label(self, which: InputSet) -> str:
        """The description of one input set."""
        return self.random_label if which == "random" else self.images_label


def random_inputs(input_shape: tuple[int, ...], count: int = PARITY_RANDOM_COUNT) -> np.ndarray:
    """Seeded standard-normal inputs of the model's (C, H, W)."""
    rng = np.random.default_rng(PARITY_RANDOM_SEED)
    return rng.standard_normal((count, *input_shape[1:])).astype(np.float32)


def input_set_for(parity: ParityKind) -> InputSet:
    """Elementwise rules use random inputs (the issue's bar); int8 and pruning use images."""
    return "random" if parity in ("fp32", "fp16") else "images"


class StepVerdict(BaseModel):
    """The verification of one pass's output against its input."""

    model_config = ConfigDict(extra="forbid")

    pass_name: str
    status: Literal["passed", "failed", "reported"]
    tolerance: Tolerance
    structural: str
    inputs: str
    fidelity: Fidelity | None = None
    decisive: DecisiveAgreement | None = None
    detail: str = ""


def outputs_of(artifact: Artifact, pixels: np.ndarray) -> np.ndarray:
    """Logits of a torch module (no grad) or an ONNX graph (onnxruntime, optimizations off)."""
    if artifact.kind == "torch":
        import torch

        with torch.no_grad():
            return artifact.model(torch.from_numpy(pixels)).float().numpy()

    session = make_session(artifact.model.SerializeToString(), optimize=False)
    return run_batches(session, pixels)


def structural_check(artifact: Artifact) -> str:
    """``ok`` or the first line of why the ONNX graph is invalid (torch modules are not checked here)."""
    if artifact.kind != "onnx":
        return "n/a (torch module)"
    try:
        onnx.checker.check_model(artifact.model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        return f"onnx.checker: {str(exc).strip().splitlines()[0]}"
    return "ok"


@dataclass
class Evaluated:
    """An artifact with its outputs on the probe inputs, computed on first use."""

    artifact: Artifact
    inputs: ProbeInputs
    _cache: dict[str, np.ndarray] = field(default_factory=dict)

    def outputs(self, which: InputSet) -> np.ndarray:
        """Logits on one input set (cached)."""
        if which not in self._cache:
            self._cache[which] = outputs_of(self.artifact, self.inputs.get(which))
        return self._cache[which]


def verify_step(
    pass_name: str, parity: ParityKind, parent: Evaluated, child: Evaluated, tolerance: Tolerance | None = None
) -> StepVerdict:
    """Check ``child`` structurally and against ``parent`` under the tolerance of ``parity`` (or ``tolerance``)."""
    tolerance = tolerance or tolerance_for(parity)
    which = input_set_for(parity)
    label = parent.inputs.label(which)
    structural = structural_check(child.artifact)
    if structural != "ok" and not structural.startswith("n/a"):
        return StepVerdict(pass_name=pass_name, status="failed", tolerance=tolerance, structural=structural,
                           inputs=label, detail=structural)  # fmt: skip
    try:
        candidate = child.outputs(which)
    except BadInputError as exc:
        return StepVerdict(pass_name=pass_name, status="failed", tolerance=tolerance, structural=structural,
                           inputs=label, detail=str(exc))  # fmt: skip
    judgement = tolerance.judge(parent.outputs(which), candidate)
    status = "reported" if tolerance.rule == "reported" else ("passed" if judgement.within else "failed")
    detail = judgement.detail
    if status == "failed" and judgement.fidelity.max_abs_reference < TINY_LOGIT_SCALE:
        detail += (f"; the parent's logits are tiny (max {judgement.fidelity.max_abs_reference:.1e}), typical of "
                   "random-init weights whose activations vanish, below what int8 scales can represent")  # fmt: skip
    return StepVerdict(pass_name=pass_name, status=status, tolerance=tolerance, structural=structural,
                       inputs=label, fidelity=judgement.fidelity, decisive=judgement.decisive,
                       detail=detail)  # fmt: skip
