"""Real edgekit processes to interrupt: start the CLI, wait (bounded) for a point, send a signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from edgekit.fileio import TMP_ENV
from edgekit.paths import HOME_ENV

# The console script's body: the same main() as `.venv/bin/edgekit`, importable without installing.
_ENTRY = "from edgekit.cli.main import main; main()"
POLL_S = 0.02
WAIT_S = 120.0  # generous for a loaded 2-core host; a healthy run reaches each point in seconds


def cli_env(tmp_root: Path) -> dict[str, str]:
    """The session's EDGEKIT_HOME (warm caches) and a private temp root the test can inspect."""
    return os.environ | {TMP_ENV: str(tmp_root), HOME_ENV: os.environ[HOME_ENV], "PYTHONWARNINGS": "ignore"}


def start_cli(args: list[str], tmp_root: Path, cwd: Path, umask: int | None = None) -> subprocess.Popen[str]:
    """Start ``edgekit ARGS`` as its own process (stdout/stderr captured)."""
    return subprocess.Popen([sys.executable, "-c", _ENTRY, *args], cwd=cwd, env=cli_env(tmp_root), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            umask=-1 if umask is None else umask)  # fmt: skip


def run_cli(args: list[str], tmp_root: Path, cwd: Path, umask: int | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``edgekit ARGS`` to completion."""
    process = start_cli(args, tmp_root, cwd, umask)
    stdout, stderr = process.communicate(timeout=WAIT_S)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def wait_for(condition: Callable[[], object], process: subprocess.Popen[str] | None = None,
             timeout: float = WAIT_S) -> object:  # fmt: skip
    """Poll until ``condition()`` is truthy; fail if it times out or ``process`` ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            raise AssertionError(f"process ended (exit {process.returncode}) first: {process.stderr.read()[-2000:]}")
        time.sleep(POLL_S)
    if process is not None:
        process.kill()  # a run that never reached the point must not outlive the test
    raise AssertionError(f"timed out after {timeout:g} s waiting for {condition}")


def interrupt(process: subprocess.Popen[str], signum: int) -> tuple[int, str]:
    """Send ``signum``, return (exit code, stderr) once the process is gone."""
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=WAIT_S)
    return process.returncode, stderr


def hidden_entries(folder: Path) -> list[str]:
    """Names of the staging / set-aside entries in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) if folder.is_dir() else []


def run_dirs(tmp_root: Path) -> list[Path]:
    """The per-run temp folders under the temp root."""
    return sorted(tmp_root.glob("run-*")) if tmp_root.is_dir() else []


def temp_leftovers(tmp_root: Path) -> list[Path]:
    """Everything under the temp root (which the last run removes when it made it and leaves it empty)."""
    return sorted(tmp_root.rglob("*")) if tmp_root.exists() else []


def bench_child(parent: subprocess.Popen[str]) -> psutil.Process | None:
    """The benchmark child process of a running `edgekit bench`, once it has started."""
    with_child = [c for c in psutil.Process(parent.pid).children() if "edgekit.bench._child" in " ".join(_cmd(c))]
    return with_child[0] if with_child else None


def _cmd(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def file_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


SIGKILL, SIGTERM = signal.SIGKILL, signal.SIGTERM
