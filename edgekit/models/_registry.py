"""Registry over torchvision classification models and their published metadata.

Every published number is read from torchvision's ``weights.meta`` (no download needed) and
returned as a *published* :class:`~edgekit.metrics.Metric` with the recipe as citation.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.metadata import version
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from edgekit._registry import filter_names, require_known
from edgekit.fileio import write_json_atomic
from edgekit.metrics import Metric, published
from edgekit.paths import cache_dir

TORCHVISION_DOCS = "https://docs.pytorch.org/vision/stable/models.html"
# Post-training / QAT INT8 results torchvision publishes in models.quantization (fbgemm/qnnpack).
_QUANTIZED_PREFIX = "quantized_"
_CATALOGUE_VERSION = 1  # bump when ModelInfo's fields change


class Preprocessing(BaseModel):
    """How an image becomes the network's input tensor (from the weights' transforms)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    resize_px: int = Field(description="shorter side resized to this many pixels")
    crop_px: int = Field(description="centre crop side in pixels; the network input size")
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str = "bilinear"
    layout: str = "NCHW"
    color: str = "RGB"
    value_range: str = Field("0-1", description="pixels scaled to [0, 1] before mean/std")

    def at_size(self, px: int) -> Preprocessing:
        """The same transform for a ``px``-pixel network input.

        The crop becomes ``px`` and the resize keeps the weights' own resize/crop ratio
        (torchvision's convention is 256/224; mobilenet_v2's V2 weights use 232/224), so
        ``at_size(160)`` of resize 232 / crop 224 is resize 166 / crop 160.
        """
        if px == self.crop_px:
            return self
        return self.model_copy(update={"crop_px": px, "resize_px": round(px * self.resize_px / self.crop_px)})


class ModelInfo(BaseModel):
    """What the registry knows about one model without building it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    weights_name: str = Field(description="torchvision's default weights enum member")
    weights_url: str
    num_classes: int
    preprocessing: Preprocessing
    citation: str
    params: Metric
    gmacs: Metric
    top1: Metric
    top5: Metric | None = None
    file_size_mb: Metric
    top1_int8: Metric | None = Field(None, description="torchvision's quantized model, if any")

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        """The batch-1 NCHW input shape."""
        side = self.preprocessing.crop_px
        return (1, 3, side, side)


def _torchvision() -> Any:
    import torchvision  # heavy (imports torch); only when the registry is first used

    return torchvision


@lru_cache(maxsize=1)
def _catalogue() -> dict[str, ModelInfo]:
    """Every classifier's info, cached on disk per torchvision version.

    Building it imports torchvision (seconds); commands that only need names and published
    figures (``recommend``, ``models``) then start without importing torch at all.
    """
    path = cache_dir("registry") / f"torchvision-{version('torchvision')}-v{_CATALOGUE_VERSION}.json"
    if path.is_file():
        raw = json.loads(path.read_text())
        return {name: ModelInfo.model_validate(entry) for name, entry in raw.items()}
    tv = _torchvision()
    infos = {name: _build_info(name) for name in tv.models.list_models(module=tv.models)}
    write_json_atomic(path, {name: info.model_dump(mode="json") for name, info in infos.items()})
    return infos


def _all_names() -> list[str]:
    return list(_catalogue())


def list_models(pattern: str | None = None) -> list[str]:
    """List torchvision classification models, optionally filtered by an fnmatch pattern.

    Example:
        >>> list_models("mobilenet_v3*")
        ['mobilenet_v3_large', 'mobilenet_v3_small']
    """
    return filter_names(_all_names(), pattern)


def _preprocessing(weights: Any) -> Preprocessing:
    transform = weights.transforms()
    return Preprocessing(
        resize_px=int(transform.resize_size[0]),
        crop_px=int(transform.crop_size[0]),
        mean=tuple(transform.mean),
        std=tuple(transform.std),
        interpolation=str(transform.interpolation.value),
    )


def _int8_top1(name: str) -> Metric | None:
    tv = _torchvision()
    qname = _QUANTIZED_PREFIX + name
    if qname not in tv.models.list_models(module=tv.models.quantization):
        return None
    qweights = tv.models.get_model_weights(qname).DEFAULT
    meta = qweights.meta
    note = f"torchvision {qweights}, backend {meta.get('backend')}; not edgekit's own PTQ"
    acc = meta["_metrics"]["ImageNet-1K"]["acc@1"]
    return published("top1_int8_pct", acc, "%", meta.get("recipe", TORCHVISION_DOCS), note)


def get_model_info(name: str) -> ModelInfo:
    """Return the registry entry for ``name``.

    Raises:
        UnknownNameError: ``name`` is not a torchvision classifier (lists close matches).
    """
    return _catalogue()[require_known(name, _all_names(), "model")]


def _build_info(name: str) -> ModelInfo:
    weights = _torchvision().models.get_model_weights(name).DEFAULT
    meta = weights.meta
    citation = meta.get("recipe", TORCHVISION_DOCS)
    imagenet = meta["_metrics"]["ImageNet-1K"]
    note = f"torchvision {weights}"
    return ModelInfo(
        name=name,
        weights_name=str(weights),
        weights_url=weights.url,
        num_classes=len(meta["categories"]),
        preprocessing=_preprocessing(weights),
        citation=citation,
        params=published("params", meta["num_params"], "count", citation, note),
        gmacs=published("macs_giga", meta["_ops"], "GMAC", citation, note),
        top1=published("top1_pct", imagenet["acc@1"], "%", citation, note),
        top5=published("top5_pct", imagenet["acc@5"], "%", citation, note) if "acc@5" in imagenet else None,
        file_size_mb=published("file_size_mb", meta["_file_size"], "MB", citation, note),
        top1_int8=_int8_top1(name),
    )


def categories(name: str) -> list[str]:
    """Return the ImageNet class names of the model's default weights."""
    require_known(name, _all_names(), "model")
    return list(_torchvision().models.get_model_weights(name).DEFAULT.meta["categories"])
