"""What every command shares: error mapping, JSON output, the rich console."""

from __future__ import annotations

import functools
import json
import os
import sys
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console

from edgekit._registry import PluginWarning
from edgekit.errors import EdgekitError

# Piped or logged output (make demo in CI, `| tee`) gets no terminal width; rich would wrap every table
# cell at 80 columns, so such output is laid out wide instead. COLUMNS, when set, still wins.
_PIPE_WIDTH = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 250
console = Console(width=_PIPE_WIDTH)
err_console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


def guarded(fn: F) -> F:
    """Turn edgekit's typed errors into one line on stderr and the error's exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except EdgekitError as exc:
            # Plain print: rich would wrap long messages and they must stay on one line.
            print(f"error: {exc}", file=sys.stderr)  # noqa: T201 (the CLI layer owns output)
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:  # fmt: skip
    if issubclass(category, PluginWarning):
        print(f"warning: {message}", file=sys.stderr)  # noqa: T201 (one line, as errors are)
        return
    _previous_showwarning(message, category, filename, lineno, file, line)


_previous_showwarning = warnings.showwarning


def report_plugin_warnings() -> None:
    """Print each plug-in that failed to load as one ``warning:`` line on stderr (others unchanged)."""
    global _previous_showwarning
    if warnings.showwarning is not _show_warning:
        _previous_showwarning = warnings.showwarning
        warnings.showwarning = _show_warning


def to_jsonable(value: Any) -> Any:
    """Convert pydantic models (and lists/dicts of them) into JSON-ready data."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def print_json(value: Any) -> None:
    """Print machine-readable output on stdout."""
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2) + "\n")


def split_csv(values: list[str] | None) -> list[str]:
    """Accept repeated options and comma-separated lists alike: ``-m a,b -m c`` → [a, b, c]."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def fmt_num(value: float, signed: bool = False) -> str:
    """Three significant digits without scientific notation: 0.604, 31.3, 364, 1,170 (``+`` if signed)."""
    sign = "+" if signed else ""
    if value == 0 or abs(value) >= 100:
        return f"{value:{sign},.0f}"
    return f"{value:{sign}.3g}"
