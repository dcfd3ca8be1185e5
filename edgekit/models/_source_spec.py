"""The description of a model source and what loading one gives: shared by the parser and every loader."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from edgekit.fileio import sha256_file
from edgekit.models._registry import ModelInfo, Preprocessing, get_model_info
from edgekit.models._weights import parse_weights

SourceKind = Literal["torchvision", "checkpoint", "factory", "timm", "onnx"]
Layout = Literal["NCHW", "NHWC"]
LoadedKind = Literal["torch", "onnx"]
LABELS_METADATA_KEY = "edgekit.labels"  # edgekit.manifest.LABELS_KEY (manifest sits above this module)
# Preprocessing assumed when neither flags nor the model say: torchvision's ImageNet transforms.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
DEFAULT_INPUT_PX = 224
MAX_INPUT_PX = 4096  # the largest input side edgekit takes (from --input-size or an ONNX file's fixed shape)
IMAGENET_RESIZE_RATIO = 256 / 224
_DIGEST_CHARS = 12
FACTORY_WEIGHTS = "as the factory returns them"


class SourceSpec(BaseModel):
    """A model as the user named it, with the flags that describe its input (:class:`ModelSource` loads it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: SourceKind
    text: str
    name: str
    weights: str = "none"
    path: Path | None = None
    input_size: int | None = None
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    layout: Layout | None = None
    labels: Path | None = None

    @property
    def published(self) -> bool:
        """True when torchvision's published figures describe this model (its own head and weights policy)."""
        return self.kind == "torchvision"

    @property
    def info(self) -> ModelInfo | None:
        """The registry entry of a torchvision/checkpoint source's architecture."""
        return get_model_info(self.name) if self.kind in ("torchvision", "checkpoint") else None

    @property
    def accuracy_meaningful(self) -> bool:
        """False for seeded random init: accuracy means nothing."""
        return self.kind == "onnx" or self.weights != "none"

    def digest(self) -> str:
        """A short key for caches: changes when the files or flags that shape the graph change."""
        parts = [self.kind, self.text, str(self.input_size), str(self.mean), str(self.std), str(self.layout)]
        for path in (self.path, self.weights_path):
            parts.append(sha256_file(path) if path is not None and path.is_file() else "")
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:_DIGEST_CHARS]

    def record_name(self) -> str:
        """The name results of this model are kept under in the results store (``recommend`` looks it up).

        A torchvision model is its registry name. Any other source is its name plus a digest of what defines
        the network — file contents, architecture or factory, weights, input flags — but not the path typed:
        ``./my.onnx`` and ``/abs/my.onnx`` find the same records, a retrained checkpoint never finds stale
        ones, and ``mobilenet_v2@ck.pth`` never passes for torchvision's ``mobilenet_v2``.
        """
        if self.kind == "torchvision":
            return self.name
        # onnx: the file is the network; a factory module: its dotted path (a factory .py file: its contents).
        defining = {"onnx": "", "factory": self.text if self.path is None else self.name}.get(self.kind, self.name)
        parts = [self.kind, defining, "" if self.weights_path else self.weights, str(self.input_size),
                 str(self.mean), str(self.std), str(self.layout)]  # fmt: skip
        for path in (self.path, self.weights_path):
            parts.append(sha256_file(path) if path is not None and path.is_file() else "")
        digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:_DIGEST_CHARS]
        return f"{self.name}#{digest}"

    @property
    def weights_path(self) -> Path | None:
        """The checkpoint file, when the weights are one."""
        policy = parse_weights(self.weights)
        return policy.path if policy.kind == "checkpoint" else None


@dataclass(frozen=True)
class LoadedModel:
    """A source's network (torch module or canonical NCHW ONNX graph) and what is known about it."""

    name: str
    kind: LoadedKind
    model: Any
    preprocessing: Preprocessing
    weights: str
    accuracy_meaningful: bool
    num_classes: int
    labels: list[str] | None = None
    labels_source: str = "class indices"
    notes: tuple[str, ...] = ()

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        """The batch-1 NCHW input shape."""
        side = self.preprocessing.crop_px
        return (1, 3, side, side)


def flag_preprocessing(source: SourceSpec, base: Preprocessing | None, px: int | None) -> tuple[Preprocessing, str]:
    """The base preprocessing (or ImageNet's) at ``px``, with --mean/--std applied; and a note when assumed."""
    side = px or (base.crop_px if base else DEFAULT_INPUT_PX)
    if base is None:
        base = Preprocessing(resize_px=round(side * IMAGENET_RESIZE_RATIO), crop_px=side, mean=IMAGENET_MEAN,
                             std=IMAGENET_STD)  # fmt: skip
    prep = base.at_size(side)
    update = {k: v for k, v in (("mean", source.mean), ("std", source.std)) if v is not None}
    prep = prep.model_copy(update=update) if update else prep
    assumed = [what for what, given in (("mean", source.mean), ("std", source.std)) if given is None]
    note = ""
    if base.mean == IMAGENET_MEAN and assumed:
        note = (
            f"assumed ImageNet {'/'.join(assumed)} at {side} px (give --mean/--std if the model was trained otherwise)"
        )
    return prep, note


def slug(text: str) -> str:
    """A file-name-safe model name (``my-net``) from what the user typed."""
    return re.sub(r"[^A-Za-z0-9_.\-]+", "-", text).strip("-.") or "model"
