"""The ``edgekit`` command: assembles one typer app from the command modules."""

from __future__ import annotations

from typing import Annotated

import typer

from edgekit import __version__
from edgekit.cli import analyze, models

app = typer.Typer(
    name="edgekit",
    help="Choose, optimize, export and verify image classifiers for embedded devices.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(models.models)
app.command()(analyze.analyze)


def _version(show: bool) -> None:
    if show:
        typer.echo(f"edgekit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True)] = False,
) -> None:
    """Choose, optimize, export and verify image classifiers for embedded devices."""


def main() -> None:
    """Console-script entry point."""
    app()
