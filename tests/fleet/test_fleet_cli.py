"""`edgekit sweep` and `edgekit fleet` without a cluster: bad input, the missing extra, the join line."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edgekit.cli.main import app

REPO = Path(__file__).resolve().parents[2]
NO_RAY = Path(__file__).resolve().parent / "_no_ray"  # a sitecustomize that makes `import ray` fail
EXTRA_LINE = "pip install 'edgekit[fleet]'"
runner = CliRunner()


def _edgekit_without_ray(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(NO_RAY), str(REPO)]), "EDGEKIT_HOME": str(home)}
    code = "import sys; from edgekit.cli.main import main; sys.argv[0] = 'edgekit'; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120,
                          check=False)  # fmt: skip


def test_a_bad_sweep_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "sweep.yaml"
    bad.write_text("models: [resnet18]\nprofiles: [raspberry-pi-5]\nprotocol: {min_iters: 0}\ncolour: red\n")
    result = runner.invoke(app, ["sweep", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: invalid sweep sweep.yaml: protocol.min_iters: Input should be greater than or equal to 1; "
        "colour: Extra inputs are not permitted"
    ]
    bad.write_text("models: [resnet18]\nprofiles: [raspbery-pi-5]\n")
    result = runner.invoke(app, ["sweep", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["error: unknown profile 'raspbery-pi-5'; did you mean raspberry-pi-5, "
                                          "raspberry-pi-4?"]  # fmt: skip
    bad.write_text("models: [missing.onnx]\nprofiles: [raspberry-pi-5]\n")
    result = runner.invoke(app, ["sweep", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: sweep sweep.yaml: {tmp_path / 'missing.onnx'} is neither a registry model nor a file"
    ]


def test_without_ray_fleet_commands_fail_in_one_line_naming_the_extra(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("models: [resnet18]\nprofiles: [raspberry-pi-5]\n")
    on_fleet = (["bench", "resnet18", "--on", "fleet"], ["compare", "resnet18", "--on", "fleet"],
                ["recommend", "--ram", "1GB", "--fps", "1", "--measure", "--on", "fleet"])  # fmt: skip
    for args in (["sweep", str(sweep)], ["fleet", "status"], ["fleet", "up"], *on_fleet):
        done = _edgekit_without_ray(*args, home=tmp_path / "home")
        assert done.returncode == 2, done.stderr
        (line,) = done.stderr.splitlines()
        assert line.startswith("error: fleet features need Ray, which is not installed here")
        assert line.endswith(EXTRA_LINE)
    assert not (tmp_path / "home" / "cache" / "variants").exists()  # no artifact was built before the refusal


def test_without_ray_recommend_is_unchanged(tmp_path: Path) -> None:
    done = _edgekit_without_ray("recommend", "--ram", "512MB", "--fps", "30", "--json", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["feasible"]


def test_fleet_join_prints_the_ray_start_line() -> None:
    pytest.importorskip("ray")
    result = runner.invoke(app, ["fleet", "join", "--print", "--address", "10.0.0.2:6379", "--profile",
                                 "raspberry-pi-5", "--num-cpus", "4"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    line = result.stdout.strip()
    assert line.endswith("ray start --address=10.0.0.2:6379 '--resources={\"edgekit-device:raspberry-pi-5\": 1}' "
                         "--num-cpus=4")  # fmt: skip


def test_fleet_refuses_options_of_other_actions_and_unknown_actions() -> None:
    result = runner.invoke(app, ["fleet", "status", "--print"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["error: --print is an option of `fleet join`, not of `fleet status`"]
    result = runner.invoke(app, ["fleet", "start"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["error: fleet takes one of up, join, status, down, got 'start'"]
    result = runner.invoke(app, ["fleet", "join", "--print", "--profile", "raspberry-pi-5"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: fleet join needs --address (the head's ip:port) and --profile (the board's profile)"
    ]


def test_fleet_join_link_starts_the_node_with_the_boards_link_in_its_environment() -> None:
    pytest.importorskip("ray")
    result = runner.invoke(app, ["fleet", "join", "--print", "--address", "10.0.0.2:6379", "--profile", "rk3588",
                                 "--link", "ssh://radxa@10.0.0.7:2222"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    words = shlex.split(result.stdout.strip())
    assert words[0] == "EDGEKIT_FLEET_BOARD_LINK=ssh://radxa@10.0.0.7:2222"
    assert words[2:] == ["start", "--address=10.0.0.2:6379", '--resources={"edgekit-device:rk3588": 1}']
    for link, line in [
        ("local", "error: --link names the ssh://user@host[:port] of a board that cannot run Ray, not local"),
        ("pi@host", "error: not a device link: 'pi@host'; use local or ssh://user@host[:port] (passwords are never "
                    "part of a link: ssh uses your keys or agent)"),
    ]:  # fmt: skip
        result = runner.invoke(app, ["fleet", "join", "--print", "--address", "10.0.0.2:6379", "--profile", "rk3588",
                                     "--link", link])  # fmt: skip
        assert result.exit_code == 2
        assert result.stderr.splitlines() == [line]
    result = runner.invoke(app, ["fleet", "status", "--link", "ssh://a@b"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["error: --link is an option of `fleet join`, not of `fleet status`"]
