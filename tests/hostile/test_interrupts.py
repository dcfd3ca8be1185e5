"""Interrupted runs: SIGTERM exits 143 after cleaning up, a SIGKILLed run's leftovers go with the next run,
a live run's never, and a benchmark child dies with its parent."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import psutil
import pytest

from edgekit.fileio import run_temp_dir
from tests.bench._tiny import tiny_onnx
from tests.hostile._interrupt import (
    SIGKILL,
    SIGTERM,
    bench_child,
    hidden_entries,
    interrupt,
    run_cli,
    run_dirs,
    start_cli,
    temp_leftovers,
    wait_for,
)

MODEL = "squeezenet1_1"
TERMINATED = 143  # 128 + SIGTERM, what the CLI's handler exits with
KILLED = -9
CHILD_GONE_S = 10.0


def _gone(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _export_temp_files(tmp_root: Path) -> list[Path]:
    """The files a registry export has built in its temp folder so far (parent.onnx first)."""
    return [p for p in tmp_root.glob("run-*/edgekit-target-*/work/*.onnx") if p.stat().st_size]


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return tiny_onnx(tmp_path / "tiny.onnx")


def _long_bench(tiny: Path, tmp_root: Path, cwd: Path) -> tuple[subprocess.Popen[str], psutil.Process]:
    process = start_cli(["bench", str(tiny), "-r", "onnxruntime", "--min-seconds", "120", "--fresh"], tmp_root, cwd)
    child = wait_for(lambda: bench_child(process), process)
    assert isinstance(child, psutil.Process)
    return process, child


def test_sigterm_during_optimize_exits_143_and_leaves_nothing(tmp_path: Path) -> None:
    tmp_root, out = tmp_path / "tmproot", tmp_path / "out" / "opt"
    process = start_cli(["optimize", MODEL, "--out", str(out)], tmp_root, tmp_path)
    wait_for(lambda: hidden_entries(out.parent), process)  # the staging folder is being written
    code, stderr = interrupt(process, SIGTERM)
    assert (code, stderr) == (TERMINATED, "")
    assert list(out.parent.iterdir()) == []
    assert temp_leftovers(tmp_root) == []


def test_sigterm_during_export_removes_its_temp_files(tmp_path: Path) -> None:
    tmp_root, out = tmp_path / "tmproot", tmp_path / "out" / "exp"
    process = start_cli(["export", MODEL, "-t", "onnxruntime-cpu", "--out", str(out)], tmp_root, tmp_path)
    wait_for(lambda: _export_temp_files(tmp_root), process)
    code, stderr = interrupt(process, SIGTERM)
    assert (code, stderr) == (TERMINATED, "")
    assert not out.parent.exists() or list(out.parent.iterdir()) == []
    assert temp_leftovers(tmp_root) == []


def test_a_killed_runs_temp_files_go_with_the_next_run_a_live_runs_stay(tiny: Path, tmp_path: Path) -> None:
    tmp_root = tmp_path / "tmproot"
    killed = start_cli(["export", MODEL, "-t", "onnxruntime-cpu", "--out", str(tmp_path / "exp")], tmp_root, tmp_path)
    (built, *_) = wait_for(lambda: _export_temp_files(tmp_root), killed)  # type: ignore[misc]
    assert interrupt(killed, SIGKILL)[0] == KILLED
    assert built.is_file()  # kill -9 runs no cleanup: the next run's job
    (killed_dir,) = run_dirs(tmp_root)
    assert killed_dir.name.startswith(f"run-{killed.pid}-")
    live, child = _long_bench(tiny, tmp_root, tmp_path)
    try:
        done = run_cli(["recipes", "fp32"], tmp_root, tmp_path)
        assert done.returncode == 0, done.stderr
        assert [d.name.split("-")[1] for d in run_dirs(tmp_root)] == [str(live.pid)]
        assert not killed_dir.exists()
    finally:
        live.kill()
        live.communicate()
    try:
        assert wait_for(lambda: _gone(child), timeout=CHILD_GONE_S)
    finally:
        _reap(child)


def _reap(child: psutil.Process) -> None:
    """Kill a child the test expected to be gone (a failing test must not leave it running)."""
    if not _gone(child):
        child.kill()


def test_a_killed_bench_takes_its_child_with_it(tiny: Path, tmp_path: Path) -> None:
    process, child = _long_bench(tiny, tmp_path / "tmproot", tmp_path)
    try:
        assert interrupt(process, SIGKILL)[0] == KILLED
        assert wait_for(lambda: _gone(child), timeout=CHILD_GONE_S)
    finally:
        _reap(child)


def test_sigterm_during_bench_exits_143_stops_the_child_and_cleans_up(tiny: Path, tmp_path: Path) -> None:
    tmp_root = tmp_path / "tmproot"
    process, child = _long_bench(tiny, tmp_root, tmp_path)
    try:
        code, stderr = interrupt(process, SIGTERM)
        assert (code, stderr) == (TERMINATED, "")
        assert _gone(child)  # killed and waited for by the parent before it exited
    finally:
        _reap(child)
    assert temp_leftovers(tmp_root) == []


def test_a_runs_temp_folder_catches_tempfile_and_tmpdir_and_goes_at_the_end(tmp_path: Path) -> None:
    root, before = tmp_path / "tmproot", (tempfile.gettempdir(), os.environ.get("TMPDIR"))
    with run_temp_dir(root) as folder:
        assert folder is not None
        assert folder.parent == root
        assert folder.name.startswith(f"run-{os.getpid()}-")
        made = Path(tempfile.mkdtemp(prefix="edgekit-target-"))
        assert made.parent == folder
        assert os.environ["TMPDIR"] == str(folder)  # child processes inherit it
    assert (tempfile.gettempdir(), os.environ.get("TMPDIR")) == before
    assert not root.exists()  # made by this run, left empty
    kept = tmp_path / "given"
    kept.mkdir()
    with run_temp_dir(kept):
        pass
    assert kept.is_dir()
    assert list(kept.iterdir()) == []


def test_a_temp_root_someone_else_controls_is_not_used(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / "edgekit-0"
    link.symlink_to(target)
    with run_temp_dir(link) as folder:
        assert folder is None
        assert tempfile.gettempdir() != str(target)
    assert list(target.iterdir()) == []
