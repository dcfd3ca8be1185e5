"""Model registry over torchvision's classifiers: names, published meta, weights policy."""

from edgekit.models._registry import (
    ModelInfo,
    Preprocessing,
    get_model_info,
    list_models,
)
from edgekit.models._weights import WeightsPolicy, build_model, parse_weights

__all__ = [
    "ModelInfo",
    "Preprocessing",
    "WeightsPolicy",
    "build_model",
    "get_model_info",
    "list_models",
    "parse_weights",
]
