"""`edgekit profiles`: table and JSON, every number with its source."""

import json

from typer.testing import CliRunner

from edgekit.cli.main import app

runner = CliRunner()


def test_profiles_json_carries_sources() -> None:
    result = runner.invoke(app, ["profiles", "raspberry-pi-4", "--json"])
    assert result.exit_code == 0
    (profile,) = json.loads(result.stdout)
    assert profile["memory"]["ram_total_mb"]["value"] == 4096
    watts = profile["power_modes"][0]["watts"]
    assert (watts["value"], watts["kind"]) == (5.0, "measured")
    assert "geerlingguy/sbc-reviews" in watts["source"]


def test_profiles_table_marks_kinds() -> None:
    result = runner.invoke(app, ["profiles", "jetson-*"])
    assert result.exit_code == 0
    assert "jetson-orin-nano" in result.stdout
    assert "m measured, d derived, e estimated" in result.stdout
    assert "4 profiles." in result.stdout


def test_profiles_unknown_pattern_is_one_error_line() -> None:
    # issue 17: a pattern that matches nothing is said, not an empty list with exit 0
    result = runner.invoke(app, ["profiles", "nothing*", "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "error: no profile matches 'nothing*'; see `edgekit profiles` for the list"
    ]
