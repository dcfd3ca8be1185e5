"""Tiny classifiers and helpers shared by the pass, verify and optimize tests (seconds on CPU)."""

from __future__ import annotations

import torch
from torch import nn

from edgekit.models import Preprocessing
from edgekit.passes import Artifact, get_pass

TINY_PX = 32
TINY_CLASSES = 10
TINY_PREP = Preprocessing(resize_px=36, crop_px=TINY_PX, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
TINY_SHAPE = (1, 3, TINY_PX, TINY_PX)


class TinyNet(nn.Module):
    """conv-bn-relu → depthwise conv-bn-relu → 1×1 conv → pool → linear: every layer kind passes touch."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.depthwise = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1, groups=16), nn.BatchNorm2d(16), nn.ReLU())
        self.pointwise = nn.Sequential(nn.Conv2d(16, 32, 1), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, TINY_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pointwise(self.depthwise(self.stem(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


class DeadChannelNet(nn.Module):
    """A net whose conv weights have very different channel scales: per-tensor int8 collapses it.

    Channel 0 has weights ×1e4 and a bias of −1e7, so ReLU always zeroes it (like a dead channel
    after BatchNorm folding); its range sets a per-tensor weight scale of ~15, at which the live
    channels' weights (|w| < 0.2) all round to zero. Per-channel scales keep them.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, TINY_CLASSES)
        with torch.no_grad():
            self.conv.weight[0] *= 1e4
            self.conv.bias.zero_()
            self.conv.bias[0] = -1e7
            self.fc.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.relu(self.conv(x))), 1))


def seeded(cls: type[nn.Module], seed: int = 0) -> nn.Module:
    """Build ``cls`` with a fixed seed, in eval mode."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return cls().eval()


def torch_artifact(cls: type[nn.Module] = TinyNet) -> Artifact:
    """A seeded tiny module as a pass input."""
    return Artifact(kind="torch", model=seeded(cls), input_shape=TINY_SHAPE, preprocessing=TINY_PREP)


def onnx_artifact(cls: type[nn.Module] = TinyNet, **export: object) -> Artifact:
    """The tiny module exported to ONNX (fp32, dynamic batch unless told otherwise)."""
    return get_pass("export_onnx").run(torch_artifact(cls), export).artifact
