"""Where edgekit keeps its data: results store, caches, bundled YAML.

Reading never needs the home to be writable: :func:`edgekit_home` only names the folder, and a cache that
cannot be written there (a read-only or foreign home) moves to a private folder under the system temp dir.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

import platformdirs

HOME_ENV = "EDGEKIT_HOME"
_PACKAGE_DATA = Path(__file__).resolve().parent / "data"
# Taken at import: the CLI later points tempfile at a per-run folder it deletes, which would lose the cache.
_SYSTEM_TEMP = Path(tempfile.gettempdir())


def edgekit_home() -> Path:
    """Return the user data directory (``$EDGEKIT_HOME`` overrides the platform default); not created here."""
    override = os.environ.get(HOME_ENV)
    return Path(override) if override else Path(platformdirs.user_data_dir("edgekit"))


def system_temp_dir() -> Path:
    """The system temp dir as it was when edgekit was imported (before a CLI run points ``TMPDIR`` at its own
    folder): for what must outlive the run, e.g. the Ray processes ``edgekit fleet up`` starts."""
    return _SYSTEM_TEMP


def cache_dir(kind: str) -> Path:
    """Return (and create) a cache folder below the edgekit home, e.g. ``cache/analysis``.

    When the home cannot hold it (read-only file system, no permission), the cache lives in a private
    per-user folder under the system temp dir instead, so commands that only read still work.

    Raises:
        OSError: neither folder is usable.
    """
    path = edgekit_home() / "cache" / kind
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return _fallback_cache_dir(kind)
    return path if os.access(path, os.W_OK | os.X_OK) else _fallback_cache_dir(kind)


def _fallback_cache_dir(kind: str) -> Path:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    root = _SYSTEM_TEMP / f"edgekit-cache-{uid}"
    root.mkdir(mode=0o700, exist_ok=True)
    info = root.lstat()
    # A shared temp dir: someone else's folder (or a link) could feed us planted cache files.
    if not stat.S_ISDIR(info.st_mode) or (hasattr(os, "getuid") and info.st_uid != uid) or info.st_mode & 0o077:
        raise PermissionError(errno.EACCES, "cache folder is not private to this user", str(root))
    path = root / kind
    path.mkdir(exist_ok=True)
    return path


def bundled_data_dir(kind: str) -> Path:
    """Return the folder of bundled YAML files (``targets`` or ``profiles``).

    The repository keeps them at its root; the package reaches them through
    ``edgekit/data/<kind>`` so they load from any working directory.
    """
    return _PACKAGE_DATA / kind
