"""The one registry every named extension point uses: passes, runners, runtimes, recipes.

A :class:`Registry` maps names to items. ``register`` refuses a second item under a taken name
(as torchvision's ``register_model`` does; registering the same object again is harmless, so a
module may be re-imported); ``get`` fails with the closest names ("did you mean"); ``names``
lists by fnmatch pattern. A registry may be filled on first use by a ``discover`` function
(e.g. importing every module of a package) and by Python entry points: a plug-in that fails to
load is reported as one :class:`PluginWarning` and skipped, so one broken plug-in cannot take
the CLI down.

Example:
    >>> shapes = Registry("shape", listing="inline")
    >>> _ = shapes.register("square", 4)
    >>> shapes.get("sqare")
    Traceback (most recent call last):
    ...
    edgekit.errors.UnknownNameError: unknown shape 'sqare'; did you mean square?
"""

from __future__ import annotations

import difflib
import fnmatch
import warnings
from collections.abc import Callable, Iterable, Iterator
from importlib.metadata import entry_points
from typing import Generic, Literal, TypeVar

from edgekit.errors import UnknownNameError

T = TypeVar("T")
# How an unknown-name error ends when no name is close: "see `edgekit <kind>s`" or the names themselves.
Listing = Literal["command", "inline"]
_CLOSE_MATCHES = 3
_CLOSE_CUTOFF = 0.5


class PluginWarning(UserWarning):
    """A plug-in (Python entry point) that could not be loaded; the rest of edgekit keeps working."""


def filter_names(names: Iterable[str], pattern: str | None) -> list[str]:
    """Return the sorted names matching an fnmatch ``pattern`` (all when ``None``)."""
    names = sorted(names)
    if not pattern:
        return names
    return [n for n in names if fnmatch.fnmatch(n, pattern)]


def unknown_name(name: str, known: Iterable[str], kind: str, listing: Listing = "command",
                 lead: str | None = None) -> UnknownNameError:  # fmt: skip
    """The error for an unknown ``name``: the closest known names, else where to find them (or all of them,
    in the order given, for ``listing="inline"``). ``lead`` replaces the opening ``unknown <kind> '<name>'``."""
    known = list(known)
    close = difflib.get_close_matches(name, known, n=_CLOSE_MATCHES, cutoff=_CLOSE_CUTOFF)
    if close:
        hint = f"did you mean {', '.join(close)}?"
    elif listing == "inline":
        hint = f"known: {', '.join(known)}"
    else:
        hint = f"see `edgekit {kind}s` for the list"
    return UnknownNameError(f"{lead or f'unknown {kind} {name!r}'}; {hint}")


def require_known(name: str, known: Iterable[str], kind: str, listing: Listing = "command") -> str:
    """Return ``name`` if it is known, else raise with the closest matches.

    Raises:
        UnknownNameError: ``name`` is not among ``known``.
    """
    known = list(known)
    if name in known:
        return name
    raise unknown_name(name, known, kind, listing)


def load_entry_points(group: str) -> list[str]:
    """Load every entry point of ``group`` (importing it registers what it declares).

    Returns:
        The names of the entry points that loaded; each one that failed is reported as one
        :class:`PluginWarning` line naming the plug-in and the error.
    """
    loaded = []
    for point in entry_points(group=group):
        try:
            point.load()
        except Exception as exc:  # a plug-in may fail in any way; it must not take edgekit down
            text = str(exc).strip()
            reason = f"{exc.__class__.__name__}: {text.splitlines()[0]}" if text else exc.__class__.__name__
            message = f"plug-in {point.name!r} ({group} = {point.value}) failed to load: {reason}"
            warnings.warn(message, PluginWarning, stacklevel=2)
            continue
        loaded.append(point.name)
    return loaded


class Registry(Generic[T]):
    """Named items of one kind, filled by ``register``, by ``discover`` and by entry points on first use.

    Args:
        kind: what the items are, for messages (``pass``, ``runner``, ...).
        listing: how an unknown-name error ends when no name is close (see :func:`unknown_name`).
        discover: called once before the first lookup, e.g. to import the built-in modules.
        entry_point_group: Python entry-point group whose plug-ins are loaded before the first lookup.
    """

    def __init__(self, kind: str, *, listing: Listing = "command", discover: Callable[[], object] | None = None,
                 entry_point_group: str | None = None) -> None:  # fmt: skip
        self.kind = kind
        self.listing: Listing = listing
        self.entry_point_group = entry_point_group
        self._discover = discover
        self._discovered = discover is None and entry_point_group is None
        self.entries: dict[str, T] = {}  # the live mapping (tests may snapshot and restore it)

    def register(self, name: str, item: T) -> T:
        """Add ``item`` under ``name``; the same item again is a no-op.

        Raises:
            ValueError: another item is registered under ``name``.
        """
        existing = self.entries.get(name)
        if existing is not None and existing is not item:
            raise ValueError(f"duplicate {self.kind} name {name!r}: already registered under the name {name!r} "
                             f"({_describe(existing)}; refused: {_describe(item)})")  # fmt: skip
        self.entries[name] = item
        return item

    def discover(self) -> None:
        """Run the discovery function and load the entry points, once."""
        if self._discovered:
            return
        self._discovered = True
        if self._discover is not None:
            self._discover()
        if self.entry_point_group is not None:
            load_entry_points(self.entry_point_group)

    def rediscover(self) -> None:
        """Run discovery and load the entry points again on the next lookup (after installing a plug-in)."""
        self._discovered = self._discover is None and self.entry_point_group is None

    def get(self, name: str) -> T:
        """The item called ``name``.

        Raises:
            UnknownNameError: no such item (lists close matches).
        """
        self.discover()
        if name not in self.entries:
            raise unknown_name(name, sorted(self.entries), self.kind, self.listing)
        return self.entries[name]

    def names(self, pattern: str | None = None) -> list[str]:
        """Sorted names, optionally filtered by an fnmatch pattern."""
        self.discover()
        return filter_names(self.entries, pattern)

    def items(self) -> dict[str, T]:
        """Every item by name (a copy)."""
        self.discover()
        return dict(self.entries)

    def __contains__(self, name: object) -> bool:
        self.discover()
        return name in self.entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


def _describe(item: object) -> str:
    module, name = getattr(item, "__module__", None), getattr(item, "__qualname__", None)
    return f"{module}.{name}" if module and name else repr(item)[:60]
