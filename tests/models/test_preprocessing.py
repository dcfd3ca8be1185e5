"""Preprocessing follows the input size: crop = size, resize keeps the weights' resize/crop ratio."""

from __future__ import annotations

from edgekit.models import Preprocessing, get_model_info

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def test_torchvision_ratio_256_over_224() -> None:
    pre = Preprocessing(resize_px=256, crop_px=224, mean=IMAGENET_MEAN, std=IMAGENET_STD)
    sized = pre.at_size(160)
    assert (sized.resize_px, sized.crop_px) == (183, 160)  # round(160 × 256 / 224) = round(182.86)
    assert sized.mean == IMAGENET_MEAN
    assert sized.interpolation == pre.interpolation


def test_mobilenet_v2_keeps_its_weights_ratio() -> None:
    pre = get_model_info("mobilenet_v2").preprocessing
    assert (pre.resize_px, pre.crop_px) == (232, 224)  # IMAGENET1K_V2 weights
    sized = pre.at_size(160)
    assert (sized.resize_px, sized.crop_px) == (166, 160)  # round(160 × 232 / 224) = round(165.71)


def test_own_size_is_unchanged() -> None:
    pre = get_model_info("mobilenet_v2").preprocessing
    assert pre.at_size(224) is pre
