"""Shared fixtures: an isolated EDGEKIT_HOME, tiny models, generated images."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from edgekit.paths import HOME_ENV

# Wide enough that rich never truncates a model name in CLI output asserted by tests.
os.environ.setdefault("COLUMNS", "200")


@pytest.fixture(scope="session", autouse=True)
def edgekit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every test session gets its own results store and caches."""
    home = tmp_path_factory.mktemp("edgekit-home")
    previous = os.environ.get(HOME_ENV)
    os.environ[HOME_ENV] = str(home)
    yield home
    if previous is None:
        os.environ.pop(HOME_ENV, None)
    else:
        os.environ[HOME_ENV] = previous


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """A 3-class image folder (4 small PNGs per class) in ImageFolder layout."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for label in ("n01", "n02", "n03"):
        folder = tmp_path / "images" / label
        folder.mkdir(parents=True)
        for index in range(4):
            pixels = (rng.random((40, 48, 3)) * 255).astype("uint8")
            Image.fromarray(pixels).save(folder / f"{index}.png")
    return tmp_path / "images"
