"""Listing commands: a plain word matches as a substring, no match is an error, counts are singular when one."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from edgekit.cli.main import app

runner = CliRunner()


def test_a_plain_word_matches_as_a_substring() -> None:
    result = runner.invoke(app, ["models", "mobilenet"])
    assert result.exit_code == 0, result.output
    for name in ("mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"):
        assert name in result.stdout
    assert "3 models." in result.stdout


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["models", "mobilnet"],
            "error: no model matches 'mobilnet'; did you mean mobilenet_v2, mobilenet_v3_small, mobilenet_v3_large?",
        ),  # fmt: skip
        (["models", "zz*"], "error: no model matches 'zz*'; see `edgekit models` for the list"),
        (["targets", "zzz"], "error: no target matches 'zzz'; see `edgekit targets` for the list"),
        (["recommend", "--ram", "512", "--fps", "30"], "error: memory size '512' needs a unit, e.g. 512MB or 512MiB"),
    ],
)
def test_nothing_matches_or_no_unit_is_one_error_line(args: list[str], line: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [line]
    assert result.stdout == ""


def test_one_of_a_kind_is_singular() -> None:
    profiles = runner.invoke(app, ["profiles", "rk3588"], env={"COLUMNS": "250"})
    assert "1 profile. Sources" in profiles.stdout
    recommend = runner.invoke(app, ["recommend", "--ram", "512MB", "--fps", "30", "-p", "rk3588", "-m", "resnet18"],
                              env={"COLUMNS": "250"})  # fmt: skip
    assert "— 1 profile × 1 model →" in recommend.stdout
