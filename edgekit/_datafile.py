"""The YAML data folders (``targets/``, ``profiles/``): one loader, one cache, one schema writer.

A :class:`DataFolder` reads ``<kind>s/*.yaml`` from the bundled folder and, when it exists, from
``$EDGEKIT_HOME/<kind>s``; every file is validated by the pydantic schema, its ``id`` must equal
its file name, and an id defined twice (a user file may add items, not redefine bundled ones)
is refused. The result is cached until a file is added, removed or changed (mtime). The JSON
Schema beside the bundled files (for editor completion) is written atomically from the model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from edgekit._registry import filter_names, require_known
from edgekit.errors import BadInputError
from edgekit.fileio import atomic_path
from edgekit.paths import bundled_data_dir, edgekit_home
from edgekit.vocab import bad_input

_SHOWN_ERRORS = 3  # schema violations named in one message; the rest are counted
# libyaml's parser with PyYAML's safe constructor (plain data only; no tags that build objects): the same
# documents as yaml.safe_load, several times faster; the pure-Python SafeLoader where libyaml is missing.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


SCHEMA_FILE = "schema.json"


class _HasId(Protocol):
    id: str


M = TypeVar("M", bound=BaseModel)


def data_file_mtime_ns(path: Path, kind: str) -> int:
    """Modification time of one data file (the registries' cache key).

    Raises:
        BadInputError: the entry cannot be examined, e.g. a symbolic link to a missing file.
    """
    try:
        return path.stat().st_mtime_ns
    except OSError as exc:
        raise BadInputError(f"{kind} file {path} is not readable: {exc.__class__.__name__}") from exc


def load_data_file(path: Path, schema: type[M], kind: str, *, id_is_name: bool = True) -> M:
    """Parse one YAML data file through ``schema``; its ``id`` must equal the file name (unless not ``id_is_name``).

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
        raise bad_input(exc, f"invalid {kind} {path.name}", limit=_SHOWN_ERRORS, more=True) from exc
    item_id = getattr(item, "id", None)
    if id_is_name and item_id != path.stem:
        raise BadInputError(f"{kind} {path.name} declares id {item_id!r}; the file must be named {item_id}.yaml")
    return item


class DataFolder(Generic[M]):
    """The YAML files of one kind, validated through ``schema`` and cached by file set and mtime.

    Args:
        kind: ``target`` or ``profile``; the folders are ``<kind>s``.
        schema: the pydantic model of one file.
        schema_keys: keys added to the generated JSON Schema (``$id``, ``title``, ...).
    """

    def __init__(self, kind: str, schema: type[M], schema_keys: dict[str, str]) -> None:
        self.kind, self.schema, self.schema_keys = kind, schema, schema_keys
        self._key: tuple[tuple[str, int], ...] | None = None
        self._items: dict[str, M] = {}

    def folders(self) -> list[Path]:
        """The bundled folder, then ``$EDGEKIT_HOME/<kind>s`` if it exists."""
        user = edgekit_home() / f"{self.kind}s"
        return [bundled_data_dir(f"{self.kind}s"), *([user] if user.is_dir() else [])]

    def load_file(self, path: Path) -> M:
        """Parse and validate one file (see :func:`load_data_file`)."""
        return load_data_file(path, self.schema, self.kind)

    def load(self) -> dict[str, M]:
        """Every item by id (a copy), read again only when the set of files or an mtime changed.

        Raises:
            BadInputError: a file is invalid, or two files declare the same id.
        """
        files = [p for folder in self.folders() for p in sorted(folder.glob("*.yaml"))]
        key = tuple((str(p), data_file_mtime_ns(p, self.kind)) for p in files)
        if key != self._key:
            self._items, self._key = self._read(files), key
        return dict(self._items)

    def _read(self, files: list[Path]) -> dict[str, M]:
        items: dict[str, M] = {}
        origins: dict[str, Path] = {}
        for path in files:
            item = self.load_file(path)
            item_id = item.id  # type: ignore[attr-defined]
            if item_id in items:
                raise BadInputError(f"duplicate {self.kind} id {item_id!r}: {self.kind} {item_id!r} is defined twice: "
                                    f"{origins[item_id]} and {path}")  # fmt: skip
            items[item_id], origins[item_id] = item, path
        return items

    def cache_clear(self) -> None:
        """Forget the cached items (the next load reads every file)."""
        self._key, self._items = None, {}

    def names(self, pattern: str | None = None) -> list[str]:
        """Sorted ids, optionally filtered by an fnmatch pattern."""
        return filter_names(self.load(), pattern)

    def get(self, item_id: str) -> M:
        """One item.

        Raises:
            UnknownNameError: no such id (the message lists close matches).
        """
        items = self.load()
        return items[require_known(item_id, items, self.kind)]

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema of one file, with :attr:`schema_keys`."""
        return self.schema.model_json_schema() | self.schema_keys

    def render_schema(self) -> str:
        """The JSON Schema as stable, sorted JSON text."""
        return json.dumps(self.json_schema(), indent=2, sort_keys=True) + "\n"

    def write_schema(self, path: Path | None = None) -> Path:
        """Write the JSON Schema atomically (default: ``schema.json`` in the bundled folder); return its path."""
        target = path or bundled_data_dir(f"{self.kind}s") / SCHEMA_FILE
        with atomic_path(target) as tmp:
            tmp.write_text(self.render_schema())
        return target
