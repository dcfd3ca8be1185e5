"""`edgekit fleet up / join / status / down` as a user runs them: real `ray start` processes on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.fleet
REPO = Path(__file__).resolve().parents[2]


def _edgekit(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"EDGEKIT_HOME": str(home), "PYTHONPATH": str(REPO)}
    code = "import sys; from edgekit.cli.main import main; sys.argv[0] = 'edgekit'; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=180,
                          check=False)  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _processes_under(folder: str) -> list[int]:
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "status"]):
        if proc.info["status"] != psutil.STATUS_ZOMBIE and any(folder in a for a in proc.info["cmdline"] or []):
            found.append(proc.pid)
    return found


def test_up_join_status_down(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    port = _free_port()
    up = _edgekit("fleet", "up", "--port", str(port), "--json", home=tmp_path)
    assert up.returncode == 0, up.stderr
    state = json.loads(up.stdout)
    try:
        assert state["address"] == f"127.0.0.1:{port}"
        assert state["started_here"] is True
        assert _processes_under(state["temp_dir"])  # the head's processes live in its own Ray folder
        joined = _edgekit("fleet", "join", "--profile", "rk3588", "--num-cpus", "1", home=tmp_path)  # saved address
        assert joined.returncode == 0, joined.stderr
        assert joined.stdout.startswith("joined: ")
        assert joined.stdout.rstrip().endswith(
            f"ray start --address=127.0.0.1:{port} '--resources={{\"edgekit-device:rk3588\": 1}}' --num-cpus=1"
        )
        shown = _edgekit("fleet", "status", "--json", home=tmp_path)
        assert shown.returncode == 0, shown.stderr
        status = json.loads(shown.stdout)
        assert status["nodes"] == 2  # the head (no board) and the joined node
        ((board),) = status["boards"]
        assert board["profiles"] == ["rk3588"]
        assert board["alive"] is True
        assert board["running"] is None
    finally:
        down = _edgekit("fleet", "down", home=tmp_path)
    assert down.returncode == 0, down.stderr
    assert down.stdout.strip() == f"fleet at 127.0.0.1:{port} stopped"
    assert _processes_under(state["temp_dir"]) == []
    assert not (tmp_path / "fleet.json").exists()
    gone = _edgekit("fleet", "status", home=tmp_path)
    assert gone.returncode == 2
    (line,) = gone.stderr.splitlines()
    assert line.startswith("error: no Ray cluster at auto")
