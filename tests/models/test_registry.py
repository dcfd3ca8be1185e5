import urllib.error
from pathlib import Path

import pytest

from edgekit.errors import BadInputError, UnknownNameError, WeightsUnavailableError
from edgekit.models import build_model, get_model_info, list_models, parse_weights


def test_registry_lists_every_torchvision_classifier_by_pattern() -> None:
    assert list_models("mobilenet_v3*") == ["mobilenet_v3_large", "mobilenet_v3_small"]
    names = list_models()
    assert {"resnet18", "mobilenet_v2", "vit_b_16", "efficientnet_b0"} <= set(names)
    assert not any(n.startswith(("quantized_", "fasterrcnn", "deeplab")) for n in names)


def test_published_meta_is_labelled_published_with_citation() -> None:
    info = get_model_info("resnet18")
    assert info.params.value == 11689512
    assert info.gmacs.value == pytest.approx(1.814)
    assert info.top1.value == pytest.approx(69.758)
    assert info.top1.provenance.kind == "published"
    assert info.top1.provenance.citation.startswith("https://github.com/pytorch/vision")
    assert info.input_shape == (1, 3, 224, 224)
    assert info.preprocessing.mean == (0.485, 0.456, 0.406)
    assert info.num_classes == 1000


def test_published_int8_accuracy_comes_from_torchvision_quantized_weights() -> None:
    assert get_model_info("resnet18").top1_int8.value == pytest.approx(69.494)
    assert get_model_info("mobilenet_v2").top1_int8.value == pytest.approx(71.658)
    assert get_model_info("efficientnet_b0").top1_int8 is None


def test_unknown_model_suggests_close_names() -> None:
    with pytest.raises(UnknownNameError, match=r"unknown model 'resnet19'; did you mean resnet18"):
        get_model_info("resnet19")


@pytest.mark.parametrize("name", ["googlenet", "inception_v3"])
def test_random_init_builds_the_deployable_network_without_aux_heads(name: str) -> None:
    import torch

    model = build_model(name, "none")
    assert model.aux_logits is False
    assert model.transform_input is True  # as with pretrained weights
    side = get_model_info(name).preprocessing.crop_px
    with torch.no_grad():
        out = model(torch.zeros(1, 3, side, side))
    assert isinstance(out, torch.Tensor)
    assert out.shape == (1, 1000)


def test_random_init_is_deterministic() -> None:
    first = build_model("squeezenet1_1", "none").state_dict()
    second = build_model("squeezenet1_1", "none").state_dict()
    assert all((first[k] == second[k]).all() for k in first)


def test_checkpoint_round_trip_and_wrapped_state_dicts(tmp_path: Path) -> None:
    import torch

    source = build_model("squeezenet1_1", "none")
    torch.nn.init.constant_(source.classifier[1].bias, 0.5)
    path = tmp_path / "ckpt.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in source.state_dict().items()}}, path)
    loaded = build_model("squeezenet1_1", str(path))
    assert torch.equal(loaded.classifier[1].bias, torch.full((1000,), 0.5))


def test_mismatched_checkpoint_is_rejected(tmp_path: Path) -> None:
    import torch

    path = tmp_path / "other.pth"
    torch.save(build_model("squeezenet1_0", "none").state_dict(), path)
    with pytest.raises(BadInputError, match="does not fit squeezenet1_1"):
        build_model("squeezenet1_1", str(path))


def test_bad_weights_argument() -> None:
    with pytest.raises(BadInputError, match="'imagenet', 'none' or a checkpoint file"):
        parse_weights("pretrained")


def test_offline_imagenet_weights_fail_with_one_clear_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import torch

    def offline(*_args, **_kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    message = r"cannot download ImageNet weights for resnet18 \(URLError; offline\?\)"
    with pytest.raises(WeightsUnavailableError, match=message):
        build_model("resnet18", "imagenet")
