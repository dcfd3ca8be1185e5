"""Logits of a model over preprocessed pixels: the predictor callable, batched runs, the ONNX predictor.

A :data:`Predictor` maps (N, 3, H, W) float32 pixels to (N, classes) logits. Accuracy on an image
folder (:mod:`edgekit.evaluate`) and fidelity against a reference (:mod:`edgekit.fidelity`) both
run their models through this module; tests and other runtimes pass any callable.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from edgekit.ort import make_session, run_batches

Predictor = Callable[[np.ndarray], np.ndarray]  # (N, 3, H, W) float32 → (N, classes) logits
ONNX_RUNTIME = "onnxruntime-cpu"  # the runtime of onnx_predictor, as measured metrics name it
PREDICT_BATCH = 16  # images per inference call; only speed depends on it


def predict_all(predictor: Predictor, pixels: np.ndarray, batch: int = PREDICT_BATCH) -> np.ndarray:
    """Run a predictor over (N, C, H, W) pixels ``batch`` images at a time."""
    outputs = [np.asarray(predictor(pixels[i : i + batch])) for i in range(0, len(pixels), batch)]
    return np.concatenate(outputs, axis=0)


def onnx_predictor(path: Path, threads: int | None = None) -> Predictor:
    """A predictor over an ONNX file with onnxruntime's CPU provider.

    Raises:
        BadInputError: onnxruntime cannot load the file.
    """
    session = make_session(Path(path), threads=threads)
    # run_batches feeds a static-batch export one image at a time.
    return lambda pixels: run_batches(session, pixels, batch=len(pixels))
