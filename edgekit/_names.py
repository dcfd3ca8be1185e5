"""Name lookup shared by every registry: fnmatch listing and "did you mean" errors."""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable

from edgekit.errors import UnknownNameError


def filter_names(names: Iterable[str], pattern: str | None) -> list[str]:
    """Return the sorted names matching an fnmatch ``pattern`` (all when ``None``)."""
    names = sorted(names)
    if not pattern:
        return names
    return [n for n in names if fnmatch.fnmatch(n, pattern)]


def require_known(name: str, known: Iterable[str], kind: str) -> str:
    """Return ``name`` if it is known, else raise with the closest matches.

    Raises:
        UnknownNameError: ``name`` is not among ``known``.
    """
    known = list(known)
    if name in known:
        return name
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; see `edgekit {kind}s` for the list"
    raise UnknownNameError(f"unknown {kind} {name!r}{hint}")
