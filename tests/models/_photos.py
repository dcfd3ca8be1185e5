"""Real photos from scikit-image with their ImageNet classes, written as image folders.

:func:`write_labelled_folder` writes an ImageFolder whose class folders are named
``<ImageNet index>-<label>`` (edgekit maps a leading index to that model output), with each
photo and views of it (its mirror image and four corner crops) as the labelled images;
:func:`write_calibration_folder` writes other crops and flips of the same photos for int8
calibration.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

# photo file in skimage's data folder → (ImageNet index, label, indices accepted as top-1)
PHOTOS: dict[str, tuple[int, str, frozenset[int]]] = {
    "coffee.png": (967, "espresso", frozenset({967})),
    "camera.png": (872, "tripod", frozenset({872})),
    "chelsea.png": (281, "tabby", frozenset(range(281, 286))),  # a cat: tabby, tiger, Persian, Siamese, Egyptian
    "rocket.jpg": (657, "missile", frozenset({657})),
    "motorcycle_left.png": (665, "moped", frozenset({665})),
}
CORNER_CROP = 0.8  # share of each side a corner crop keeps
CALIBRATION_CROPS = (0.6, 0.75, 0.9)  # centred crops of the calibration set (and their mirror images)


def photo(name: str) -> Image.Image:
    """One of :data:`PHOTOS` as an RGB image."""
    import skimage.data

    with Image.open(Path(skimage.data.__file__).parent / name) as image:
        return image.convert("RGB")


def _corner_crops(image: Image.Image, share: float) -> list[Image.Image]:
    w, h = image.size
    cw, ch = round(w * share), round(h * share)
    return [image.crop((x, y, x + cw, y + ch)) for x in (0, w - cw) for y in (0, h - ch)]


def _centre_crop(image: Image.Image, share: float) -> Image.Image:
    w, h = image.size
    cw, ch = round(w * share), round(h * share)
    return image.crop(((w - cw) // 2, (h - ch) // 2, (w - cw) // 2 + cw, (h - ch) // 2 + ch))


def write_labelled_folder(root: Path, views: bool = True) -> Path:
    """Write ``root/<index>-<label>/<view>.png`` for every photo; returns ``root``.

    ``views=False`` writes only the photos themselves (five images).
    """
    for name, (index, label, _) in PHOTOS.items():
        folder = Path(root) / f"{index}-{label}"
        folder.mkdir(parents=True, exist_ok=True)
        image = photo(name)
        extra = [image.transpose(Image.Transpose.FLIP_LEFT_RIGHT), *_corner_crops(image, CORNER_CROP)] if views else []
        for number, view in enumerate([image, *extra]):
            view.save(folder / f"{Path(name).stem}-{number}.png")
    return Path(root)


def write_calibration_folder(root: Path) -> Path:
    """Write centred crops of every photo and their mirror images (no labels); returns ``root``."""
    Path(root).mkdir(parents=True, exist_ok=True)
    for name in PHOTOS:
        image = photo(name)
        for share in CALIBRATION_CROPS:
            crop, stem = _centre_crop(image, share), f"{Path(name).stem}-c{round(share * 100)}"
            crop.save(Path(root) / f"{stem}.png")
            crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(Path(root) / f"{stem}f.png")
    return Path(root)


def expected(name: str) -> tuple[int, frozenset[int]]:
    """The photo's labelled ImageNet index and the indices accepted as its top-1."""
    index, _, accepted = PHOTOS[name]
    return index, accepted


__all__ = ["PHOTOS", "expected", "photo", "write_calibration_folder", "write_labelled_folder"]
