"""Label-free fidelity of a candidate against its reference: from logits, and between ONNX files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgekit.fidelity import fidelity, fidelity_between, onnx_fidelity
from edgekit.images import generated_images
from edgekit.models import Preprocessing
from tests.bench._tiny import TINY_PX, tiny_onnx

PREP = Preprocessing(resize_px=TINY_PX, crop_px=TINY_PX, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))


def test_identical_logits_are_perfect() -> None:
    logits = np.random.default_rng(0).normal(size=(5, 10))
    result = fidelity(logits, logits)
    assert result.top1_agreement == 1.0
    assert result.cosine_min == pytest.approx(1.0)
    assert result.max_abs_error == 0.0


def test_agreement_cosine_and_error_values() -> None:
    reference = np.array([[1.0, 0.0], [0.0, 2.0]])
    candidate = np.array([[1.0, 0.0], [2.0, 0.0]])  # second sample flips class, orthogonal
    result = fidelity(reference, candidate)
    assert result.top1_agreement == 0.5
    assert result.cosine_mean == pytest.approx(0.5)
    assert result.cosine_min == pytest.approx(0.0)
    assert result.max_abs_error == 2.0
    assert result.relative_max_error == 1.0


def test_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="logit shapes differ"):
        fidelity(np.zeros((2, 3)), np.zeros((3, 3)))


def test_fidelity_of_onnx_files(tmp_path: Path) -> None:
    reference = tiny_onnx(tmp_path / "a.onnx", seed=0)
    other = tiny_onnx(tmp_path / "b.onnx", seed=1)
    images = generated_images(8, PREP)
    same = onnx_fidelity(reference, reference, images, threads=1)
    assert same.n_samples == 8
    assert same.top1_agreement == 1.0
    assert same.cosine_min == pytest.approx(1.0)
    assert same.max_abs_error == 0.0
    different = onnx_fidelity(reference, other, images, threads=1)
    assert different.max_abs_error > 0
    assert different.cosine_min < 1.0


def test_fidelity_between_predictors_runs_both_on_the_same_images_in_batches() -> None:
    images = generated_images(20, PREP)  # more than one predict batch
    seen: list[int] = []

    def reference(pixels: np.ndarray) -> np.ndarray:
        seen.append(len(pixels))
        return pixels.mean(axis=(2, 3))  # (N, 3) logits

    result = fidelity_between(reference, lambda pixels: reference(pixels) * 2.0, images)
    assert result.n_samples == 20
    assert sum(seen) == 40  # every image through each predictor once
    assert result.top1_agreement == 1.0
    assert result.cosine_min == pytest.approx(1.0)
    assert result.max_abs_error == pytest.approx(result.max_abs_reference)
