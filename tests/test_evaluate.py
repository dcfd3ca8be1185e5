"""Accuracy over an image folder (values asserted, not just shapes); fidelity is in test_fidelity.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgekit.errors import BadInputError
from edgekit.evaluate import (
    Accuracy,
    accuracy,
    check_class_count,
    class_indices,
    data_digest,
    load_eval_images,
    topk_accuracy,
)
from edgekit.logits import onnx_predictor
from edgekit.models import Preprocessing
from tests.bench._tiny import TINY_CLASSES, TINY_PX, tiny_onnx

PREP = Preprocessing(resize_px=TINY_PX, crop_px=TINY_PX, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))


def test_topk_accuracy_values() -> None:
    logits = np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.2, 0.3, 0.5], [0.5, 0.4, 0.1]])
    labels = np.array([1, 1, 2, 2])
    assert topk_accuracy(logits, labels, 1) == 0.5
    assert topk_accuracy(logits, labels, 2) == 0.75
    assert topk_accuracy(logits, labels, 3) == 1.0
    with pytest.raises(ValueError, match=r"k must be in 1..3, got 4"):
        topk_accuracy(logits, labels, 4)
    with pytest.raises(ValueError, match="need \\(N, C\\) logits and N labels"):
        topk_accuracy(logits, labels[:2], 1)


def test_accuracy_over_a_folder_with_a_scripted_predictor(image_folder: Path) -> None:
    # setup: 12 images, labels 0,0,0,0,1,1,1,1,2,2,2,2; the predictor gets two of them wrong
    images = load_eval_images(image_folder, PREP, num_classes=3, model="tiny")
    predicted = iter([0, 0, 0, 1, 1, 1, 1, 1, 2, 0, 2, 2])

    def predictor(pixels: np.ndarray) -> np.ndarray:
        return np.eye(3, dtype=np.float32)[[next(predicted) for _ in range(len(pixels))]]

    # execute
    result = accuracy(predictor, images, num_classes=3, data="images (all 12)")
    # assert
    assert result.n_samples == 12
    assert result.top1 == pytest.approx(10 / 12)
    assert result.top5 is None  # fewer than five classes
    assert images.labels == (0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2)


def test_sampling_first_k_or_per_class(image_folder: Path) -> None:
    assert len(load_eval_images(image_folder, PREP, 3, "tiny", limit=5)) == 5
    per_class = load_eval_images(image_folder, PREP, 3, "tiny", per_class=2)
    assert per_class.labels == (0, 0, 1, 1, 2, 2)
    with pytest.raises(BadInputError, match="--per-class must be at least 1, got 0"):
        load_eval_images(image_folder, PREP, 3, "tiny", per_class=0)


def test_class_count_must_match_the_model(image_folder: Path) -> None:
    with pytest.raises(BadInputError) as info:
        check_class_count(image_folder, 1000, "resnet18")
    assert str(info.value) == (
        f"{image_folder} has 3 class folders but resnet18 predicts 1000 classes; the sorted class folders must be "
        "the model's output indices (ImageNet-val layout: 1000 wnid folders), or each folder must be named by its "
        "output index (e.g. 967-espresso) or by one of the model's class names"
    )


def test_fewer_class_folders_map_by_index_or_class_name(image_folder: Path, tmp_path: Path) -> None:
    assert class_indices(["0967-espresso", "281_tabby", "872"], 1000, "m") == (967, 281, 872)
    assert class_indices(["cat", "dog"], 3, "m", label_names=["dog", "bird", "cat"]) == (2, 0)
    assert class_indices(["a", "b", "c"], 3, "m") == (0, 1, 2)  # one folder per output: sorted order
    with pytest.raises(
        BadInputError, match=r"class folder '1000-x' of the folder names output 1000, but m has outputs 0..999"
    ):
        class_indices(["1000-x", "5"], 1000, "m")
    with pytest.raises(BadInputError, match="two class folders of the folder name the same output index: 5-a, 5-b"):
        class_indices(["5-a", "5-b"], 1000, "m")
    # The labels of the loaded images are the model's output indices, not the folder order.
    for old, new in (("n01", "7-seven"), ("n02", "2-two"), ("n03", "9-nine")):
        (image_folder / old).rename(image_folder / new)
    images = load_eval_images(image_folder, PREP, 10, "tiny")
    assert images.class_names == ("2-two", "7-seven", "9-nine")
    assert images.labels == (2,) * 4 + (7,) * 4 + (9,) * 4
    digest = data_digest(images)
    assert len(digest) == 64
    assert digest == data_digest(load_eval_images(image_folder, PREP, 10, "tiny"))
    first = next((image_folder / "2-two").iterdir())
    first.write_bytes(first.read_bytes() + b"\0")
    assert data_digest(load_eval_images(image_folder, PREP, 10, "tiny")) != digest


def test_empty_and_undecodable_folders(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BadInputError, match="has no class sub-folders"):
        load_eval_images(empty, PREP, 3, "tiny")
    broken = tmp_path / "broken"
    for name in ("a", "b", "c"):
        (broken / name).mkdir(parents=True)
        (broken / name / "x.png").write_bytes(b"not a png")
    with pytest.raises(BadInputError, match=r"no readable images in .*broken \(3 image files tried\)"):
        load_eval_images(broken, PREP, 3, "tiny")


def test_onnx_accuracy_matches_its_own_argmax(image_folder: Path, tmp_path: Path) -> None:
    path = tiny_onnx(tmp_path / "tiny.onnx")
    images = load_eval_images(image_folder, PREP, TINY_CLASSES, "tiny")
    predictor = onnx_predictor(path, threads=1)
    logits = predictor(images.pixels)
    expected = float(np.mean(logits.argmax(1) == np.asarray(images.labels)))
    result = accuracy(predictor, images, TINY_CLASSES, "images")
    assert result.top1 == pytest.approx(expected)
    with pytest.raises(BadInputError, match="the model produced 3 logits per image, expected 10"):
        accuracy(predictor, images, 10, "images")


def test_accuracy_metrics_say_when_they_mean_nothing() -> None:
    result = Accuracy(n_samples=20, top1=0.05, top5=0.25, num_classes=1000, data="val (first 20 images)",
                      meaningful=False)  # fmt: skip
    top1, top5 = result.metrics(host="h", tool_versions={"onnxruntime": "1"})
    assert (top1.name, top1.value, top1.unit) == ("top1_pct", 5.0, "%")
    assert top5.value == 25.0
    assert top1.provenance.kind == "measured"
    assert top1.provenance.n_samples == 20
    assert top1.provenance.note == "on val (first 20 images); random-init weights: NOT meaningful"
