"""The ``edgekit`` command: assembles one typer app from the command modules."""

from __future__ import annotations

from typing import Annotated

import typer

from edgekit import __version__
from edgekit.cli import analyze, models
from edgekit.cli import bench as bench_cli
from edgekit.cli import compare as compare_cli
from edgekit.cli import optimize as optimize_cli
from edgekit.cli import predict as predict_cli
from edgekit.cli import profiles as profiles_cli
from edgekit.cli import recommend as recommend_cli
from edgekit.cli import targets as targets_cli
from edgekit.cli._common import report_plugin_warnings

app = typer.Typer(
    name="edgekit",
    help="Choose, optimize, export and verify image classifiers for embedded devices.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(models.models)
app.command()(analyze.analyze)
app.command()(bench_cli.bench)
app.command()(compare_cli.compare)
app.command()(optimize_cli.optimize)
app.command()(optimize_cli.recipes)
app.command()(targets_cli.targets)
app.command()(targets_cli.export)
app.command()(profiles_cli.profiles)
app.command()(predict_cli.predict)
app.command()(recommend_cli.recommend)


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


def main() -> None:
    """Console-script entry point."""
    app()
