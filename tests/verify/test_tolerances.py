"""Named tolerances: each rule's thresholds, decisive agreement, messages."""

from __future__ import annotations

import numpy as np
import pytest

from edgekit.verify import (
    DECISIVE_MARGIN,
    FP32_MAX_RELATIVE_ERROR,
    INT8_MIN_COSINE,
    TOLERANCES,
    decisive_agreement,
    tolerance_for,
)


@pytest.fixture
def reference() -> np.ndarray:
    """8 samples × 5 classes with a clear winner each (class = sample % 5, lead 3 of scale 4)."""
    logits = np.ones((8, 5))
    logits[np.arange(8), np.arange(8) % 5] = 4.0
    return logits


def test_every_parity_kind_has_a_named_tolerance_with_a_reason() -> None:
    assert set(TOLERANCES) == {"fp32", "fp16", "int8", "lossy"}
    assert all(t.why for t in TOLERANCES.values())
    assert tolerance_for("fp32").max_relative_error == FP32_MAX_RELATIVE_ERROR == 1e-4
    assert tolerance_for("fp16").max_relative_error == 1e-2
    assert tolerance_for("int8").min_top1_agreement == 0.9


def test_fp32_rule_is_relative_to_the_logit_scale(reference: np.ndarray) -> None:
    fp32 = tolerance_for("fp32")
    inside = fp32.judge(reference, reference + 0.9e-4 * 4.0)
    outside = fp32.judge(reference, reference + 1.1e-4 * 4.0)
    assert inside.within
    assert not outside.within
    assert outside.detail == "max|err| 0.00044 = 1.10e-04 × max|logit| (> 0.0001)"


def test_int8_rule_needs_cosine_and_decisive_agreement(reference: np.ndarray) -> None:
    int8 = tolerance_for("int8")
    noisy = reference + np.random.default_rng(0).normal(scale=0.05, size=reference.shape)
    assert int8.judge(reference, noisy).within
    flipped = reference.copy()
    flipped[:2] = np.roll(reference[:2], 1, axis=1)  # 2 of 8 clear decisions change: agreement 0.75
    judgement = int8.judge(reference, flipped)
    assert not judgement.within
    assert judgement.decisive.n_samples == 8
    assert judgement.decisive.agreement == pytest.approx(0.75)
    assert "0.750 on 8 decisive (min 0.9)" in judgement.detail


def test_near_ties_are_reported_but_not_gated() -> None:
    reference = np.ones((8, 5))
    reference[:, 0] += 0.01  # every sample leads by 0.25% of its scale: under DECISIVE_MARGIN
    candidate = reference.copy()
    candidate[:, 1] += 0.02  # every decision flips, the logit vectors stay almost parallel
    judgement = tolerance_for("int8").judge(reference, candidate)
    assert judgement.fidelity.top1_agreement == 0.0
    assert judgement.decisive.n_samples == 0
    assert judgement.within
    assert "not gated: 0 decisive samples" in judgement.detail


def test_a_collapsed_all_zero_output_fails_int8(reference: np.ndarray) -> None:
    judgement = tolerance_for("int8").judge(reference, np.zeros_like(reference))
    assert judgement.fidelity.cosine_mean == 0.0  # a zero vector is not parallel to a non-zero one
    assert judgement.fidelity.cosine_mean < INT8_MIN_COSINE
    assert not judgement.within


def test_lossy_transforms_are_reported_not_gated(reference: np.ndarray) -> None:
    judgement = tolerance_for("lossy").judge(reference, -reference)
    assert judgement.within
    assert judgement.detail.startswith("reported, not gated: top-1 agreement")


def test_decisive_agreement_margin() -> None:
    reference = np.array([[1.0, 0.95], [1.0, 0.5], [0.0, 0.0]])
    candidate = np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    result = decisive_agreement(reference, candidate)
    assert result.margin == DECISIVE_MARGIN
    assert result.n_samples == 1  # only the second sample leads by >= 10% of its scale
    assert result.agreement == 0.0
