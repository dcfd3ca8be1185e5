"""Tiny models for benchmark tests: a small conv net exported to ONNX (and OpenVINO IR)."""

from __future__ import annotations

from pathlib import Path

TINY_PX = 32
TINY_CLASSES = 3


def tiny_onnx(path: Path, dynamic_batch: bool = True, seed: int = 0, classes: int = TINY_CLASSES) -> Path:
    """A 3-layer conv classifier (3×32×32 → ``classes`` logits) saved as ONNX."""
    import torch
    from torch import nn

    from edgekit.onnx_io import save_onnx, torch_to_onnx

    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, classes),
    ).eval()  # fmt: skip
    save_onnx(torch_to_onnx(model, (1, 3, TINY_PX, TINY_PX), dynamic_batch=dynamic_batch), path)
    return path


def tiny_ir(onnx_path: Path, xml_path: Path) -> Path:
    """Convert an ONNX file to OpenVINO IR (.xml + .bin)."""
    import openvino as ov

    ov.save_model(ov.Core().read_model(str(onnx_path)), str(xml_path))
    return xml_path
