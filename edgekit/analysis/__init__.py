"""Exact graph facts from ONNX: params, weight bytes, MACs per node, activation peak, ops."""

from edgekit.analysis._analyze import PREPROCESSING_KEY, analyze_onnx, check_stated_fits, stated_preprocessing
from edgekit.analysis._models import analyze_model
from edgekit.analysis._result import ANALYZER, GraphAnalysis, NodeCost, TensorSpec

__all__ = [
    "ANALYZER",
    "PREPROCESSING_KEY",
    "GraphAnalysis",
    "NodeCost",
    "TensorSpec",
    "analyze_model",
    "analyze_onnx",
    "check_stated_fits",
    "stated_preprocessing",
]
