"""The last check: the written file is reloaded and run the way it will be deployed.

ONNX files run in onnxruntime with all graph optimizations on (QDQ pairs become QLinearConv
kernels, so the numbers may differ slightly from the simulated graph the parity checks used);
TorchScript files are reloaded with ``torch.jit.load``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from edgekit.errors import BadInputError
from edgekit.ort import make_session, run_batches
from edgekit.verify.tolerances import Tolerance


class FinalCheck(BaseModel):
    """The written bytes reloaded and run as deployed."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["passed", "failed", "skipped"]
    detail: str


def check_written(path: Path, file_format: Literal["onnx", "torchscript"], pixels: np.ndarray,
                  expected: np.ndarray, tolerance: Tolerance) -> FinalCheck:  # fmt: skip
    """Reload ``path``, run ``pixels`` and compare with the in-memory ``expected`` logits."""
    try:
        produced = _run_onnx(path, pixels) if file_format == "onnx" else _run_torchscript(path, pixels)
    except BadInputError as exc:
        return FinalCheck(status="failed", detail=f"the written file does not run: {exc}")
    judgement = tolerance.judge(expected, produced)
    runtime = "onnxruntime, all graph optimizations" if file_format == "onnx" else "torch.jit.load"
    status = "passed" if judgement.within else "failed"
    return FinalCheck(status=status, detail=f"{runtime}: {judgement.detail} [{tolerance.name}]")


def _run_onnx(path: Path, pixels: np.ndarray) -> np.ndarray:
    return run_batches(make_session(path, optimize=True), pixels)


def _run_torchscript(path: Path, pixels: np.ndarray) -> np.ndarray:
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated; still the format here
        module = torch.jit.load(str(path), map_location="cpu")
    with torch.no_grad():
        return module(torch.from_numpy(pixels)).float().numpy()
