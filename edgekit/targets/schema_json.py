"""Generate ``targets/schema.json`` (JSON Schema of :class:`TargetSpec`) for editor completion.

Run ``python -m edgekit.targets.schema_json`` after changing the schema; a test checks that the
committed file matches.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edgekit.fileio import atomic_path
from edgekit.paths import bundled_data_dir
from edgekit.targets._schema import TargetSpec

SCHEMA_FILE = "schema.json"


def target_json_schema() -> dict[str, Any]:
    """The JSON Schema of a target file."""
    schema = TargetSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "edgekit target (targets/<id>.yaml)"
    return schema


def render_schema() -> str:
    """The schema as stable, sorted JSON text."""
    return json.dumps(target_json_schema(), indent=2, sort_keys=True) + "\n"


def write_schema(folder: Path | None = None) -> Path:
    """Write the schema into ``folder`` (default: the bundled targets folder) and return its path."""
    path = (folder or bundled_data_dir("targets")) / SCHEMA_FILE
    with atomic_path(path) as tmp:
        tmp.write_text(render_schema())
    return path


if __name__ == "__main__":
    write_schema()
