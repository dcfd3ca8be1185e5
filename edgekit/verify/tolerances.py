"""Named parity tolerances, one per kind of transform (STYLE.md P13), each with why it is that value."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from edgekit.fidelity import Fidelity, fidelity
from edgekit.passes import ParityKind

# fp32 export and graph simplification only reorder float operations: the bar is
# max |error| <= 1e-4 × max |logit| on random inputs (measured here: ~5e-7 on resnet18).
FP32_MAX_RELATIVE_ERROR = 1e-4
# fp16 keeps a 10-bit mantissa (~5e-4 relative per op) and errors add up over ~20-50 layers;
# 1e-2 of the logit scale is loose enough for that yet catches overflow/underflow (measured
# here: 3.5e-4 on resnet18).
FP16_MAX_RELATIVE_ERROR = 1e-2
# int8 is judged by decisions and direction, not elementwise error. A healthy PTQ of an
# ImageNet CNN keeps ~99% of fp32 top-1 decisions and a logit cosine above 0.99 (measured here
# on generated images: resnet18 0.9998, mobilenet_v2 0.9995); a collapse shows cosine well
# below 0.9 and agreement near chance. 0.90 / 0.98 sit between the two with margin for the
# small samples (16 images: one disagreement is 6%).
INT8_MIN_TOP1_AGREEMENT = 0.90
INT8_MIN_COSINE = 0.98
# Top-1 agreement is gated on "decisive" samples only: those whose reference winner leads the
# runner-up by at least this share of the sample's max |logit|. Closer calls flip under any
# rounding (int8 moves single logits by up to ~6% of the scale on resnet18 here) and say
# nothing about a collapse, which the cosine catches; random-init networks give almost only
# such near-ties (pruned30-int8 resnet18: 2 of 16 flipped at cosine 0.9999).
DECISIVE_MARGIN = 0.10
# With fewer decisive samples than this, agreement is reported but not gated.
MIN_DECISIVE_SAMPLES = 4

ToleranceRule = Literal["relative_max_error", "agreement_and_cosine", "reported"]


class DecisiveAgreement(BaseModel):
    """Top-1 agreement restricted to samples the reference decides clearly (see DECISIVE_MARGIN)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_samples: int
    agreement: float | None = Field(None, description="None when no sample is decisive")
    margin: float = DECISIVE_MARGIN


def decisive_agreement(
    reference: np.ndarray, candidate: np.ndarray, margin: float = DECISIVE_MARGIN
) -> DecisiveAgreement:
    """Agreement of arg-max classes over the samples whose reference top-1 lead is >= ``margin`` × max|logit|."""
    reference = np.asarray(reference, dtype=np.float64)
    top2 = np.sort(reference, axis=1)[:, -2:] if reference.shape[1] > 1 else np.zeros((len(reference), 2))
    scale = np.max(np.abs(reference), axis=1)
    decisive = (top2[:, 1] - top2[:, 0]) >= margin * np.where(scale > 0, scale, np.inf)
    if not decisive.any():
        return DecisiveAgreement(n_samples=0, margin=margin)
    same = reference.argmax(1) == np.asarray(candidate).argmax(1)
    return DecisiveAgreement(n_samples=int(decisive.sum()), agreement=float(same[decisive].mean()), margin=margin)


class Judgement(BaseModel):
    """A tolerance applied to one pair of outputs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    within: bool
    detail: str
    fidelity: Fidelity
    decisive: DecisiveAgreement | None = None


class Tolerance(BaseModel):
    """A parity rule with its thresholds and the reason it has them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    rule: ToleranceRule
    max_relative_error: float | None = None
    min_top1_agreement: float | None = None
    min_cosine: float | None = None
    why: str = Field(description="one line: why this rule and these numbers")

    def judge(self, reference: np.ndarray, candidate: np.ndarray) -> Judgement:
        """Compare candidate logits with reference logits under this rule."""
        fid = fidelity(reference, candidate)
        if self.rule == "relative_max_error":
            assert self.max_relative_error is not None
            ok = fid.relative_max_error <= self.max_relative_error
            detail = (f"max|err| {fid.max_abs_error:.3g} = {fid.relative_max_error:.2e} × max|logit| "
                      f"({'≤' if ok else '>'} {self.max_relative_error:g})")  # fmt: skip
            return Judgement(within=ok, detail=detail, fidelity=fid)
        decisive = decisive_agreement(reference, candidate)
        if self.rule == "reported":
            detail = f"reported, not gated: top-1 agreement {fid.top1_agreement:.3f}, cosine {fid.cosine_mean:.4f}"
            return Judgement(within=True, detail=detail, fidelity=fid, decisive=decisive)
        return self._judge_int8(fid, decisive)

    def _judge_int8(self, fid: Fidelity, decisive: DecisiveAgreement) -> Judgement:
        assert self.min_top1_agreement is not None
        assert self.min_cosine is not None
        cosine_ok = fid.cosine_mean >= self.min_cosine
        gated = decisive.agreement is not None and decisive.n_samples >= MIN_DECISIVE_SAMPLES
        agreement_ok = not gated or decisive.agreement >= self.min_top1_agreement
        on_decisive = (f"{decisive.agreement:.3f} on {decisive.n_samples} decisive (min {self.min_top1_agreement:g})"
                       if gated else f"not gated: {decisive.n_samples} decisive samples")  # fmt: skip
        detail = (f"top-1 agreement {fid.top1_agreement:.3f} ({on_decisive}), "
                  f"cosine {fid.cosine_mean:.4f} (min {self.min_cosine:g})")  # fmt: skip
        return Judgement(within=cosine_ok and agreement_ok, detail=detail, fidelity=fid, decisive=decisive)


TOLERANCES: dict[ParityKind, Tolerance] = {
    "fp32": Tolerance(
        name="FP32_MAX_RELATIVE_ERROR", rule="relative_max_error", max_relative_error=FP32_MAX_RELATIVE_ERROR,
        why="float export/simplification reorders float ops only",
    ),
    "fp16": Tolerance(
        name="FP16_MAX_RELATIVE_ERROR", rule="relative_max_error", max_relative_error=FP16_MAX_RELATIVE_ERROR,
        why="10-bit mantissa rounding accumulated over the network",
    ),
    "int8": Tolerance(
        name="INT8_MIN_TOP1_AGREEMENT+INT8_MIN_COSINE", rule="agreement_and_cosine",
        min_top1_agreement=INT8_MIN_TOP1_AGREEMENT, min_cosine=INT8_MIN_COSINE,
        why="quantization noise is judged by decisions and logit direction",
    ),
    "lossy": Tolerance(
        name="LOSSY_REPORTED", rule="reported",
        why="pruning without fine-tuning changes the function by design; fidelity is reported, not gated",
    ),
}  # fmt: skip


def tolerance_for(parity: ParityKind) -> Tolerance:
    """The named tolerance that verifies a transform of this parity kind."""
    return TOLERANCES[parity]
