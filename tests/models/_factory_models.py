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
