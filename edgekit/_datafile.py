"""Loading the YAML data files (profiles, targets) through their pydantic schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from edgekit.errors import BadInputError
from edgekit.vocab import bad_input

_SHOWN_ERRORS = 3  # schema violations named in one message; the rest are counted


class _HasId(Protocol):
    id: str


M = TypeVar("M", bound=BaseModel)


def load_data_file(path: Path, schema: type[M], kind: str) -> M:
    """Parse one YAML data file through ``schema``; its ``id`` must equal the file name.

    Raises:
        BadInputError: unreadable YAML, a schema violation (first ones named), or an id/file-name mismatch.
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise BadInputError(f"{kind} file {path} is not readable YAML: {exc.__class__.__name__}") from exc
    try:
        item = schema.model_validate(raw)
    except ValidationError as exc:
        raise bad_input(exc, f"invalid {kind} {path.name}", limit=_SHOWN_ERRORS, more=True) from exc
    item_id = getattr(item, "id", None)
    if item_id != path.stem:
        raise BadInputError(f"{kind} {path.name} declares id {item_id!r}; the file must be named {item_id}.yaml")
    return item
