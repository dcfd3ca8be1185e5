"""Where edgekit keeps its data: results store, caches, bundled YAML."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

HOME_ENV = "EDGEKIT_HOME"
_PACKAGE_DATA = Path(__file__).resolve().parent / "data"


def edgekit_home() -> Path:
    """Return the user data directory (``$EDGEKIT_HOME`` overrides the platform default)."""
    override = os.environ.get(HOME_ENV)
    home = Path(override) if override else Path(platformdirs.user_data_dir("edgekit"))
    home.mkdir(parents=True, exist_ok=True)
    return home


def cache_dir(kind: str) -> Path:
    """Return (and create) a cache folder below the edgekit home, e.g. ``cache/analysis``."""
    path = edgekit_home() / "cache" / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def bundled_data_dir(kind: str) -> Path:
    """Return the folder of bundled YAML files (``targets`` or ``profiles``).

    The repository keeps them at its root; the package reaches them through
    ``edgekit/data/<kind>`` so they load from any working directory.
    """
    return _PACKAGE_DATA / kind
