"""Model features: per-node costs summed by class; 3x3 stride-1 FLOPs recovered from NodeCost."""

from __future__ import annotations

import pytest

from edgekit.analysis import NodeCost
from edgekit.predict._features import _is_3x3_stride1, _node_class, model_features

# torchvision resnet18: 13 of its 20 convolutions are 3x3 stride 1, each 115,605,504 MACs at 224 px.
RESNET18_WINOGRAD_FLOPS = 13 * 115_605_504 * 2


def test_resnet18_winograd_flops_are_its_3x3_stride1_convs() -> None:
    f = model_features("resnet18")
    assert f.winograd_flops == RESNET18_WINOGRAD_FLOPS
    assert f.depthwise_flops == 0
    assert f.dense_flops == pytest.approx(2 * 1.814e9, rel=1e-3)  # torchvision _ops 1.814 GMACs (+ the fc layer)


def test_mobilenet_v2_depthwise_is_memory_bound_class() -> None:
    f = model_features("mobilenet_v2")
    assert f.winograd_flops == 0
    assert f.depthwise_flops > 0
    depthwise_intensity = f.depthwise_flops / f.depthwise_bytes  # FLOP per byte moved: ~1.7
    dense_intensity = f.dense_flops / (f.dense_activation_bytes + f.weight_bytes)  # ~13
    assert depthwise_intensity * 5 < dense_intensity  # the memory-bound case
    assert f.params == 3_504_872


def test_node_classes() -> None:
    def node(op: str, out: int = 4096, depthwise: bool = False) -> NodeCost:
        return NodeCost(name=op, op_type=op, macs=10, weight_bytes=4, input_bytes=out, output_bytes=out,
                        depthwise=depthwise)  # fmt: skip

    assert _node_class(node("BatchNormalization")) == "free"
    assert _node_class(node("Gather", out=8)) == "free"  # shape arithmetic
    assert _node_class(node("Conv")) == "dense"
    assert _node_class(node("Conv", depthwise=True)) == "depthwise"
    assert _node_class(node("Add")) == "memory"


def test_strided_and_pointwise_convs_are_not_winograd() -> None:
    # 3x3 stride-1, 64->64 channels at 56x56: macs = 3136*64*64*9
    same = NodeCost(name="c", op_type="Conv", macs=3136 * 64 * 64 * 9, weight_bytes=64 * 64 * 9 * 4,
                    input_bytes=64 * 3136 * 4, output_bytes=64 * 3136 * 4)  # fmt: skip
    strided = same.model_copy(update={"macs": 784 * 128 * 64 * 9, "weight_bytes": 128 * 64 * 9 * 4,
                                      "output_bytes": 128 * 784 * 4})  # fmt: skip
    pointwise = same.model_copy(update={"macs": 3136 * 64 * 64, "weight_bytes": 64 * 64 * 4})
    assert _is_3x3_stride1(same)
    assert not _is_3x3_stride1(strided)
    assert not _is_3x3_stride1(pointwise)
