"""Load and look up ``targets/*.yaml``: the bundled files plus an optional user folder."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from edgekit._datafile import load_data_file
from edgekit._registry import filter_names, require_known
from edgekit.errors import BadInputError
from edgekit.paths import bundled_data_dir, edgekit_home
from edgekit.targets._schema import TargetSpec


def target_dirs() -> list[Path]:
    """Folders searched for target YAML: the bundled one, then ``$EDGEKIT_HOME/targets`` if it exists."""
    folders = [bundled_data_dir("targets")]
    user = edgekit_home() / "targets"
    if user.is_dir():
        folders.append(user)
    return folders


def _yaml_files() -> tuple[tuple[str, int], ...]:
    files = [p for folder in target_dirs() for p in sorted(folder.glob("*.yaml"))]
    return tuple((str(p), p.stat().st_mtime_ns) for p in files)


def load_target_file(path: Path) -> TargetSpec:
    """Parse and validate one target file; its ``id`` must equal the file name.

    Raises:
        BadInputError: unreadable YAML, a schema violation (unknown key, wrong type) or an id mismatch.
    """
    return load_data_file(path, TargetSpec, "target")


@lru_cache(maxsize=4)
def _load(files: tuple[tuple[str, int], ...]) -> dict[str, TargetSpec]:
    targets: dict[str, TargetSpec] = {}
    origins: dict[str, str] = {}
    for name, _mtime in files:
        spec = load_target_file(Path(name))
        if spec.id in targets:
            raise BadInputError(f"target {spec.id!r} is defined twice: {origins[spec.id]} and {name}")
        targets[spec.id] = spec
        origins[spec.id] = name
    return targets


def load_targets() -> dict[str, TargetSpec]:
    """Every target by id, validated (cached until a file changes).

    User files live in ``$EDGEKIT_HOME/targets`` (see :data:`edgekit.paths.HOME_ENV`); a user
    file may add a target but not redefine a bundled one.

    Raises:
        BadInputError: a file is invalid or an id is defined twice.
    """
    return dict(_load(_yaml_files()))


def list_targets(pattern: str | None = None) -> list[str]:
    """Sorted target ids, optionally filtered by an fnmatch pattern (e.g. ``'onnxruntime*'``)."""
    return filter_names(load_targets(), pattern)


def get_target(target_id: str) -> TargetSpec:
    """Return one target.

    Raises:
        UnknownNameError: no such target (the message lists close matches).
    """
    targets = load_targets()
    return targets[require_known(target_id, targets, "target")]


__all__ = ["get_target", "list_targets", "load_target_file", "load_targets", "target_dirs"]
