"""Label-free fidelity of a variant against its reference: agreement, cosine, max error.

Used wherever a transformed model is compared with its parent (export parity, int8 and fp16
checks, vendor conversions) and by ``bench`` for variants without labelled data. Accuracy
against labels is :mod:`edgekit.evaluate`'s job.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from edgekit.logits import Predictor, onnx_predictor, predict_all

if TYPE_CHECKING:
    from edgekit.images import ImageBatch


class Fidelity(BaseModel):
    """How closely candidate logits follow reference logits over the same inputs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_samples: int
    top1_agreement: float = Field(description="fraction of samples with the same arg-max class")
    cosine_mean: float = Field(description="mean per-sample cosine similarity of the logit vectors")
    cosine_min: float
    max_abs_error: float
    max_abs_reference: float = Field(description="max |logit| of the reference, the scale of the error")

    @property
    def relative_max_error(self) -> float:
        """``max_abs_error / max |reference logit|`` (0 when the reference is all zeros)."""
        return self.max_abs_error / self.max_abs_reference if self.max_abs_reference else 0.0


def fidelity(reference: np.ndarray, candidate: np.ndarray) -> Fidelity:
    """Compare two (N, classes) logit arrays.

    Raises:
        ValueError: the arrays' shapes differ or are not 2-D.
    """
    reference = np.asarray(reference, dtype=np.float64)
    candidate = np.asarray(candidate, dtype=np.float64)
    if reference.shape != candidate.shape or reference.ndim != 2:
        raise ValueError(f"logit shapes differ or are not (N, C): {reference.shape} vs {candidate.shape}")
    norms = np.linalg.norm(reference, axis=1) * np.linalg.norm(candidate, axis=1)
    dots = np.sum(reference * candidate, axis=1)
    # Two all-zero vectors agree perfectly; one zero vector against a non-zero one does not.
    cosine = np.where(norms > 0, dots / np.where(norms > 0, norms, 1.0), 0.0)
    both_zero = (np.linalg.norm(reference, axis=1) == 0) & (np.linalg.norm(candidate, axis=1) == 0)
    cosine = np.where(both_zero, 1.0, cosine)
    return Fidelity(
        n_samples=int(reference.shape[0]),
        top1_agreement=float(np.mean(reference.argmax(1) == candidate.argmax(1))),
        cosine_mean=float(cosine.mean()),
        cosine_min=float(cosine.min()),
        max_abs_error=float(np.max(np.abs(reference - candidate))),
        max_abs_reference=float(np.max(np.abs(reference))),
    )


def fidelity_between(reference: Predictor, candidate: Predictor, images: ImageBatch) -> Fidelity:
    """Label-free fidelity of ``candidate`` against ``reference`` on the same images."""
    return fidelity(predict_all(reference, images.pixels), predict_all(candidate, images.pixels))


def onnx_fidelity(reference: Path, candidate: Path, images: ImageBatch, threads: int | None = None) -> Fidelity:
    """Fidelity of one ONNX file against another (e.g. int8 variant vs its fp32 parent)."""
    return fidelity_between(onnx_predictor(reference, threads), onnx_predictor(candidate, threads), images)
