"""Class names of a source: a labels file, an image folder's class folders, torchvision's categories or the file."""

from __future__ import annotations

import json
from pathlib import Path

import onnx

from edgekit.errors import BadInputError
from edgekit.models._registry import categories, get_model_info
from edgekit.models._source_spec import LABELS_METADATA_KEY, LoadedModel, SourceSpec

MAX_LABELS_BYTES = 4 * 2**20


def resolve_labels(source: SourceSpec, loaded: LoadedModel) -> tuple[list[str] | None, str]:
    if source.labels is not None:
        names, where = read_labels(source.labels)
    elif source.kind == "torchvision" or (
        source.kind == "checkpoint" and loaded.num_classes == _default_classes(source)
    ):
        info = get_model_info(source.name)
        return categories(source.name), f"torchvision {info.weights_name} categories"
    elif loaded.kind == "onnx":
        return stated_labels(loaded.model, loaded.num_classes)
    else:
        return None, "class indices"
    if len(names) != loaded.num_classes:
        raise BadInputError(f"{where} names {len(names)} classes, but {loaded.name} gives {loaded.num_classes} "
                            "outputs per image")  # fmt: skip
    return names, where


def _default_classes(source: SourceSpec) -> int:
    return get_model_info(source.name).num_classes


def read_labels(path: Path) -> tuple[list[str], str]:
    """Class names from a text file (one per line) or the sorted class folders of an image folder.

    Raises:
        BadInputError: missing, unreadable, empty, too large, or with repeated names.
    """
    if path.is_dir():
        names = sorted(p.name for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
        where = f"the class folders of {path}"
    elif path.is_file():
        if path.stat().st_size > MAX_LABELS_BYTES:
            raise BadInputError(f"labels file {path} is over {MAX_LABELS_BYTES // 2**20} MiB")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise BadInputError(f"labels file {path} is not UTF-8 text") from exc
        names = [line.strip() for line in text.splitlines() if line.strip()]
        where = f"labels file {path.name}"
    else:
        raise BadInputError(f"--labels: no such file or folder: {path}")
    if not names:
        raise BadInputError(f"{where}: no class names found")
    if len(set(names)) != len(names):
        repeated = next(n for n in names if names.count(n) > 1)
        raise BadInputError(f"{where}: class name {repeated!r} appears more than once")
    return names, where


def stated_labels(model: onnx.ModelProto, count: int) -> tuple[list[str] | None, str]:
    for prop in model.metadata_props:
        if prop.key == LABELS_METADATA_KEY:
            try:
                record = json.loads(prop.value)
            except ValueError:
                return None, "class indices"
            names = record.get("names") if isinstance(record, dict) else None
            if isinstance(names, list) and len(names) == count and all(isinstance(n, str) for n in names):
                return names, str(record.get("source", "the file's edgekit metadata"))
    return None, "class indices"
