import numpy as np
import pytest

from edgekit.fidelity import fidelity


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
