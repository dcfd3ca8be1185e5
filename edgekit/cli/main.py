"""The ``edgekit`` command: one typer app whose commands load on first use.

Each command lives in its own module (``edgekit/cli/<module>.py``) and imports the library it
calls at module top. The app loads a command's module only when that command runs (or when
``--help`` lists them all), so ``edgekit recommend`` does not pay for ``compare``'s imports.
"""

from __future__ import annotations

import importlib
import signal
from collections.abc import Iterator, MutableMapping
from types import FrameType
from typing import Annotated, Any

import typer
from typer.core import TyperGroup
from typer.main import get_command_from_info
from typer.models import CommandInfo

from edgekit import __version__
from edgekit.cli._common import report_plugin_warnings
from edgekit.cli._help import tidy_help
from edgekit.fileio import run_temp_dir, temp_root

# Command name → (module under edgekit.cli, function), in the order ``--help`` lists them.
COMMANDS = {
    "models": ("models", "models"),
    "analyze": ("analyze", "analyze"),
    "bench": ("bench", "bench"),
    "compare": ("compare", "compare"),
    "optimize": ("optimize", "optimize"),
    "recipes": ("optimize", "recipes"),
    "targets": ("targets", "targets"),
    "export": ("targets", "export"),
    "profiles": ("profiles", "profiles"),
    "predict": ("predict", "predict"),
    "calibrate": ("calibrate", "calibrate"),
    "recommend": ("recommend", "recommend"),
    "fleet": ("fleet", "fleet"),
    "sweep": ("sweep", "sweep"),
    "device": ("device", "device"),
    "devices": ("device", "devices"),
}


class _LazyCommands(MutableMapping[str, Any]):
    """The group's commands by name; a command's module is imported when the command is looked up."""

    def __init__(self) -> None:
        self._loaded: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            if name not in COMMANDS:
                raise KeyError(name)
            module, function = COMMANDS[name]
            callback = getattr(importlib.import_module(f"edgekit.cli.{module}"), function)
            self._loaded[name] = tidy_help(get_command_from_info(CommandInfo(name=name, callback=callback),
                                                                 pretty_exceptions_short=app.pretty_exceptions_short,
                                                                 rich_markup_mode=app.rich_markup_mode))  # fmt: skip
        return self._loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*COMMANDS, *self._loaded]))

    def __len__(self) -> int:
        return len(set(COMMANDS) | set(self._loaded))

    def __contains__(self, name: object) -> bool:
        return name in COMMANDS or name in self._loaded


class LazyGroup(TyperGroup):
    """A typer group whose commands are :class:`_LazyCommands`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _LazyCommands()
        tidy_help(self)


app = typer.Typer(
    name="edgekit",
    cls=LazyGroup,
    help="Choose, optimize, export and verify image classifiers for embedded devices.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(show: bool) -> None:
    if show:
        typer.echo(f"edgekit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True)] = False,
) -> None:
    """Choose, optimize, export and verify image classifiers for embedded devices."""
    report_plugin_warnings()


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM as an exit: the cleanups of the running command (staging, temp folders, child processes) run."""
    signal.signal(signum, signal.SIG_IGN)  # a second TERM must not cut short the cleanup the first one started
    raise SystemExit(128 + signum)  # 143: the shell's code for "terminated by SIGTERM"


def main() -> None:
    """Console-script entry point: SIGTERM handled, temp files in a per-run folder (dead runs' swept first)."""
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:  # a caller that ignores TERM keeps it ignored
        signal.signal(signal.SIGTERM, _terminate)
    with run_temp_dir(temp_root()):
        app()
