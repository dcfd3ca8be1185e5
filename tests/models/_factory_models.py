"""Factories for the ``module:function`` model source (imported by edgekit, as a user's module would be)."""

from __future__ import annotations

from torch import nn

FACTORY_CLASSES = 5


def tiny5() -> nn.Module:
    """A 5-class conv net small enough for a CLI round trip in about a second."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, FACTORY_CLASSES),
    )  # fmt: skip


def not_a_module() -> object:
    """A factory that returns something else."""
    return {"weights": []}


# Logit offsets of near_tie5: far below one int8 step of its output range, so quantizing the output ties them.
NEAR_TIE_OFFSETS = (0.0, 1e-3, 2e-3, 3e-3, 4e-3)
NEAR_TIE_PASSES = 10  # identity layers after the head: more than the 8 layers --max-drop may keep float
NEAR_TIE_GAIN = 20.0  # spreads the logits over about ±20, so one int8 output step is about 0.15


def near_tie5() -> nn.Module:
    """A 5-class net whose float top-1 is always class 4 by 0.001, a margin int8 cannot keep.

    Every logit is the same function of the image plus :data:`NEAR_TIE_OFFSETS`: in fp32 class 4 wins every
    image; once any tensor after the head is quantized, the five logits share one int8 value and the tie goes
    to class 0. :data:`NEAR_TIE_PASSES` identity layers follow the head, more than ``--max-drop`` may keep float
    (8), so no int8 rung recovers it — what ``optimize --max-drop``'s exit-1 path needs.
    """
    import torch

    stem = nn.Conv2d(3, 4, 3, padding=1)
    head = nn.Linear(4, FACTORY_CLASSES)
    passes = [nn.Linear(FACTORY_CLASSES, FACTORY_CLASSES) for _ in range(NEAR_TIE_PASSES)]
    with torch.no_grad():
        head.weight.fill_(NEAR_TIE_GAIN / 4)
        head.bias.copy_(torch.tensor(NEAR_TIE_OFFSETS))
        for layer in passes:
            layer.weight.copy_(torch.eye(FACTORY_CLASSES))
            layer.bias.zero_()
    return nn.Sequential(stem, nn.AdaptiveAvgPool2d(1), nn.Flatten(), head, *passes)
