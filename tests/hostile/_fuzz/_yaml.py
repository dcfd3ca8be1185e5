"""Fuzzing the loaders: yaml part (see the package docstring)."""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from edgekit.paths import bundled_data_dir
from tests.hostile._fuzz._common import SENTINEL, USER_ID_PREFIX

# --------------------------------------------------------------------------------------------------------
# (c) mutated YAML profiles and targets
# --------------------------------------------------------------------------------------------------------

YAML_KINDS = ("profile", "target")
_FOLDER = {"profile": "profiles", "target": "targets"}
_TAG_VALUES = (
    f'!!python/object/apply:os.system ["touch {SENTINEL}"]',
    f"!!python/object/apply:subprocess.check_output [[touch, {SENTINEL}]]",
    "!!python/name:os.system",
    "!!python/tuple [1, 2]",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!timestamp 2001-12-14t21:59:43.10-05:00",
    "!!timestamp not-a-date",
    "!!int x",
    "!!bool maybe",
    "!!float 1:2:x",
    "{[1]: 2}",
    "!!float .inf",
    "!!int 0x7fffffffffffffffffff",
    "!custom {a: 1}",
    "*undefined_alias",
    "&anchor [1, 2]",
)
_KEYS = ("value", "kind", "source", "note", "id", "count", "max_ghz", "targets", "ops", "handoff", "extra_key", "")


def _scalars() -> st.SearchStrategy[Any]:
    floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
        (math.inf, -math.inf, math.nan, 1e308, -0.0, 0.0)
    )
    return st.one_of(
        st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.sampled_from((0, -1, 1, 2**63)), floats,
        st.text(max_size=12), st.sampled_from(("", "published", "estimated", "fp32", "onnxruntime", "{stem}", "{")),
    )  # fmt: skip


def _values() -> st.SearchStrategy[Any]:
    return st.recursive(
        _scalars(),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=6), inner, max_size=3)
        ),
        max_leaves=6,
    )


def _paths(tree: Any, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            yield from _paths(value, (*prefix, index))


def _mutate_tree(draw: st.DrawFn, tree: Any, tags: list[str]) -> Any:
    path = draw(st.sampled_from(list(_paths(tree))))
    if not path:
        return draw(_values()) if draw(st.integers(0, 19)) == 0 else tree  # rarely: the whole document replaced
    parent = tree
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    op = draw(st.sampled_from(("replace", "replace", "delete", "add", "duplicate", "tag")))
    if op == "replace":
        parent[last] = draw(_values())
    elif op == "delete":
        del parent[last]
    elif op == "add" and isinstance(parent, dict):
        parent[draw(st.sampled_from(_KEYS) | st.text(max_size=8))] = draw(_values())
    elif op == "duplicate" and isinstance(parent, list):
        parent.insert(last, parent[last])
    elif op == "tag":
        marker = f"__fuzz_tag_{len(tags)}__"
        tags.append(draw(st.sampled_from(_TAG_VALUES)))
        parent[last] = marker
    return tree


@cache
def bundled_yaml(kind: str) -> dict[str, str]:
    """The bundled data files of one kind: id → YAML text."""
    return {p.stem: p.read_text() for p in sorted(bundled_data_dir(_FOLDER[kind]).glob("*.yaml"))}


@cache
def _bundled_tree(kind: str, item_id: str) -> Any:
    return yaml.load(bundled_yaml(kind)[item_id], Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass(frozen=True)
class YamlCase:
    """One mutated data file: its kind, the file name it is saved as, and its bytes."""

    kind: str
    file_name: str
    data: bytes
    entry: str = "file"  # or "directory" / "dangling-link": what the user folder holds under that name

    def __repr__(self) -> str:
        return f"YamlCase({self.kind}, {self.file_name}, {self.entry}, {self.data[:2000]!r})"

    def place(self, folder: Path) -> Path:
        """Put the case into ``folder`` (a user ``profiles``/``targets`` folder) and return its path."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / self.file_name
        if self.entry == "directory":
            path.mkdir()
        elif self.entry == "dangling-link":
            path.symlink_to(folder / "missing.yaml")
        else:
            path.write_bytes(self.data)
        return path


def _text_mutation(draw: st.DrawFn, text: str) -> bytes:
    op = draw(
        st.sampled_from(
            ("none", "none", "none", "truncate", "flip", "bom", "latin1", "nul", "tab", "deep", "laughs", "dupkey")
        )
    )
    data = text.encode()
    if op == "truncate":
        return data[: draw(st.integers(0, len(data)))]
    if op == "flip":
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        return data[:at] + bytes([data[at] ^ (1 << draw(st.integers(0, 7)))]) + data[at + 1 :] if data else data
    if op == "bom":
        return b"\xef\xbb\xbf" + data
    if op == "latin1":  # not UTF-8
        return data.replace(b"e", b"\xe9", 1)
    if op == "nul":
        return data.replace(b"\n", b"\n\x00", 1)
    if op == "tab":
        return data.replace(b"\n  ", b"\n\t", 1)
    if op == "deep":
        depth = draw(st.sampled_from((50, 500, 5000)))
        return data + b"\nnotes: " + b"[" * depth + b"]" * depth + b"\n"
    if op == "laughs":  # nested aliases: a few hundred thousand references
        lines = ['a0: &a0 ["lol"]'] + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 7)]
        return data + ("\n" + "\n".join(lines) + "\nnotes: *a6\n").encode()
    if op == "dupkey":
        return data + b"\nid: duplicated-key\n"
    return data


@st.composite
def mutated_yaml(draw: st.DrawFn, kind: str | None = None) -> YamlCase:
    """A bundled profile or target, its id renamed ``fuzz-<id>``, with 1–4 tree mutations and maybe a text one."""
    kind = kind or draw(st.sampled_from(YAML_KINDS))
    files = bundled_yaml(kind)
    base = draw(st.sampled_from(sorted(files)))
    tree = copy.deepcopy(_bundled_tree(kind, base))
    tree["id"] = USER_ID_PREFIX + base
    tags: list[str] = []
    for _ in range(draw(st.integers(0, 4))):
        tree = _mutate_tree(draw, tree, tags)
    text = yaml.dump(tree, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=200)
    for index, tag in enumerate(tags):
        text = text.replace(f"__fuzz_tag_{index}__", tag)
    entry = draw(st.sampled_from(("file",) * 48 + ("directory", "dangling-link")))
    return YamlCase(kind, f"{USER_ID_PREFIX}{base}.yaml", _text_mutation(draw, text), entry)
