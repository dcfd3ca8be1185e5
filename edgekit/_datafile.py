"""Loading the YAML data files (profiles, targets) through their pydantic schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from edgekit.errors import BadInputError

_SHOWN_ERRORS = 3  # schema violations named in one message; the rest are counted
# libyaml's parser with PyYAML's safe constructor (plain data only; no tags that build objects): the same
# documents as yaml.safe_load, several times faster; the pure-Python SafeLoader where libyaml is missing.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _HasId(Protocol):
    id: str


M = TypeVar("M", bound=BaseModel)


def _loc_part(part: object) -> str:
    """One step of an error's field path; a key with a newline or other control character is quoted."""
    text = str(part)
    return text if text.isprintable() else repr(text)


def describe_validation_error(exc: ValidationError) -> str:
    """The first schema violations as ``field.path: message``, e.g. ``ram_gigs: Extra inputs ...`` (one line)."""
    errors = exc.errors()
    parts = [
        f"{'.'.join(_loc_part(x) for x in e['loc']) or '(top level)'}: {' '.join(e['msg'].split())}"
        for e in errors[:_SHOWN_ERRORS]
    ]
    more = len(errors) - _SHOWN_ERRORS
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def data_file_mtime_ns(path: Path, kind: str) -> int:
    """Modification time of one data file (the registries' cache key).

    Raises:
        BadInputError: the entry cannot be examined, e.g. a symbolic link to a missing file.
    """
    try:
        return path.stat().st_mtime_ns
    except OSError as exc:
        raise BadInputError(f"{kind} file {path} is not readable: {exc.__class__.__name__}") from exc


def load_data_file(path: Path, schema: type[M], kind: str) -> M:
    """Parse one YAML data file through ``schema``; its ``id`` must equal the file name.

    Raises:
        BadInputError: unreadable YAML, a schema violation (first ones named), or an id/file-name mismatch.
    """
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # safe: see _SAFE_LOADER
    except UnicodeDecodeError as exc:
        raise BadInputError(f"{kind} file {path} is not UTF-8 text (byte {exc.start})") from exc
    except RecursionError as exc:  # PyYAML builds nested collections recursively
        raise BadInputError(f"{kind} file {path} is nested too deeply to read") from exc
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
        # PyYAML's constructors fail this way on a tagged value they cannot build: !!int x, !!bool x, !!timestamp x
        reason = f"a tagged value cannot be built ({exc.__class__.__name__})"
        raise BadInputError(f"{kind} file {path} is not readable YAML: {reason}") from exc
    except (OSError, yaml.YAMLError) as exc:
        raise BadInputError(f"{kind} file {path} is not readable YAML: {exc.__class__.__name__}") from exc
    try:
        item = schema.model_validate(raw)
    except ValidationError as exc:
        raise BadInputError(f"invalid {kind} {path.name}: {describe_validation_error(exc)}") from exc
    item_id = getattr(item, "id", None)
    if item_id != path.stem:
        raise BadInputError(f"{kind} {path.name} declares id {item_id!r}; the file must be named {item_id}.yaml")
    return item
