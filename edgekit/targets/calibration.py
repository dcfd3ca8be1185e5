"""Calibration files for toolchains that quantize by themselves (rknn, onnx2tf, QNN, ncnn, ESP-PPQ).

Every file holds the same images, written in the layout and scale each tool reads. The list
files (``dataset.txt``, ``input_list.txt``) sit at the root of the export folder and name
paths relative to it, so a tool resolving them against its working directory or against the
list's own folder finds the same files.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

CALIBRATION_DIR = "calibration"
CALIBRATION_PATHS = {
    "calib_list": "dataset.txt",  # PNG paths, one a line (rknn dataset, ncnn2table imagelist)
    "calib_npy_nchw": f"{CALIBRATION_DIR}/calibration_nchw.npy",  # normalized, as the ONNX input
    "calib_npy_nhwc": f"{CALIBRATION_DIR}/calibration_nhwc_0to1.npy",  # onnx2tf -cind: [0, 1], mean/std given apart
    "calib_raw_list": "input_list.txt",  # raw NHWC float32 paths, one a line (qnn-onnx-converter --input_list)
}
_PIXEL_MAX = 255.0


def unnormalize(pixels: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """Undo mean/std normalization: (N, 3, H, W) normalized → (N, H, W, 3) float32 in [0, 1]."""
    shape = (1, len(mean), 1, 1)
    restored = pixels * np.asarray(std, np.float32).reshape(shape) + np.asarray(mean, np.float32).reshape(shape)
    return np.clip(restored, 0.0, 1.0).transpose(0, 2, 3, 1).astype(np.float32)


def write_calibration(
    folder: Path,
    pixels: np.ndarray,
    mean: Sequence[float],
    std: Sequence[float],
    kinds: Sequence[str],
) -> list[Path]:
    """Write the calibration files ``kinds`` (see ``CalibrationFile``) below ``folder``.

    Args:
        folder: the export folder.
        pixels: (N, 3, H, W) float32, normalized exactly as the model's input.
        mean: per-channel mean on the [0, 1] scale.
        std: per-channel std on the [0, 1] scale.
        kinds: any of ``png-list``, ``npy-nchw``, ``npy-nhwc-unnormalized``, ``raw-nhwc-list``.

    Returns:
        The files written, relative to ``folder``.
    """
    (folder / CALIBRATION_DIR).mkdir(parents=True, exist_ok=True)
    nhwc01 = unnormalize(pixels, mean, std)
    writers = {"png-list": lambda: _pngs(folder, nhwc01), "npy-nchw": lambda: _npy_nchw(folder, pixels),
               "npy-nhwc-unnormalized": lambda: _npy_nhwc(folder, nhwc01),
               "raw-nhwc-list": lambda: _raws(folder, pixels)}  # fmt: skip
    written: list[Path] = []
    for kind in kinds:
        written.extend(writers[kind]())
    return written


def _pngs(folder: Path, nhwc01: np.ndarray) -> list[Path]:
    names = []
    for index, image in enumerate(nhwc01):
        name = f"{CALIBRATION_DIR}/{index:04d}.png"
        Image.fromarray(np.round(image * _PIXEL_MAX).astype(np.uint8)).save(folder / name)
        names.append(name)
    (folder / CALIBRATION_PATHS["calib_list"]).write_text("\n".join(names) + "\n")
    return [Path(n) for n in [*names, CALIBRATION_PATHS["calib_list"]]]


def _npy_nchw(folder: Path, pixels: np.ndarray) -> list[Path]:
    np.save(folder / CALIBRATION_PATHS["calib_npy_nchw"], pixels.astype(np.float32))
    return [Path(CALIBRATION_PATHS["calib_npy_nchw"])]


def _npy_nhwc(folder: Path, nhwc01: np.ndarray) -> list[Path]:
    np.save(folder / CALIBRATION_PATHS["calib_npy_nhwc"], nhwc01)
    return [Path(CALIBRATION_PATHS["calib_npy_nhwc"])]


def _raws(folder: Path, pixels: np.ndarray) -> list[Path]:
    (folder / CALIBRATION_DIR / "raw").mkdir(exist_ok=True)
    names = []
    for index, sample in enumerate(pixels):
        name = f"{CALIBRATION_DIR}/raw/{index:04d}.raw"
        np.ascontiguousarray(sample.transpose(1, 2, 0), dtype=np.float32).tofile(folder / name)
        names.append(name)
    (folder / CALIBRATION_PATHS["calib_raw_list"]).write_text("\n".join(names) + "\n")
    return [Path(n) for n in [*names, CALIBRATION_PATHS["calib_raw_list"]]]
