"""Calibration images for static quantization: a folder on disk or generated images.

Folder images are taken in sorted path order and generated ones from a fixed seed, so the
same command always calibrates on the same pixels (deterministic artifacts).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgekit.images import generated_images, load_images
from edgekit.models import Preprocessing

# Generated calibration images use this seed; fidelity checks use a different one (held out).
CALIBRATION_SEED = 0


@dataclass(frozen=True)
class CalibrationSet:
    """Preprocessed calibration inputs and a plain description of where they came from."""

    pixels: np.ndarray
    source: str


def calibration_set(
    prep: Preprocessing, folder: Path | None, count: int, seed: int = CALIBRATION_SEED
) -> CalibrationSet:
    """Load the first ``count`` images of ``folder`` (sorted), or ``count`` generated ones.

    Raises:
        BadInputError: the folder is missing or holds no readable image.
    """
    if folder is None:
        batch = generated_images(count, prep, seed=seed)
        return CalibrationSet(batch.pixels, f"{len(batch)} generated images (seed {seed})")
    batch = load_images(Path(folder), prep, limit=count)
    skipped = f", {batch.skipped} unreadable skipped" if batch.skipped else ""
    return CalibrationSet(batch.pixels, f"{len(batch)} images from {folder}{skipped}")


def data_reader(pixels: np.ndarray, input_name: str) -> Any:
    """An onnxruntime ``CalibrationDataReader`` feeding one image per call (fits static batch 1)."""
    from onnxruntime.quantization import CalibrationDataReader

    class _PixelReader(CalibrationDataReader):
        def __init__(self) -> None:
            self._next = 0

        def get_next(self) -> dict[str, np.ndarray] | None:
            if self._next >= len(pixels):
                return None
            self._next += 1
            return {input_name: pixels[self._next - 1 : self._next]}

        def rewind(self) -> None:
            self._next = 0

    return _PixelReader()
