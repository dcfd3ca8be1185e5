from pathlib import Path

import numpy as np
import pytest

from edgekit.errors import BadInputError, SkippedInputWarning
from edgekit.images import generated_images, load_images, load_labeled_images
from edgekit.models import get_model_info

PREP = get_model_info("resnet18").preprocessing


def test_labeled_folder_uses_sorted_class_folders_as_indices(image_folder: Path) -> None:
    batch = load_labeled_images(image_folder, PREP, per_class=2)
    assert batch.pixels.shape == (6, 3, 224, 224)
    assert batch.pixels.dtype == np.float32
    assert batch.labels == (0, 0, 1, 1, 2, 2)
    assert batch.class_names == ("n01", "n02", "n03")


def test_preprocessing_normalizes_with_mean_and_std(tmp_path: Path) -> None:
    from PIL import Image

    (tmp_path / "c").mkdir()
    Image.new("RGB", (300, 260), (255, 0, 128)).save(tmp_path / "c" / "flat.png")
    pixels = load_images(tmp_path, PREP).pixels[0]
    expected = (np.array([1.0, 0.0, 128 / 255]) - np.array(PREP.mean)) / np.array(PREP.std)
    assert np.allclose(pixels[:, 100, 100], expected, rtol=1e-5), pixels[:, 100, 100]


def test_undecodable_files_are_skipped_and_counted(image_folder: Path) -> None:
    (image_folder / "n01" / "broken.png").write_bytes(b"not a png")
    with pytest.warns(SkippedInputWarning, match=r"skipped image .*broken\.png: cannot identify image file"):
        batch = load_labeled_images(image_folder, PREP)
    assert len(batch) == 12
    assert batch.skipped == 1


def test_folder_with_no_readable_image_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.jpg").write_bytes(b"garbage")
    with pytest.raises(BadInputError, match=r"no readable images in .* \(1 image files tried\)"):
        load_images(tmp_path, PREP)


def test_empty_and_missing_folders_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="has no class sub-folders"):
        load_labeled_images(tmp_path, PREP)
    with pytest.raises(BadInputError, match="does not exist"):
        load_images(tmp_path / "nope", PREP)


def test_generated_images_are_deterministic_and_unlabeled() -> None:
    first = generated_images(3, PREP, seed=7)
    again = generated_images(3, PREP, seed=7)
    np.testing.assert_array_equal(first.pixels, again.pixels)
    assert first.labels is None
    assert first.pixels.shape == (3, 3, 224, 224)
    assert not np.array_equal(first.pixels[0], first.pixels[1])
