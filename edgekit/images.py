"""Images for calibration, accuracy and fidelity: folders on disk or generated ones.

Preprocessing follows the model's weights transforms (resize the shorter side, centre crop,
scale to [0, 1], normalize by mean/std) and is done with Pillow and numpy, without torch.
"""

from __future__ import annotations

import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from edgekit.errors import BadInputError, SkippedInputWarning, summarize_exception
from edgekit.models import Preprocessing

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".ppm", ".tif", ".tiff"})
_RESAMPLE = {"bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC,
             "nearest": Image.Resampling.NEAREST}  # fmt: skip
# Why Pillow may refuse a file: unreadable or truncated (OSError, incl. UnidentifiedImageError), malformed
# chunks (SyntaxError, struct.error, ValueError), or more pixels than Image.MAX_IMAGE_PIXELS allows (a
# decompression bomb: DecompressionBombError, or DecompressionBombWarning raised as an error below).
_UNUSABLE_IMAGE = (OSError, SyntaxError, ValueError, struct.error, Image.DecompressionBombError,
                   Image.DecompressionBombWarning)  # fmt: skip
_NAMED_SKIPS = 5  # unusable files named one warning each; the rest are counted in one more
# Generated images are smooth random fields: a coarse grid upsampled, like natural images'
# low-frequency energy, so activations (and calibration ranges) resemble real inputs.
_GENERATED_GRID_PX = 8


@dataclass(frozen=True)
class ImageBatch:
    """Preprocessed images (N, 3, H, W) float32 with optional labels and their sources."""

    pixels: np.ndarray
    labels: tuple[int, ...] | None
    class_names: tuple[str, ...] | None
    sources: tuple[str, ...]
    skipped: int = 0

    def __len__(self) -> int:
        return int(self.pixels.shape[0])


def preprocess(image: Image.Image, prep: Preprocessing) -> np.ndarray:
    """Apply resize → centre crop → [0, 1] → normalize; returns (3, H, W) float32."""
    image = image.convert("RGB")
    scale = prep.resize_px / min(image.size)
    size = (max(prep.crop_px, round(image.width * scale)), max(prep.crop_px, round(image.height * scale)))
    image = image.resize(size, _RESAMPLE.get(prep.interpolation, Image.Resampling.BILINEAR))
    left, top = (size[0] - prep.crop_px) // 2, (size[1] - prep.crop_px) // 2
    image = image.crop((left, top, left + prep.crop_px, top + prep.crop_px))
    array = np.asarray(image, dtype=np.float32) / 255.0
    array = (array - np.asarray(prep.mean, np.float32)) / np.asarray(prep.std, np.float32)
    return np.ascontiguousarray(array.transpose(2, 0, 1))


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _require_folder(folder: Path) -> Path:
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInputError(f"image folder {folder} does not exist or is not a folder")
    return folder


def _decode(paths: list[Path], prep: Preprocessing, folder: Path) -> tuple[list[np.ndarray], list[int]]:
    """Decode every usable file; the run goes on without the others, each named by a :class:`SkippedInputWarning`."""
    arrays, kept, skipped = [], [], []
    for index, path in enumerate(paths):
        try:
            arrays.append(_decode_one(path, prep))
        except _UNUSABLE_IMAGE as exc:
            skipped.append(f"{path}: {summarize_exception(exc)}")
            continue  # counted as skipped by the caller
        kept.append(index)
    if not arrays:  # only the error then: nothing was skipped in favour of anything
        raise BadInputError(f"no readable images in {folder} ({len(paths)} image files tried)")
    _warn_skipped(skipped)
    return arrays, kept


def _warn_skipped(skipped: list[str]) -> None:
    for reason in skipped[:_NAMED_SKIPS]:
        warnings.warn(f"skipped image {reason}", SkippedInputWarning, stacklevel=4)
    if len(skipped) > _NAMED_SKIPS:
        warnings.warn(f"skipped {len(skipped) - _NAMED_SKIPS} more unusable image(s)", SkippedInputWarning,
                      stacklevel=4)  # fmt: skip


def _decode_one(path: Path, prep: Preprocessing) -> np.ndarray:
    # Over MAX_IMAGE_PIXELS Pillow only warns (it refuses at twice that): decoding such a file would still
    # allocate gigabytes, so the warning is an error here and the file is skipped like any unusable one.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(path) as image:
            return preprocess(image, prep)


def load_images(folder: Path, prep: Preprocessing, limit: int | None = None) -> ImageBatch:
    """Load up to ``limit`` images found anywhere under ``folder`` (labels ignored).

    Raises:
        BadInputError: the folder is missing or holds no decodable image.
    """
    folder = _require_folder(folder)
    paths = _image_files(folder)[:limit] if limit else _image_files(folder)
    arrays, kept = _decode(paths, prep, folder)
    return ImageBatch(np.stack(arrays), None, None, tuple(str(paths[i]) for i in kept), len(paths) - len(kept))


def load_labeled_images(folder: Path, prep: Preprocessing, per_class: int | None = None,
                        limit: int | None = None) -> ImageBatch:  # fmt: skip
    """Load an image-folder dataset: sorted class sub-folders are the output indices.

    This is the ImageNet-val layout (one folder per wnid, sorted) and torchvision's
    ``ImageFolder`` convention. ``per_class`` samples the first N images of every class;
    ``limit`` caps the total.

    Raises:
        BadInputError: the folder is missing, has no class folders, or no decodable image.
    """
    folder = _require_folder(folder)
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir())
    if not classes:
        raise BadInputError(f"{folder} has no class sub-folders (expected <dir>/<class>/<image>)")
    paths, labels = [], []
    for label, name in enumerate(classes):
        files = _image_files(folder / name)
        for path in files[:per_class] if per_class else files:
            paths.append(path)
            labels.append(label)
    if limit:
        paths, labels = paths[:limit], labels[:limit]
    arrays, kept = _decode(paths, prep, folder)
    return ImageBatch(
        np.stack(arrays), tuple(labels[i] for i in kept), tuple(classes),
        tuple(str(paths[i]) for i in kept), len(paths) - len(kept),
    )  # fmt: skip


def generated_images(count: int, prep: Preprocessing, seed: int = 0) -> ImageBatch:
    """Deterministic synthetic images (smooth random colour fields), preprocessed.

    Used where no real data is given: calibration ranges and fidelity checks. They carry no
    labels, so no accuracy is ever computed on them.
    """
    rng = np.random.default_rng(seed)
    arrays = []
    for _ in range(count):
        coarse = (rng.random((_GENERATED_GRID_PX, _GENERATED_GRID_PX, 3)) * 255).astype(np.uint8)
        image = Image.fromarray(coarse).resize((prep.resize_px, prep.resize_px), Image.Resampling.BICUBIC)
        arrays.append(preprocess(image, prep))
    sources = tuple(f"generated:{seed}:{i}" for i in range(count))
    return ImageBatch(np.stack(arrays), None, None, sources)
