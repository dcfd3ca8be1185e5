"""Helpers for passes over torch modules: safe copies, cost counts, the classifier head."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

# Fixed seed of the example input used for tracing/counting, so reports are reproducible.
_EXAMPLE_SEED = 0
COUNTER_METHOD = "edgekit.passes.conv_linear_macs@1 (forward hooks, batch 1)"


def example_input(shape: tuple[int, ...]) -> torch.Tensor:
    """A seeded random tensor of ``shape`` (batch 1) for tracing and counting."""
    import torch

    generator = torch.Generator().manual_seed(_EXAMPLE_SEED)
    return torch.randn(shape, generator=generator)


def clone(module: torch.nn.Module) -> torch.nn.Module:
    """A deep copy in eval mode, so a pass never edits its input."""
    return copy.deepcopy(module).eval()


def macs_by_layer_type(module: torch.nn.Module, shape: tuple[int, ...]) -> dict[str, int]:
    """Dense multiply-accumulates of one forward pass, split into ``conv`` and ``linear``.

    Same convention as torchvision's ``_ops`` and :mod:`edgekit.analysis`: only convolutions and
    matrix products count; a zero weight is still multiplied.
    """
    import torch

    counts = {"conv": 0, "linear": 0}

    def count(layer: torch.nn.Module, _inputs: object, output: torch.Tensor) -> None:
        if isinstance(layer, torch.nn.Conv2d):
            counts["conv"] += output.numel() * layer.weight[0].numel()  # Cin/groups × kh × kw per output
        else:
            counts["linear"] += output.numel() * layer.in_features

    layers = [m for m in module.modules() if isinstance(m, torch.nn.Conv2d | torch.nn.Linear)]
    hooks = [layer.register_forward_hook(count) for layer in layers]
    try:
        with torch.no_grad():
            module(example_input(shape))
    finally:
        for hook in hooks:
            hook.remove()
    return counts


def macs_and_params(module: torch.nn.Module, shape: tuple[int, ...]) -> tuple[int, int]:
    """Dense Conv2d/Linear multiply-accumulates of one forward pass, and the parameter count."""
    return sum(macs_by_layer_type(module, shape).values()), sum(p.numel() for p in module.parameters())


def classifier_layers(module: torch.nn.Module, shape: tuple[int, ...]) -> list[torch.nn.Module]:
    """The layer that produces the class scores: the last Linear/Conv2d whose width is the output's.

    Pruning must keep it whole so the model still predicts every class.
    """
    import torch

    with torch.no_grad():
        classes = int(module(example_input(shape)).shape[-1])
    widths = {torch.nn.Linear: "out_features", torch.nn.Conv2d: "out_channels"}
    candidates = [
        layer for layer in module.modules()
        if type(layer) in widths and getattr(layer, widths[type(layer)]) == classes
    ]  # fmt: skip
    return candidates[-1:]
