"""Load and look up ``targets/*.yaml``: the bundled files plus an optional user folder."""

from __future__ import annotations

from pathlib import Path

from edgekit._datafile import DataFolder
from edgekit.targets._schema import TargetSpec

TARGETS = DataFolder("target", TargetSpec, {"$schema": "https://json-schema.org/draft/2020-12/schema",
                                            "title": "edgekit target (targets/<id>.yaml)"})  # fmt: skip


def target_dirs() -> list[Path]:
    """Folders searched for target YAML: the bundled one, then ``$EDGEKIT_HOME/targets`` if it exists."""
    return TARGETS.folders()


def load_target_file(path: Path) -> TargetSpec:
    """Parse and validate one target file; its ``id`` must equal the file name.

    Raises:
        BadInputError: unreadable YAML, a schema violation (unknown key, wrong type) or an id mismatch.
    """
    return TARGETS.load_file(path)


def load_targets() -> dict[str, TargetSpec]:
    """Every target by id, validated (cached until a file changes).

    User files live in ``$EDGEKIT_HOME/targets`` (see :data:`edgekit.paths.HOME_ENV`); a user
    file may add a target but not redefine a bundled one.

    Raises:
        BadInputError: a file is invalid or an id is defined twice.
    """
    return TARGETS.load()


def list_targets(pattern: str | None = None) -> list[str]:
    """Sorted target ids, optionally filtered by an fnmatch pattern (e.g. ``'onnxruntime*'``)."""
    return TARGETS.names(pattern)


def get_target(target_id: str) -> TargetSpec:
    """Return one target.

    Raises:
        UnknownNameError: no such target (the message lists close matches).
    """
    return TARGETS.get(target_id)


__all__ = ["TARGETS", "get_target", "list_targets", "load_target_file", "load_targets", "target_dirs"]
