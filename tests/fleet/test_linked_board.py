"""A board that cannot run Ray, measured over its ssh link by the fleet node that advertises it (`fleet join --link`).

The board is the real loopback sshd of the device-link tests with a minimal board Python; the node is a real Ray
worker whose raylet was started with the environment `fleet join --link` gives it.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edgekit.bench import ArtifactSource, BenchConfig, BenchResult, BenchSpec
from edgekit.devices.check import RUNNER_TOOL, probe
from edgekit.devices.config import board_from_config, load_devices
from edgekit.devices.ssh import SSH_OPTIONS_ENV
from edgekit.fleet import FleetCell, resource_name, run_sweep
from edgekit.fleet._cluster import join_env
from edgekit.paths import HOME_ENV
from edgekit.profiles import get_profile
from edgekit.store import ResultsStore
from tests.devices._sshd import Sshd
from tests.devices.conftest import board_python, loop_board, sshd, write_devices  # noqa: F401 (session fixtures)
from tests.fleet.conftest import LocalFleet

pytestmark = pytest.mark.fleet
REPO = Path(__file__).resolve().parents[2]
RK = "rk3588"  # a profile no other node of the test cluster advertises


def _wait_gone(node_id: str, timeout_s: float = 20.0) -> None:
    import ray

    deadline = time.monotonic() + timeout_s
    while any(n["NodeID"] == node_id and n["Alive"] for n in ray.nodes()) and time.monotonic() < deadline:
        time.sleep(0.2)


def test_a_cell_on_a_linked_board_is_measured_over_ssh_through_its_node(
    fleet: LocalFleet, sshd: Sshd, board_python: Path, tiny_models: list[Path], tmp_path: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    node_home = tmp_path / "node-home"  # the node's own devices.yaml: the board's Python and cache folder
    write_devices(node_home, loop_board(sshd, board_python, tmp_path / "board-cache", id="rock5", profile=RK))
    env = join_env(sshd.link) | {SSH_OPTIONS_ENV: shlex.join(sshd.client_options()), HOME_ENV: str(node_home)}
    node = fleet.cluster.add_node(num_cpus=1, resources={resource_name(RK): 1}, env_vars=env)
    fleet.cluster.wait_for_nodes()
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))  # the workstation's store
    try:
        spec = BenchSpec(source=ArtifactSource(path=tiny_models[0]), runtime="onnxruntime-cpu", threads=1,
                         model="tiny0")  # fmt: skip
        store = ResultsStore(tmp_path / "results.sqlite")
        report = run_sweep([FleetCell(spec=spec, profile=RK)], BenchConfig(warmup=1, min_iters=5, min_seconds=0.2),
                           store=store)  # fmt: skip
    finally:
        fleet.cluster.remove_node(node, allow_graceful=False)
        _wait_gone(node.node_id)  # the other fleet tests see only their two boards
    (outcome,) = report.outcomes
    assert outcome.record.status == "measured", outcome.record.error
    assert outcome.record.node_id == node.node_id  # the node advertising the board's resource ran it
    (row,) = store.query()
    assert row.board is not None
    assert (row.board.id, row.board.profile, row.board.link) == ("rock5", RK, sshd.link)
    assert row.stats.iters >= 5
    # The board's fingerprint (read by the board runner over ssh), not the node's.
    monkeypatch.setenv(HOME_ENV, str(node_home))
    monkeypatch.setenv(SSH_OPTIONS_ENV, shlex.join(sshd.client_options()))
    board_check = probe(board_from_config(load_devices().boards[0]), get_profile(RK))
    assert row.fingerprint.id == board_check.fingerprint.id
    assert RUNNER_TOOL in row.fingerprint.tool_versions
    assert row.runtime_versions.keys() >= {RUNNER_TOOL, "onnxruntime"}
    assert any(p.suffix == ".onnx" for p in (tmp_path / "board-cache").iterdir())  # shipped to the board's cache


def _edgekit(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "import sys; from edgekit.cli.main import main; sys.argv[0] = 'edgekit'; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=180,
                          env=os.environ | env, check=False)  # fmt: skip


@pytest.mark.slow  # a head and a node started by `ray start`, then a cell over ssh
def test_fleet_join_link_then_bench_on_fleet_measures_on_the_board_over_ssh(
    sshd: Sshd, board_python: Path, tiny_models: list[Path], tmp_path: Path,  # noqa: F811
) -> None:  # fmt: skip
    home = tmp_path / "home"  # the workstation's and the node's (one machine): the store and devices.yaml
    write_devices(home, loop_board(sshd, board_python, tmp_path / "board-cache", id="rock5", profile=RK))
    env = {HOME_ENV: str(home), SSH_OPTIONS_ENV: shlex.join(sshd.client_options()), "PYTHONPATH": str(REPO)}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    up = _edgekit("fleet", "up", "--port", str(port), env=env)
    assert up.returncode == 0, up.stderr
    try:
        joined = _edgekit("fleet", "join", "--profile", RK, "--num-cpus", "1", "--link", sshd.link, env=env)
        assert joined.returncode == 0, joined.stderr
        assert joined.stdout.startswith(f"joined: EDGEKIT_FLEET_BOARD_LINK={sshd.link} ")
        done = _edgekit("bench", str(tiny_models[1]), "-r", "onnxruntime", "--threads", "1", "--warmup", "1",
                        "--min-iters", "5", "--min-seconds", "0.2", "--on", "fleet", "--json", env=env)  # fmt: skip
    finally:
        down = _edgekit("fleet", "down", env=env)
    assert down.returncode == 0, down.stderr
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)["results"]
    result = BenchResult.model_validate(row["result"])
    assert result.board is not None
    assert (result.board.id, result.board.profile, result.board.link) == ("rock5", RK, sshd.link)
    assert RUNNER_TOOL in result.fingerprint.tool_versions  # the board runner's fingerprint, not the node's
    (stored,) = ResultsStore(home / "results.sqlite").query()
    assert stored.run_id == result.run_id
