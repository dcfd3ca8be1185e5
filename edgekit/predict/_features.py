"""Device-independent cost features of a model graph, summed from per-node costs.

Nodes fall in three classes, because engines spend their time differently on each:

* **dense compute** — ordinary convolutions and matrix products: time ≈ FLOPs / peak;
* **depthwise** — grouped convolutions with one channel per group: few FLOPs per byte, so
  time ≈ bytes moved / bandwidth (the known memory-bound case);
* **memory ops** — adds, multiplies, concatenations, pooling, transposes: bytes / bandwidth.

Dense 3×3 stride-1 convolutions are counted apart as well: CPU/GPU engines run them with
Winograd transforms (fewer multiplies than the direct FLOP count), so they cost less per FLOP.

Batch-norm and activations that engines fuse into the preceding convolution cost nothing of
their own; shape arithmetic (tiny int64 tensors) is not a layer at all.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from edgekit.analysis import ANALYZER, GraphAnalysis, NodeCost, analyze_model, analyze_onnx
from edgekit.bench._export import source_fp32_onnx
from edgekit.errors import BadInputError
from edgekit.fileio import write_json_atomic
from edgekit.models import get_model_info
from edgekit.models._source import is_registry_name, parse_source
from edgekit.paths import cache_dir

FEATURES_VERSION = 2  # bump when the node classification below changes
# Features of the calibration and default candidate models, shipped so that a fresh install predicts
# them without exporting graphs; used only when torchvision, analyzer and feature versions all match.
SHIPPED_FEATURES = Path(__file__).resolve().parents[1] / "data" / "predictor" / "features.json"
FP32_BYTES = 4
# Ops every CNN engine folds into the producing convolution (or that only relabel a tensor).
FUSED_OPS = frozenset({
    "BatchNormalization", "Relu", "Clip", "HardSwish", "LeakyRelu", "PRelu", "Identity", "Flatten",
    "Reshape", "Dropout", "Squeeze", "Unsqueeze", "Cast",
})  # fmt: skip
COMPUTE_OPS = frozenset({"Conv", "ConvInteger", "QLinearConv", "Gemm", "MatMul", "MatMulInteger", "QLinearMatMul"})
# Quantize/dequantize pairs are folded into integer kernels by int8 engines.
QUANT_OPS = frozenset({"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"})
_SHAPE_TENSOR_BYTES = 256  # outputs this small are shape arithmetic (int64 dims), not feature maps
_WINOGRAD_KERNEL_AREA = 9  # 3x3


def _is_3x3_stride1(node: NodeCost) -> bool:
    """Recover the kernel area of a float Conv from its costs (NodeCost has no attributes).

    For a stride-1 'same' convolution: macs = HW·Cout·Cin·k², weights ≈ Cout·Cin·k² (+ bias), so
    macs / weights ≈ HW; then Cin = input elements / HW and k² = macs / (output elements · Cin).
    Strided convolutions give a non-integer or wrong k² and are left out.
    """
    if node.op_type != "Conv" or node.depthwise or node.weight_bytes == 0 or node.macs == 0:
        return False
    side = round(math.sqrt(node.macs / (node.weight_bytes / FP32_BYTES)))
    spatial = side * side
    in_channels = node.input_bytes / FP32_BYTES / spatial
    out_elems = node.output_bytes / FP32_BYTES
    return in_channels > 0 and abs(node.macs / (out_elems * in_channels) - _WINOGRAD_KERNEL_AREA) < 1e-3


class ModelFeatures(BaseModel):
    """Per-inference costs at batch 1, in fp32 bytes (precision scaling happens in the predictor)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    input_px: int
    dense_flops: float
    winograd_flops: float
    depthwise_flops: float
    depthwise_bytes: float
    dense_activation_bytes: float
    weight_bytes: float
    memory_op_bytes: float
    layers: int
    params: int
    peak_activation_bytes: int
    input_bytes: int
    output_bytes: int
    source_sha256: str


def _node_class(node: NodeCost) -> str:
    if node.op_type in FUSED_OPS or node.op_type in QUANT_OPS or node.output_bytes <= _SHAPE_TENSOR_BYTES:
        return "free"
    if node.op_type in COMPUTE_OPS:
        return "depthwise" if node.depthwise else "dense"
    return "memory"


def features_from_analysis(analysis: GraphAnalysis, model: str, input_px: int) -> ModelFeatures:
    """Sum per-node costs of an analysed graph into the predictor's features."""
    sums = dict.fromkeys(("dense_flops", "winograd_flops", "depthwise_flops", "depthwise_bytes",
                          "dense_activation_bytes", "weight_bytes", "memory_op_bytes"), 0.0)  # fmt: skip
    layers = 0
    for node in analysis.nodes:
        kind = _node_class(node)
        if kind == "free":
            continue
        layers += 1
        moved = node.input_bytes + node.output_bytes
        if kind == "dense":
            sums["dense_flops"] += 2 * node.macs
            sums["winograd_flops"] += 2 * node.macs if _is_3x3_stride1(node) else 0
            sums["dense_activation_bytes"] += moved
            sums["weight_bytes"] += node.weight_bytes
        elif kind == "depthwise":
            sums["depthwise_flops"] += 2 * node.macs
            sums["depthwise_bytes"] += moved + node.weight_bytes
        else:
            sums["memory_op_bytes"] += moved
    io = {spec.name: spec for spec in analysis.inputs}
    out_elems = sum(_numel(o.shape) for o in analysis.outputs)
    in_elems = sum(_numel(s.shape) for s in io.values())
    return ModelFeatures(
        model=model, input_px=input_px, layers=layers, params=analysis.params,
        peak_activation_bytes=analysis.peak_activation_bytes, input_bytes=in_elems * FP32_BYTES,
        output_bytes=out_elems * FP32_BYTES, source_sha256=analysis.sha256, **sums,
    )  # fmt: skip


def with_published_macs(features: ModelFeatures, gmacs: float | None) -> ModelFeatures:
    """The features of a publisher's own variant of the network, when it states that graph's MACs
    (ncnn benchmarks Caffe graphs: ResNet-50 v1 has 3.86 GMACs where torchvision's v1.5 has 4.09).
    Only the dense compute scales; feature maps and weights are taken as torchvision's."""
    if gmacs is None:
        return features
    ratio = gmacs * 1e9 / ((features.dense_flops + features.depthwise_flops) / 2)
    return features.model_copy(
        update={"dense_flops": features.dense_flops * ratio, "winograd_flops": features.winograd_flops * ratio}
    )


def _numel(shape: list[int | str]) -> int:
    total = 1
    for dim in shape:
        total *= dim if isinstance(dim, int) and dim > 0 else 1  # symbolic batch counts as 1
    return total


def _versions() -> dict[str, object]:
    return {"torchvision": version("torchvision"), "analyzer": ANALYZER, "features_version": FEATURES_VERSION}


@lru_cache(maxsize=1)
def shipped_features(path: Path = SHIPPED_FEATURES) -> dict[str, ModelFeatures]:
    """The shipped table keyed ``model@px`` (empty when missing or made with other versions)."""
    if not path.is_file():
        return {}
    raw = json.loads(path.read_text())
    if raw.get("versions") != _versions():
        return {}
    return {key: ModelFeatures.model_validate(entry) for key, entry in raw["features"].items()}


def write_shipped_features(pairs: list[tuple[str, int]], path: Path = SHIPPED_FEATURES) -> Path:
    """Compute features for ``(model, px)`` pairs and write the shipped table."""
    table = {f"{m}@{px}": model_features(m, px).model_dump(mode="json") for m, px in sorted(set(pairs))}
    write_json_atomic(path, {"versions": _versions(), "features": table})
    shipped_features.cache_clear()
    return path


def model_features(model: str, input_px: int | None = None) -> ModelFeatures:
    """Features of a registry model: disk cache, then the shipped table, else export and analyse.

    Raises:
        UnknownNameError: not a registry model.
    """
    if not is_registry_name(model):
        return _own_model_features(model, input_px)
    px = input_px or get_model_info(model).preprocessing.crop_px
    key = f"{model}-{px}px-tv{version('torchvision')}-{ANALYZER.replace('@', '')}-f{FEATURES_VERSION}.json"
    cached = cache_dir("predict-features") / key
    if cached.is_file():
        return ModelFeatures.model_validate(json.loads(cached.read_text()))
    features = shipped_features().get(f"{model}@{px}")
    if features is None:
        features = features_from_analysis(analyze_model(model, px), model, px)
    write_json_atomic(cached, features.model_dump(mode="json"))
    return features


def _own_model_features(model: str, input_px: int | None) -> ModelFeatures:
    """Features of any other model source (``arch@checkpoint``, ``module:function``, ``timm:``, an ONNX file),
    from the graph of its cached fp32 ONNX (analysed at its own input size unless ``input_px``).

    Raises:
        UnknownNameError, BadInputError: not a model source, or one that cannot load.
    """
    path = source_fp32_onnx(parse_source(model, input_size=input_px))
    analysis = analyze_onnx(path, source=model)
    side = analysis.inputs[0].shape[-1]
    if not isinstance(side, int):
        raise BadInputError(f"{model} has a symbolic input size ({analysis.inputs[0].shape}): give --input-size")
    return features_from_analysis(analysis, model, side)
