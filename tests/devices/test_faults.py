"""Faults of a device link, each against the real loopback sshd: one line per failed cell, exit 1,
every cell measured before the fault kept in the store, nothing half-written."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from edgekit.cli.main import app
from edgekit.devices.ssh import SSH_OPTIONS_ENV
from edgekit.paths import HOME_ENV
from edgekit.store import ResultsStore
from tests.devices._boards import faulty_python, minimal_python
from tests.devices._sshd import Sshd, keygen
from tests.devices.conftest import loop_board, write_devices

runner = CliRunner()
QUICK = ["--warmup", "1", "--min-iters", "3", "--min-seconds", "0"]
WAIT_S = 60.0


def _bench(tiny: Path, *more: str) -> object:
    return runner.invoke(app, ["bench", str(tiny), "--on", "loop", "--batch", "1,2", *QUICK, *more])


def _errors(result: object) -> list[str]:
    assert "Traceback" not in result.output  # type: ignore[attr-defined]
    return [line for line in result.stderr.strip().splitlines() if line.startswith("error: ")]  # type: ignore[attr-defined]


def _set_board(home: Path, sshd: Sshd, tmp_path: Path, **more: object) -> None:
    write_devices(home, loop_board(sshd, more.pop("python"), tmp_path / "board-cache", **more))


def test_unreachable_board_is_one_line_and_exit_1(home: Path, sshd: Sshd, tiny: Path, tmp_path: Path,
                                                   board_python: Path) -> None:  # fmt: skip
    closed = sshd.port + 1 if sshd.port < 65535 else sshd.port - 1  # nothing listens there (sshd takes one port)
    write_devices(home, loop_board(sshd, board_python, tmp_path / "c", link=f"ssh://{sshd.user}@127.0.0.1:{closed}"))
    result = _bench(tiny)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"error: ssh://{sshd.user}@127.0.0.1:{closed}: board unreachable "
        f"(ssh: connect to host 127.0.0.1 port {closed}: Connection refused)"
    ]
    assert ResultsStore().count() == 0


def test_refused_authentication_says_so(home: Path, sshd: Sshd, tiny: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    stranger = keygen(tmp_path / "stranger")
    monkeypatch.setenv(SSH_OPTIONS_ENV, shlex.join(sshd.client_options(key=stranger)))
    result = _bench(tiny)
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {sshd.link}: authentication refused (")
    assert "Permission denied" in line
    assert "keys or agent only" in line
    assert ResultsStore().count() == 0


def test_runtime_missing_on_the_board_fails_each_cell(home: Path, sshd: Sshd, tiny: Path, tmp_path: Path) -> None:
    _set_board(home, sshd, tmp_path, python=minimal_python(tmp_path / "numpy-only", packages=("numpy",)))
    result = _bench(tiny)
    assert result.exit_code == 1
    assert _errors(result) == [
        f"error: tiny.onnx onnxruntime-cpu batch {b} on loop: {sshd.link}: onnxruntime-cpu: onnxruntime is not "
        "installed on the board (there: python3 -m pip install onnxruntime)"
        for b in (1, 2)
    ]
    assert ResultsStore().count() == 0
    check = json.loads(runner.invoke(app, ["device", "check", "loop", "--json"]).stdout)
    assert check["runtimes"] == {"onnxruntime-cpu": "onnxruntime is not installed",
                                 "openvino-cpu": "openvino is not installed"}  # fmt: skip


@pytest.mark.parametrize(
    ("fault", "extra", "message"),
    [
        ("garbage", [], "the board runner printed something that is not its reply "
                        "('Welcome to the board! Last login: yesterday')"),
        pytest.param("hang", ["--timeout", "2"], "no answer within 7 s (the board or its runner hangs)",
                     marks=pytest.mark.slow),
        pytest.param("killed", ["--min-seconds", "4"], "the board runner died without a reply "
                     "(killed by a signal, or the board went away)", marks=pytest.mark.slow),
    ],
)  # fmt: skip
def test_a_runner_fault_fails_its_cell_and_keeps_the_cells_before(
    home: Path, sshd: Sshd, tiny: Path, tmp_path: Path, board_python: Path, fault: str, extra: list[str], message: str
) -> None:
    _set_board(home, sshd, tmp_path, python=faulty_python(tmp_path / fault, board_python, fault, from_call=2))
    started = time.monotonic()
    result = _bench(tiny, *extra)
    assert time.monotonic() - started < WAIT_S
    assert result.exit_code == 1
    (line,) = _errors(result)
    assert line.startswith(f"error: tiny.onnx onnxruntime-cpu batch 2 on loop: {sshd.link}: {message}")
    stored = ResultsStore().query(model="tiny.onnx")
    assert [r.spec.batch for r in stored] == [1]  # the cell measured before the fault is kept
    assert "tiny.onnx" in result.stdout  # and shown


def _cli(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    # Its own process group, as a terminal's foreground job: Ctrl-C reaches edgekit and its ssh children.
    command = [sys.executable, "-c", "from edgekit.cli.main import main; main()", *args]
    return subprocess.Popen(command, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)  # fmt: skip


def _runners_left(cache: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline", "name"]):
        if any(str(cache) in part for part in process.info["cmdline"] or []):
            found.append(process)
    return found


def _wait_gone(cache: Path) -> list[psutil.Process]:
    deadline = time.monotonic() + 15
    while _runners_left(cache) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _runners_left(cache)


@pytest.mark.parametrize(
    "how",
    ["ctrl-c", pytest.param("sigterm", marks=pytest.mark.slow), pytest.param("board-lost", marks=pytest.mark.slow)],
)
def test_an_interrupted_run_keeps_whole_rows_and_leaves_no_runner(home: Path, sshd: Sshd, tiny: Path, how: str,
                                                                   tmp_path: Path) -> None:  # fmt: skip
    env = os.environ | {HOME_ENV: str(home), "PYTHONPATH": os.pathsep.join(sys.path), "PYTHONWARNINGS": "ignore"}
    # Batch 1 is measured and stored; then batch 2 measures for 20 s and is interrupted once it runs on the board.
    first = _cli(["bench", str(tiny), "--on", "loop", "--batch", "1", *QUICK], env)
    assert first.wait(WAIT_S) == 0, first.communicate()
    first.communicate()
    store = ResultsStore()
    process = _cli(["bench", str(tiny), "--on", "loop", "--batch", "2", "--warmup", "1", "--min-iters", "3",
                    "--min-seconds", "20", "--fresh"], env)  # fmt: skip
    cache = tmp_path / "board-cache"
    deadline = time.monotonic() + WAIT_S
    # The runner itself, not the local ssh client whose command line names it too.
    while not any(p.info["cmdline"][-1] == "bench" and p.info["name"] != "ssh" for p in _runners_left(cache)):
        assert time.monotonic() < deadline
        assert process.poll() is None
        time.sleep(0.05)
    if how == "ctrl-c":
        os.killpg(process.pid, signal.SIGINT)
    elif how == "sigterm":
        process.send_signal(signal.SIGTERM)
    else:  # the board vanishes while it measures: kill the sshd processes serving our connections
        for child in psutil.Process(sshd.pid).children():
            child.kill()
    _, stderr = process.communicate(timeout=WAIT_S)
    assert process.returncode == {"ctrl-c": 130, "sigterm": 143, "board-lost": 1}[how], stderr
    assert "Traceback" not in stderr
    rows = store.query(model="tiny.onnx")  # every row whole (the store validates each payload)
    assert [r.spec.batch for r in rows] == [1]
    assert rows[0].stats.iters >= 3
    assert _wait_gone(cache) == []  # the runner noticed its caller was gone and stopped measuring
    if how == "board-lost":  # ssh says the connection closed, or (when the session dies first) nothing at all
        (line,) = stderr.strip().splitlines()
        assert line in [f"error: tiny.onnx onnxruntime-cpu batch 2 on loop: {sshd.link}: {end}" for end in (
            "lost the connection to the board (Connection to 127.0.0.1 closed by remote host.)",
            "the board runner died without a reply (killed by a signal, or the board went away)")]  # fmt: skip
