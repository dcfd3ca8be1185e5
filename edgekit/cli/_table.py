"""Tables that fit the terminal: no cell's word or number is ever split or cut.

A table that is wider than the terminal first abbreviates runtime names (each runtime declares its own,
``Runtime.abbreviation``; :func:`abbreviations` collects them),
then drops its least important columns (each column declares a priority) until every cell's longest word
fits its column; the remaining width goes to the columns that need it, so cells wrap only at spaces.
What was abbreviated or left out is said in one line under the table, and ``--wide`` prints every
column at its natural width instead. A table that fits (e.g. piped output, laid out 250 columns wide)
is printed exactly as rich lays it out.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

KEEP = 100  # the priority of a column that is never dropped


@functools.cache
def abbreviations() -> dict[str, str]:
    """Runtime name → how narrow tables write it (``onnxruntime`` → ``ort``), from the runtimes' declarations."""
    from edgekit.runtimes._spec import RUNTIMES

    return {name: rt.abbreviation for name, rt in RUNTIMES.items().items() if rt.abbreviation}


def abbreviate(text: str) -> str:
    """``onnxruntime-cpu`` → ``ort-cpu``: every runtime name in ``text`` by its abbreviation."""
    short = abbreviations()
    if not short:
        return text
    pattern = re.compile(r"\b(" + "|".join(re.escape(name) for name in short) + r")\b")
    return pattern.sub(lambda m: short[m[1]], text)


@dataclass(frozen=True)
class Col:
    """A column: header, how important it is (higher stays longer), alignment, whether it names runtimes, and
    whether its cells stay on one line (``no_wrap``: ``12.26 [m]``; the header still wraps)."""

    header: str
    priority: int = KEEP
    justify: str = "left"
    runtimes: bool = False
    no_wrap: bool = False


@dataclass
class Fitted:
    """The table to print, the columns left out, and whether runtime names were abbreviated."""

    table: Table
    dropped: list[str] = field(default_factory=list)
    abbreviated: list[str] = field(default_factory=list)
    width: int | None = None  # print at this width (``--wide``); None: the console's

    def note(self) -> str | None:
        """``ort = onnxruntime; not shown at 80 columns: energy mJ (--wide shows every column)``, or None."""
        parts = []
        if self.abbreviated:
            parts.append(", ".join(f"{abbreviations()[n]} = {n}" for n in self.abbreviated))
        if self.dropped:
            parts.append(f"left out to fit the terminal: {', '.join(self.dropped)} (--wide shows every column)")
        return "; ".join(parts) or None


def _plain(cell: Any) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def _build(cols: Sequence[Col], rows: Sequence[Sequence[Any]], keep: list[int], short: bool,
           widths: list[int] | None, options: dict[str, Any]) -> Table:  # fmt: skip
    if isinstance(options.get("title"), str):  # a title is text too: "[m]" in it is not markup
        options = {**options, "title": Text(options["title"], style="table.title")}
    table = Table(**options)
    for slot, index in enumerate(keep):
        col = cols[index]
        # no_wrap is kept out of rich: its column width (>= the longest cell) keeps cells whole, the header may wrap
        table.add_column(Text(col.header), justify=col.justify, overflow="fold",  # type: ignore[arg-type]
                         width=widths[slot] if widths else None)  # fmt: skip
    for row in rows:
        cells = []
        for index in keep:
            cell = row[index]
            if short and cols[index].runtimes:
                cell = Text(abbreviate(_plain(cell))) if isinstance(cell, Text) else abbreviate(str(cell))
            cells.append(cell if isinstance(cell, Text) else Text(str(cell)))  # data, never markup: "[m]" stays
        table.add_row(*cells)
    return table


def _longest_word(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(word) for line in text.splitlines() for word in line.split()), default=0)


def _longest_line(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(line) for line in text.splitlines()), default=0)


def _bounds(cols: Sequence[Col], rows: Sequence[Sequence[Any]], keep: list[int], short: bool) -> list[tuple[int, int]]:
    """(longest word, longest line) per kept column, headers included."""
    bounds = []
    for index in keep:
        texts = [cols[index].header] + [_plain(row[index]) for row in rows]
        if short and cols[index].runtimes:
            texts = [texts[0]] + [abbreviate(t) for t in texts[1:]]
        cells = max((_longest_line if cols[index].no_wrap else _longest_word)(t) for t in texts[1:]) if rows else 0
        bounds.append((max(_longest_word(texts[0]), cells), max(_longest_line(t) for t in texts)))
    return bounds


def _total(console: Console, table: Table) -> int:
    return Measurement.get(console, console.options.update_width(100_000), table).maximum  # unclamped


def _needed(console: Console, cols: Sequence[Col], rows: Sequence[Sequence[Any]], keep: list[int], short: bool,
            options: dict[str, Any]) -> int:  # fmt: skip
    """The narrowest width the kept columns take without splitting a word (borders and padding included)."""
    return _total(console, _build(cols, rows, keep, short, [low for low, _ in _bounds(cols, rows, keep, short)],
                                  options))  # fmt: skip


def _spread(bounds: list[tuple[int, int]], slack: int) -> list[int]:
    """Widths from each column's minimum, the slack given first to the columns that need least to stop wrapping."""
    widths = [low for low, _ in bounds]
    for slot in sorted(range(len(bounds)), key=lambda s: bounds[s][1] - bounds[s][0]):
        grant = min(slack, bounds[slot][1] - widths[slot])
        widths[slot] += grant
        slack -= grant
    return widths


def fit_table(console: Console, cols: Sequence[Col], rows: Sequence[Sequence[Any]], wide: bool = False,
              **options: Any) -> Fitted:  # fmt: skip
    """Lay ``rows`` out under ``cols`` within the console's width without splitting any word (see module doc).

    ``options`` go to :class:`rich.table.Table` (title, box, padding, ...).
    """
    keep = list(range(len(cols)))
    natural = _build(cols, rows, keep, False, None, options)
    width = console.width
    if wide or _total(console, natural) <= width:
        return Fitted(natural, width=max(width, _total(console, natural)) if wide else None)
    short = any(cols[i].runtimes and abbreviate(_plain(r[i])) != _plain(r[i]) for r in rows for i in keep)
    dropped: list[int] = []
    droppable = sorted((i for i, c in enumerate(cols) if c.priority < KEEP), key=lambda i: cols[i].priority)
    while _needed(console, cols, rows, keep, short, options) > width and droppable:
        victim = droppable.pop(0)
        keep.remove(victim)
        dropped.append(victim)
    for index in reversed(dropped[:-1]):  # a less important, narrower column may fit where a wide one did not
        if _needed(console, cols, rows, sorted([*keep, index]), short, options) <= width:
            keep = sorted([*keep, index])
            dropped.remove(index)
    bounds = _bounds(cols, rows, keep, short)
    overhead = _total(console, _build(cols, rows, keep, short, [low for low, _ in bounds], options)) - sum(
        low for low, _ in bounds
    )
    widths = _spread(bounds, max(0, width - overhead - sum(low for low, _ in bounds)))
    used = sorted({name for i in keep if cols[i].runtimes for r in rows for name in abbreviations()
                   if name in _plain(r[i])}) if short else []  # fmt: skip
    return Fitted(_build(cols, rows, keep, short, widths, options), [cols[i].header for i in dropped], used)


def print_fitted(console: Console, cols: Sequence[Col], rows: Sequence[Sequence[Any]], wide: bool = False,
                 shared: list[Fitted] | None = None, **options: Any) -> Fitted:  # fmt: skip
    """:func:`fit_table`, printed; its note (abbreviations, columns left out) as one line under it, or, when
    several tables share one footer, appended to ``shared`` for :func:`print_note`."""
    fitted = fit_table(console, cols, rows, wide, **options)
    if fitted.width is not None:  # --wide: rich never lays out wider than its console, so widen it for this table
        saved = console._width  # None: the terminal's width, detected each time
        console.width = fitted.width
        try:
            console.print(fitted.table, crop=False)
        finally:
            console._width = saved
    else:
        console.print(fitted.table)
    if shared is None:
        print_note(console, [fitted])
    else:
        shared.append(fitted)
    return fitted


def print_note(console: Console, fitted: list[Fitted]) -> None:
    """One line for several tables: every abbreviation used and every column left out, each named once."""
    merged = Fitted(Table(), list(dict.fromkeys(d for f in fitted for d in f.dropped)),
                    sorted({a for f in fitted for a in f.abbreviated}))  # fmt: skip
    note = merged.note()
    if note:
        console.print(Text(note, style="dim"))
