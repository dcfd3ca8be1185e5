"""Model registry over torchvision's classifiers (names, published meta, weights policy) and model sources.

:class:`ModelSource` / :func:`parse_source` (any model a command takes: a registry name, ``arch@checkpoint``,
``module:function``, ``timm:<name>``, an ONNX file) load on first use: their module imports onnx, which
``edgekit models`` and the other registry-only paths never need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edgekit.models._registry import (
    ModelInfo,
    Preprocessing,
    get_model_info,
    list_models,
)
from edgekit.models._weights import WeightsPolicy, build_model, parse_weights

if TYPE_CHECKING:
    from edgekit.models._source import ModelSource, parse_source

_LAZY = ("ModelSource", "parse_source")

__all__ = [
    "ModelInfo",
    "ModelSource",
    "Preprocessing",
    "WeightsPolicy",
    "build_model",
    "get_model_info",
    "list_models",
    "parse_source",
    "parse_weights",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from edgekit.models import _source

        return getattr(_source, name)
    raise AttributeError(f"module 'edgekit.models' has no attribute {name!r}")
