"""Generate ``targets/schema.json`` (JSON Schema of :class:`TargetSpec`) for editor completion.

Run ``python -m edgekit.targets.schema_json`` after changing the schema; a test checks that the
committed file matches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgekit._datafile import SCHEMA_FILE
from edgekit.targets._registry import TARGETS

__all__ = ["SCHEMA_FILE", "render_schema", "target_json_schema", "write_schema"]


def target_json_schema() -> dict[str, Any]:
    """The JSON Schema of a target file."""
    return TARGETS.json_schema()


def render_schema() -> str:
    """The schema as stable, sorted JSON text."""
    return TARGETS.render_schema()


def write_schema(folder: Path | None = None) -> Path:
    """Write the schema into ``folder`` (default: the bundled targets folder) and return its path."""
    return TARGETS.write_schema(folder / SCHEMA_FILE if folder else None)


if __name__ == "__main__":
    write_schema()
