"""MACs and params computed from the exported graph equal torchvision's published meta.

torchvision's ``_ops`` is GMACs of convolutions and linear layers rounded to 3 decimals and
``num_params`` the module's parameter count; both are recomputed here from the ONNX graph.
"""

import pytest

from edgekit.analysis import analyze_model
from edgekit.models import get_model_info

# The eight models the foundation issue names, plus CNN families with other layer kinds:
# grouped convs (resnext, regnet), dense concat (densenet), LayerNorm + GELU (convnext),
# inception branches with auxiliary heads removed (googlenet, inception_v3).
NAMED_MODELS = [
    "resnet18", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large",
    "shufflenet_v2_x1_0", "squeezenet1_1", "efficientnet_b0", "mnasnet1_0",
]  # fmt: skip
OTHER_CNNS = ["googlenet", "densenet121", "regnet_y_400mf", "resnext50_32x4d", "convnext_tiny"]


@pytest.mark.torchvision
@pytest.mark.parametrize("name", NAMED_MODELS + OTHER_CNNS)
def test_macs_and_params_match_published_meta(name: str) -> None:
    analysis = analyze_model(name)
    info = get_model_info(name)
    assert round(analysis.macs / 1e9, 3) == pytest.approx(info.gmacs.value, abs=1e-9)
    assert analysis.params == int(info.params.value)


@pytest.mark.torchvision
def test_inception_v3_published_params_include_the_training_only_aux_head() -> None:
    import torchvision

    # torchvision counts AuxLogits in num_params; the deployable network drops it (as the
    # pretrained builder does), so the graph has exactly that many parameters fewer.
    with_aux = torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=False)
    aux_params = sum(p.numel() for p in with_aux.AuxLogits.parameters())
    analysis = analyze_model("inception_v3")
    info = get_model_info("inception_v3")
    assert analysis.inputs[0].shape[2:] == [299, 299]
    assert round(analysis.macs / 1e9, 3) == pytest.approx(info.gmacs.value, abs=1e-9)
    assert analysis.params + aux_params == int(info.params.value)


@pytest.mark.slow
@pytest.mark.torchvision
@pytest.mark.parametrize("name", ["alexnet", "efficientnet_v2_s", "regnet_x_800mf", "shufflenet_v2_x2_0", "resnet34"])
def test_larger_cnns_match_published_meta(name: str) -> None:
    analysis = analyze_model(name)
    info = get_model_info(name)
    assert round(analysis.macs / 1e9, 3) == pytest.approx(info.gmacs.value, abs=1e-9)
    assert analysis.params == int(info.params.value)
