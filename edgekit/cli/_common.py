"""What every command shares: error mapping, JSON output, the rich console."""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import re
import shutil
import sqlite3
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console

from edgekit._registry import PluginWarning
from edgekit.errors import EdgekitError, EdgekitWarning, summarize_exception, summarize_message
from edgekit.paths import HOME_ENV, edgekit_home

if TYPE_CHECKING:
    from edgekit.bench import BenchConfig

# Piped or logged output (make demo in CI, `| tee`) gets no terminal width; rich would wrap every table
# cell at 80 columns, so such output is laid out wide instead. COLUMNS, when set, still wins.
_PIPE_WIDTH = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 250
console = Console(width=_PIPE_WIDTH)
err_console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])
# --wide: the options every command that prints a table shares.
Wide = Annotated[bool, typer.Option("--wide", help="every column at full width, even past the terminal's edge")]
# Where the cells of bench and compare run (edgekit.devices.on): one spelling of the four options.
_ON_HELP = "where to measure: local, ssh://user@host[:port], a board of devices.yaml, or fleet (the Ray cluster)"
_ON_PROFILE_HELP = "the device profile the --on board stands for (e.g. raspberry-pi-5); fleet: P[,P...], default all"
_ADDRESS_HELP = "--on fleet: the Ray cluster (default: the one `edgekit fleet up` recorded)"
On = Annotated[str, typer.Option("--on", metavar="WHERE", help=_ON_HELP)]
OnProfile = Annotated[str | None, typer.Option("--profile", metavar="PROFILE[,...]", help=_ON_PROFILE_HELP)]
FleetAddress = Annotated[str | None, typer.Option("--address", metavar="HOST:PORT", help=_ADDRESS_HELP)]
CellTimeout = Annotated[
    float, typer.Option("--timeout", metavar="SECONDS", help="seconds one cell may take before it is killed")
]


# Expected errors of libraries edgekit reads files with, by (module, class). They are looked up only in modules
# already imported: an exception of a module nobody imported cannot occur, and `models` stays free of onnx/PIL.
_FOREIGN_ERRORS = {
    ("PIL.Image", "DecompressionBombError"): "image rejected",
    ("onnx.checker", "ValidationError"): "invalid ONNX model",
    ("onnx.shape_inference", "InferenceError"): "invalid ONNX model",
    ("google.protobuf.message", "DecodeError"): "not a readable protobuf (ONNX) file",
}
_OS_HINTS = {
    errno.ENOSPC: "free some space or write elsewhere",
    getattr(errno, "EDQUOT", errno.ENOSPC): "free some space or write elsewhere",  # no EDQUOT on Windows
    errno.EROFS: "write elsewhere",
    errno.EACCES: "write elsewhere or fix the permissions",
    errno.EPERM: "write elsewhere or fix the permissions",
}


def guarded(fn: F) -> F:
    """The CLI's error boundary: expected failures become one line on stderr and an exit code.

    Expected are edgekit's typed errors (their own exit code) and what the operating system, SQLite,
    Pillow, onnx or protobuf raise on a broken, hostile or unwritable file (exit 2). Anything else is a bug
    and keeps its traceback. Library warnings (:class:`EdgekitWarning`) print as one ``warning:`` line each.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _warnings_as_lines():
            try:
                return fn(*args, **kwargs)
            except BrokenPipeError:
                _reader_went_away()
            except EdgekitError as exc:
                _fail(str(exc), exc.exit_code)
            except Exception as exc:
                message = describe_expected_error(exc)
                if message is None:
                    raise
                _fail(message, 2)

    wrapper.__edgekit_boundary__ = True  # type: ignore[attr-defined] (tests check every command has it)
    return wrapper  # type: ignore[return-value]


def describe_expected_error(exc: BaseException) -> str | None:
    """One line for an expected operating-system, database, image or model-file error; None for anything else."""
    if isinstance(exc, OSError):
        return describe_os_error(exc)
    if isinstance(exc, sqlite3.DatabaseError):
        return f"database error: {summarize_exception(exc)}"
    if isinstance(exc, MemoryError):
        return "out of memory" + (f": {exc}" if str(exc) else "")
    for (module, name), what in _FOREIGN_ERRORS.items():
        cls = getattr(sys.modules.get(module), name, None)
        if isinstance(cls, type) and isinstance(exc, cls):
            return f"{what}: {summarize_exception(exc)}"
    return None


def describe_os_error(exc: OSError, more: str = "") -> str:
    """``read-only file system: /path (EROFS); write elsewhere`` — the reason, the path(s), a hint."""
    if isinstance(exc, shutil.Error):
        return _describe_copy_error(exc)
    reason = exc.strerror or summarize_exception(exc)
    paths = [os.fsdecode(p) if isinstance(p, bytes) else str(p) for p in (exc.filename, exc.filename2) if p is not None]
    code = errno.errorcode.get(exc.errno or 0)
    text = reason[:1].lower() + reason[1:] + (f": {' -> '.join(paths)}" if paths else "") + more
    text += f" ({code})" if code else ""
    hint = _OS_HINTS.get(exc.errno or 0)
    if hint and any(_under_home(path) for path in paths):
        hint += f", or set {HOME_ENV} to another folder"
    return f"{text}; {hint}" if hint else text


def _describe_copy_error(exc: shutil.Error) -> str:
    """``shutil.copytree``/``move`` collect ``(src, dst, "[Errno 28] No space left ...")`` per file: name the first."""
    failures = exc.args[0] if exc.args and isinstance(exc.args[0], list) else []
    if not failures or len(failures[0]) != 3:
        return summarize_exception(exc)
    _, destination, why = failures[0]
    more = f" and {len(failures) - 1} more file(s)" if len(failures) > 1 else ""
    match = re.match(r"\[Errno (\d+)\] ([^:]+)", str(why))
    return describe_os_error(OSError(int(match[1]), match[2], destination), more) if match else f"{destination}: {why}"


def _under_home(path: str) -> bool:
    return Path(path).absolute().is_relative_to(edgekit_home().absolute())


def _reader_went_away() -> None:
    # `edgekit models | head`: the reader closed the pipe, so there is nobody to tell; point stdout at
    # /dev/null so that Python's flush at exit does not raise a second time, and exit as SIGPIPE would.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    raise typer.Exit(128 + 13)


def _fail(message: str, exit_code: int) -> None:
    # Plain print: rich would wrap long messages and they must stay on one line.
    print(f"error: {summarize_message(message, 'failed')}", file=sys.stderr)  # noqa: T201 (the CLI layer owns output)
    raise typer.Exit(exit_code) from None


@contextlib.contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Print :class:`EdgekitWarning` as ``warning: <message>`` (one line each); other warnings as usual."""
    shown: set[str] = set()  # an image folder read twice (calibration, fidelity) warns once per file
    with warnings.catch_warnings():
        default_show = warnings.showwarning

        def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
            if not issubclass(category, EdgekitWarning):
                default_show(message, category, *args, **kwargs)
                return
            line = f"warning: {summarize_message(str(message))}"
            if line not in shown:
                shown.add(line)
                print(line, file=sys.stderr)  # noqa: T201 (the CLI layer owns output)

        warnings.showwarning = show
        warnings.simplefilter("always", EdgekitWarning)  # every skipped file is named, not only the first
        yield


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
    """Print machine-readable output on stdout: strict JSON, so a non-finite number is a bug, never ``Infinity``."""
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, allow_nan=False) + "\n")


def split_csv(values: list[str] | None) -> list[str]:
    """Accept repeated options and comma-separated lists alike: ``-m a,b -m c`` → [a, b, c]."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def fmt_num(value: float, signed: bool = False) -> str:
    """Three significant digits without scientific notation: 0.604, 31.3, 364, 1,170 (``+`` if signed)."""
    sign = "+" if signed else ""
    if value == 0 or abs(value) >= 100:
        return f"{value:{sign},.0f}"
    return f"{value:{sign}.3g}"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 profile``, ``2 profiles``."""
    return f"{n} {word if n == 1 else many or word + 's'}"


def age(when: datetime | None, now: datetime | None = None) -> str:
    """How long ago a stored measurement was taken: ``40 s ago``, ``12 min ago``, ``3 h ago``, ``2 d ago``."""
    if when is None:
        return "stored"
    seconds = max(0.0, ((now or datetime.now(timezone.utc)) - when).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size:.0f} {unit} ago"
    return f"{seconds:.0f} s ago"


def protocol(config: BenchConfig) -> str:
    """The timing protocol a ``[m]`` latency was measured under: ``10 warm-up, ≥30 runs, ≥5 s per cell``."""
    return f"{config.warmup} warm-up, ≥{config.min_iters} runs, ≥{config.min_seconds:g} s per cell"


def matching(names: Iterable[str], pattern: str | None, kind: str) -> list[str]:
    """The names a listing command shows: an fnmatch pattern as given, a plain word as a substring.

    Raises:
        UnknownNameError: nothing matches (with the closest names), so a typo is not an empty table and exit 0.
    """
    from edgekit._registry import filter_names, unknown_name

    known = list(names)
    plain = pattern is not None and not any(ch in pattern for ch in "*?[")
    found = filter_names(known, f"*{pattern}*" if plain else pattern)
    if pattern and not found:
        raise unknown_name(pattern, known, kind, lead=f"no {kind} matches {pattern!r}")
    return found
