"""Accuracy on a labelled image folder: top-1 / top-5 against the folders' class labels.

The folder's sorted class sub-folders are the model's output indices (torchvision's
``ImageFolder`` convention; the ImageNet-val layout with one folder per wnid is one). Logits
come from a :data:`~edgekit.logits.Predictor`: onnxruntime on the model's ONNX artifact, or any
callable (tests, other runtimes). Fidelity against a reference model is :mod:`edgekit.fidelity`'s job.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from edgekit.errors import BadInputError
from edgekit.images import ImageBatch, load_labeled_images
from edgekit.logits import ONNX_RUNTIME, Predictor, onnx_predictor, predict_all
from edgekit.metrics import Metric, Provenance
from edgekit.models import Preprocessing

_TOP5 = 5
_PCT = 100.0


class Accuracy(BaseModel):
    """Top-1 / top-5 over a labelled sample, with whether it means anything."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_samples: int
    top1: float = Field(description="fraction of samples whose arg-max is the label")
    top5: float | None = Field(description="fraction with the label among the 5 highest; None below 5 classes")
    num_classes: int
    data: str = Field(description="folder and selection, e.g. 'val/ (first 500 images)'")
    skipped: int = Field(0, description="image files that could not be decoded")
    meaningful: bool = Field(True, description="False with random-init weights: the figure is noise")

    def metrics(self, host: str, tool_versions: dict[str, str], runtime: str = ONNX_RUNTIME) -> list[Metric]:
        """``top1_pct`` / ``top5_pct`` as *measured* metrics (subset size in n_samples)."""
        note = f"on {self.data}" + ("" if self.meaningful else "; random-init weights: NOT meaningful")
        prov = Provenance(kind="measured", host=host, runtime=runtime, tool_versions=tool_versions,
                          n_samples=self.n_samples, note=note)  # fmt: skip
        values = [("top1_pct", self.top1)] + ([("top5_pct", self.top5)] if self.top5 is not None else [])
        return [Metric(name=n, value=v * _PCT, unit="%", provenance=prov) for n, v in values]


def topk_accuracy(logits: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Fraction of rows whose label is among the ``k`` largest logits (ties broken by index).

    Raises:
        ValueError: shapes disagree or ``k`` is outside 1..classes.
    """
    logits, labels = np.asarray(logits), np.asarray(labels)
    if logits.ndim != 2 or labels.shape != (logits.shape[0],):
        raise ValueError(f"need (N, C) logits and N labels, got {logits.shape} and {labels.shape}")
    if not 1 <= k <= logits.shape[1]:
        raise ValueError(f"k must be in 1..{logits.shape[1]}, got {k}")
    top = np.argsort(-logits, axis=1, kind="stable")[:, :k]
    return float(np.mean(np.any(top == labels[:, None], axis=1)))


def class_folders(folder: Path) -> list[str]:
    """The sorted class sub-folder names of an image folder.

    Raises:
        BadInputError: not a folder, or no class sub-folders.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInputError(f"image folder {folder} does not exist or is not a folder")
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir())
    if not classes:
        raise BadInputError(f"{folder} has no class sub-folders (expected <dir>/<class>/<image>)")
    return classes


def check_class_count(folder: Path, num_classes: int, model: str) -> list[str]:
    """Require one class folder per model output.

    Raises:
        BadInputError: the counts differ (the folder indices would not be the model's classes).
    """
    classes = class_folders(folder)
    if len(classes) != num_classes:
        raise BadInputError(
            f"{folder} has {len(classes)} class folders but {model} predicts {num_classes} classes; the sorted "
            f"class folders must be the model's output indices (ImageNet-val layout: {num_classes} wnid folders)"
        )
    return classes


def load_eval_images(folder: Path, prep: Preprocessing, num_classes: int, model: str,
                     limit: int | None = None, per_class: int | None = None) -> ImageBatch:  # fmt: skip
    """Load the first ``limit`` images, or ``per_class`` images of every class, after the class check.

    Raises:
        BadInputError: class count mismatch, empty or undecodable folder, bad limits.
    """
    for name, value in (("limit", limit), ("per-class", per_class)):
        if value is not None and value < 1:
            raise BadInputError(f"--{name} must be at least 1, got {value}")
    check_class_count(folder, num_classes, model)
    return load_labeled_images(Path(folder), prep, per_class=per_class, limit=limit)


def selection_label(folder: Path, limit: int | None, per_class: int | None, n_loaded: int) -> str:
    """Say which images were used, e.g. ``val (first 500 images)``."""
    if per_class:
        return f"{folder} ({per_class} per class, {n_loaded} images)"
    if limit:
        return f"{folder} (first {n_loaded} images in class order)"
    return f"{folder} (all {n_loaded} images)"


def accuracy(predictor: Predictor, images: ImageBatch, num_classes: int, data: str,
             meaningful: bool = True) -> Accuracy:  # fmt: skip
    """Top-1 / top-5 of a predictor over labelled images.

    Raises:
        BadInputError: the images carry no labels, or the logits have the wrong width.
    """
    if images.labels is None:
        raise BadInputError("accuracy needs labelled images (an image folder with class sub-folders)")
    logits = predict_all(predictor, images.pixels)
    if logits.shape[1] != num_classes:
        raise BadInputError(f"the model produced {logits.shape[1]} logits per image, expected {num_classes}")
    labels = np.asarray(images.labels)
    return Accuracy(
        n_samples=len(labels), top1=topk_accuracy(logits, labels, 1),
        top5=topk_accuracy(logits, labels, _TOP5) if num_classes >= _TOP5 else None,
        num_classes=num_classes, data=data, skipped=images.skipped, meaningful=meaningful,
    )  # fmt: skip


def evaluate_model(name: str, data: Path, weights: str = "none", limit: int | None = None,
                   per_class: int | None = None, threads: int | None = None) -> Accuracy:  # fmt: skip
    """Top-1 / top-5 of a registry model's fp32 ONNX export over an image folder (onnxruntime CPU).

    Raises:
        BadInputError: class-count mismatch, empty or undecodable folder, bad limits.
        UnknownNameError, WeightsUnavailableError: from the registry.
    """
    from edgekit.bench._export import fp32_onnx
    from edgekit.models import get_model_info, parse_weights

    info = get_model_info(name)
    images = load_eval_images(Path(data), info.preprocessing, info.num_classes, name, limit, per_class)
    label = selection_label(Path(data), limit, per_class, len(images))
    meaningful = parse_weights(weights).accuracy_meaningful
    return accuracy(onnx_predictor(fp32_onnx(name, weights), threads), images, info.num_classes, label, meaningful)
