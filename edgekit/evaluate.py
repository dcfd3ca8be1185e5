"""Accuracy on a labelled image folder: top-1 / top-5 against the folders' class labels.

The folder's sorted class sub-folders are the model's output indices (torchvision's
``ImageFolder`` convention; the ImageNet-val layout with one folder per wnid is one). A folder
with fewer classes than the model names each class folder by its output index (``967`` or
``967-espresso``) or by one of the model's class names. Logits
come from a :data:`~edgekit.logits.Predictor`: onnxruntime on the model's ONNX artifact, or any
callable (tests, other runtimes). Fidelity against a reference model is :mod:`edgekit.fidelity`'s job.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from edgekit.errors import BadInputError
from edgekit.images import IMAGE_SUFFIXES, ImageBatch, load_labeled_images
from edgekit.logits import ONNX_RUNTIME, Predictor, onnx_predictor, predict_all
from edgekit.metrics import Metric, Provenance
from edgekit.models import Preprocessing
from edgekit.models._source import ModelSource
from edgekit.ort import make_session, run_batches
from edgekit.passes import Artifact
from edgekit.verify.checks import outputs_of

_TOP5 = 5
NOT_MEANINGFUL = "random-init weights: NOT meaningful"  # in the note of a top-1 measured on random-init weights
_PCT = 100.0
# A folder with more images than this is sampled per class (50,000 ImageNet-val images are 30 GB as float32).
MAX_EVAL_IMAGES = 2000
# A class folder named by its output index: "967", "967-espresso", "0967_espresso".
_INDEXED_CLASS = re.compile(r"^(\d+)(?:[-_ .].*)?$")


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
    data_sha256: str | None = Field(None, description="digest of the images used and their labels (data_digest)")

    def metrics(self, host: str, tool_versions: dict[str, str], runtime: str = ONNX_RUNTIME) -> list[Metric]:
        """``top1_pct`` / ``top5_pct`` as *measured* metrics (subset size in n_samples)."""
        note = f"on {self.data}" + ("" if self.meaningful else f"; {NOT_MEANINGFUL}")
        prov = Provenance(kind="measured", host=host, runtime=runtime, tool_versions=tool_versions,
                          n_samples=self.n_samples, note=note)  # fmt: skip
        values = [("top1_pct", self.top1)] + ([("top5_pct", self.top5)] if self.top5 is not None else [])
        return [Metric(name=n, value=v * _PCT, unit="%", provenance=prov) for n, v in values]


class AccuracyDrop(BaseModel):
    """A variant's accuracy next to its float parent's on the same images, and the drop between them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reference: Accuracy = Field(description="the fp32 parent")
    variant: Accuracy
    max_drop_pct: float | None = Field(None, description="the target (--max-drop), in top-1 points")

    @property
    def drop_pct(self) -> float:
        """Top-1 points lost: reference minus variant (negative when the variant does better)."""
        return (self.reference.top1 - self.variant.top1) * _PCT

    @property
    def met(self) -> bool | None:
        """Whether the drop is within ``max_drop_pct`` (None without a target)."""
        return None if self.max_drop_pct is None else self.drop_pct <= self.max_drop_pct

    def lines(self, recipe: str) -> list[str]:
        """Report lines: where measured, both figures and the drop."""
        ref, var = self.reference, self.variant
        digest = f", data sha256 {ref.data_sha256[:12]}" if ref.data_sha256 else ""
        target = (
            "" if self.max_drop_pct is None else f" (max {self.max_drop_pct:g}: {'met' if self.met else 'NOT met'})"
        )
        caveat = "" if ref.meaningful else " — random-init weights: NOT meaningful"
        return [
            f"accuracy  measured with onnxruntime on {ref.data}{digest}{caveat}",
            f"          fp32 parent top-1 {_pct(ref.top1)} top-5 {_pct(ref.top5)} · {recipe} top-1 {_pct(var.top1)} "
            f"top-5 {_pct(var.top5)} · drop {self.drop_pct:.2f} pt{target}",
        ]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * _PCT:.2f} %"


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


def check_class_count(folder: Path, num_classes: int, model: str,
                      label_names: Sequence[str] | None = None) -> list[str]:  # fmt: skip
    """Require that every class folder stands for one model output (see :func:`class_indices`).

    Raises:
        BadInputError: the folders cannot be mapped to the model's outputs.
    """
    classes = class_folders(folder)
    class_indices(classes, num_classes, model, folder, label_names)
    return classes


def class_indices(classes: Sequence[str], num_classes: int, model: str, folder: Path | str = "the folder",
                  label_names: Sequence[str] | None = None) -> tuple[int, ...]:  # fmt: skip
    """The model output index of every (sorted) class folder.

    One folder per output: the sorted order (ImageNet-val layout). Fewer folders: each named by
    its output index (``967``, ``967-espresso``), or each by one of the model's class names.

    Raises:
        BadInputError: none of these layouts fits, naming what was found.
    """
    if len(classes) == num_classes:
        return tuple(range(num_classes))
    matches = [_INDEXED_CLASS.match(name) for name in classes]
    if all(matches):
        indices = tuple(int(m.group(1)) for m in matches if m)
        bad = [(name, i) for name, i in zip(classes, indices, strict=True) if i >= num_classes]
        if bad:
            raise BadInputError(f"class folder {bad[0][0]!r} of {folder} names output {bad[0][1]}, "
                                f"but {model} has outputs 0..{num_classes - 1}")  # fmt: skip
        if len(set(indices)) != len(indices):
            raise BadInputError(f"two class folders of {folder} name the same output index: {', '.join(classes)}")
        return indices
    if label_names and all(name in label_names for name in classes):
        return tuple(list(label_names).index(name) for name in classes)
    raise BadInputError(
        f"{folder} has {len(classes)} class folders but {model} predicts {num_classes} classes; the sorted "
        f"class folders must be the model's output indices (ImageNet-val layout: {num_classes} wnid folders), or "
        "each folder must be named by its output index (e.g. 967-espresso) or by one of the model's class names"
    )


def load_eval_images(folder: Path, prep: Preprocessing, num_classes: int, model: str,
                     limit: int | None = None, per_class: int | None = None,
                     label_names: Sequence[str] | None = None) -> ImageBatch:  # fmt: skip
    """Load the first ``limit`` images, or ``per_class`` images of every class, after the class check.

    The labels are model output indices (:func:`class_indices`), whatever the folder layout.

    Raises:
        BadInputError: the folders do not map to the model's outputs, empty or undecodable folder, bad limits.
    """
    for name, value in (("limit", limit), ("per-class", per_class)):
        if value is not None and value < 1:
            raise BadInputError(f"--{name} must be at least 1, got {value}")
    classes = class_folders(Path(folder))
    indices = class_indices(classes, num_classes, model, folder, label_names)
    images = load_labeled_images(Path(folder), prep, per_class=per_class, limit=limit)
    if images.labels is None or indices == tuple(range(len(indices))):
        return images
    return dataclasses.replace(images, labels=tuple(indices[label] for label in images.labels))


def data_digest(images: ImageBatch) -> str:
    """sha256 over every image used (``<class folder>/<file>``, its bytes) and its label.

    Two runs with the same digest measured on the same files with the same labels.
    """
    digest = hashlib.sha256()
    for index, source in enumerate(images.sources):
        path = Path(source)
        label = images.labels[index] if images.labels is not None else -1
        digest.update(f"{path.parent.name}/{path.name}\0{label}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def selection_label(folder: Path, limit: int | None, per_class: int | None, n_loaded: int) -> str:
    """Say which images were used, e.g. ``val (first 500 images)``."""
    if per_class:
        return f"{folder} ({per_class} per class, {n_loaded} images)"
    if limit:
        return f"{folder} (first {n_loaded} images in class order)"
    return f"{folder} (all {n_loaded} images)"


def images_digest(images: ImageBatch) -> str | None:
    """:func:`data_digest` of images read from files, None for images that are not (generated, in memory)."""
    return data_digest(images) if all(Path(s).is_file() for s in images.sources) else None


def default_per_class(folder: Path, limit: int | None = None, per_class: int | None = None) -> int | None:
    """``per_class`` as given; with neither bound, an equal share per class above :data:`MAX_EVAL_IMAGES` images."""
    if limit is not None or per_class is not None:
        return per_class
    count = sum(1 for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    return max(1, MAX_EVAL_IMAGES // len(class_folders(Path(folder)))) if count > MAX_EVAL_IMAGES else None


def accuracy(predictor: Predictor, images: ImageBatch, num_classes: int, data: str,
             meaningful: bool = True, data_sha256: str | None = None) -> Accuracy:  # fmt: skip
    """Top-1 / top-5 of a predictor over labelled images (``data_sha256``: their digest, when already known).

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
        data_sha256=data_sha256 or images_digest(images),
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


def evaluate_source(source: ModelSource, data: Path, limit: int | None = None, per_class: int | None = None,
                    threads: int | None = None) -> Accuracy:  # fmt: skip
    """Top-1 / top-5 of any model source's fp32 ONNX (an own model: its own input, classes and labels).

    Raises:
        BadInputError: the class folders do not map to the outputs, empty or undecodable folder, bad limits.
        WeightsUnavailableError, MissingDependencyError: from loading the source.
    """
    from edgekit.bench._export import source_fp32_onnx

    loaded = source.load()
    images = load_eval_images(Path(data), loaded.preprocessing, loaded.num_classes, source.text, limit, per_class,
                              loaded.labels)  # fmt: skip
    label = selection_label(Path(data), limit, per_class, len(images))
    predictor = onnx_predictor(source_fp32_onnx(source, loaded=loaded), threads)
    return accuracy(predictor, images, loaded.num_classes, label, loaded.accuracy_meaningful)


@dataclass(frozen=True)
class LabelledData:
    """Labelled images loaded once, to measure a float parent and its variants on the same pixels."""

    images: ImageBatch
    label: str
    num_classes: int
    meaningful: bool = True
    threads: int | None = None
    data_sha256: str | None = None  # computed once: every variant is measured on these same files

    @classmethod
    def load(cls, folder: Path, prep: Preprocessing, num_classes: int, model: str,
             label_names: Sequence[str] | None = None, meaningful: bool = True,
             threads: int | None = None) -> LabelledData:  # fmt: skip
        """Load ``folder`` (all of it, or an equal share per class above :data:`MAX_EVAL_IMAGES` images).

        Raises:
            BadInputError: the folders do not map to the model's outputs, empty or undecodable folder.
        """
        per_class = default_per_class(Path(folder))
        images = load_eval_images(Path(folder), prep, num_classes, model, per_class=per_class, label_names=label_names)
        label = selection_label(Path(folder), None, per_class, len(images))
        return cls(images, label, num_classes, meaningful, threads, images_digest(images))

    def measure(self, predictor: Predictor) -> Accuracy:
        """Top-1 / top-5 of ``predictor`` on these images."""
        return accuracy(predictor, self.images, self.num_classes, self.label, self.meaningful, self.data_sha256)

    def measure_artifact(self, artifact: Artifact) -> Accuracy:
        """Top-1 / top-5 of an in-memory artifact (:func:`artifact_predictor`)."""
        return self.measure(artifact_predictor(artifact, self.threads))


def artifact_predictor(artifact: Artifact, threads: int | None = None) -> Predictor:
    """An ONNX artifact through onnxruntime with all graph optimizations (as deployed); a torch one in torch."""
    if artifact.kind != "onnx":
        return lambda pixels: outputs_of(artifact, pixels)
    session = make_session(artifact.model.SerializeToString(), threads=threads)
    return lambda pixels: run_batches(session, pixels, batch=len(pixels))
