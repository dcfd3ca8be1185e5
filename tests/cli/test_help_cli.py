"""Every command's --help: readable metavars, required arguments shown as such, consistent short flags, examples."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from edgekit.cli.main import COMMANDS, app

runner = CliRunner()
# typer's defaults this project replaces: <bool>, <list[str]>, <str>, <int>, <path>..., and {name} in usage
BAD_METAVAR = re.compile(r"<(bool|str|int|float|path|list\[[a-z]+\]|[a-z_]+)>|\{[A-Za-z_]+\}")
EXAMPLED = ("models", "analyze", "bench", "compare", "optimize", "recipes", "targets", "export", "profiles",
            "predict", "recommend")  # fmt: skip


def _help(*command: str) -> str:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_has_no_python_type_metavars(command: str) -> None:
    text = _help(*([command] if command else []))
    assert BAD_METAVAR.search(text) is None, BAD_METAVAR.search(text)


@pytest.mark.parametrize("command", EXAMPLED)
def test_help_has_examples(command: str) -> None:
    text = _help(command)
    assert re.search(rf"Examples?:.*edgekit {command}\b", text, re.DOTALL), text


def test_required_arguments_are_not_shown_as_optional() -> None:
    assert "Usage: edgekit predict [OPTIONS] MODEL" in _help("predict")
    assert "Usage: edgekit bench [OPTIONS] MODEL..." in _help("bench")
    assert "Usage: edgekit compare [OPTIONS] MODEL..." in _help("compare")
    assert "Usage: edgekit models [OPTIONS] [PATTERN]" in _help("models")


def test_short_flags_mean_one_option_everywhere() -> None:
    meaning: dict[str, set[str]] = {}
    for command in COMMANDS:
        for short, long in re.findall(r"(--[a-z-]+)\s+(-[a-zA-Z])\b", _help(command)):
            meaning.setdefault(long, set()).add(short.rstrip("s"))  # --target / --targets: one meaning
    assert meaning  # -r, -p, -m, -t exist
    assert {flag: names for flag, names in meaning.items() if len(names) > 1} == {}
    assert meaning["-r"] == {"--runtime"}


def test_batch_is_the_same_kind_in_bench_and_compare() -> None:
    for command in ("bench", "compare"):
        assert re.search(r"--batch\s+N\[,N\.\.\.\]", _help(command)), command
