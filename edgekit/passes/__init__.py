"""Transforms between a torch module and deployable ONNX: one module per pass, a registry by name.

Importing this package registers every pass; heavy libraries (torch, onnxruntime, onnxsim,
torch-pruning) are imported only inside ``run``.
"""

from edgekit.passes._base import (
    Artifact,
    ArtifactKind,
    Capabilities,
    ParityKind,
    Pass,
    PassConfig,
    PassReport,
    PassResult,
    get_pass,
    list_passes,
    registered_passes,
)
from edgekit.passes.export_onnx import ExportOnnx, ExportOnnxConfig
from edgekit.passes.fp16 import Fp16, Fp16Config
from edgekit.passes.ort_dynamic import OrtDynamicConfig, OrtDynamicQuant
from edgekit.passes.prune_channels import PruneChannels, PruneChannelsConfig
from edgekit.passes.prune_l1 import PruneL1, PruneL1Config
from edgekit.passes.quantize_static import QuantOptions, StaticInt8, StaticInt8Config
from edgekit.passes.simplify import Simplify, SimplifyConfig
from edgekit.passes.torch_dynamic import TorchDynamicConfig, TorchDynamicQuant

__all__ = [
    "Artifact",
    "ArtifactKind",
    "Capabilities",
    "ExportOnnx",
    "ExportOnnxConfig",
    "Fp16",
    "Fp16Config",
    "OrtDynamicConfig",
    "OrtDynamicQuant",
    "ParityKind",
    "Pass",
    "PassConfig",
    "PassReport",
    "PassResult",
    "PruneChannels",
    "PruneChannelsConfig",
    "PruneL1",
    "PruneL1Config",
    "QuantOptions",
    "Simplify",
    "SimplifyConfig",
    "StaticInt8",
    "StaticInt8Config",
    "TorchDynamicConfig",
    "TorchDynamicQuant",
    "get_pass",
    "list_passes",
    "registered_passes",
]
