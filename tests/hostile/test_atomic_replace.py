"""Replacing an output: the old verified folder stays until the new one is in place, whatever kills the writer.

Kills inside ``replace_dir`` are placed exactly by a child process that patches the step it dies after;
kills of the real CLI are placed by polling for its staging folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edgekit import fileio
from edgekit.fileio import atomic_dir, atomic_path, sweep_stale, write_json_atomic
from tests.bench._tiny import tiny_onnx
from tests.hostile._interrupt import (
    SIGKILL,
    file_mode,
    hidden_entries,
    interrupt,
    run_cli,
    start_cli,
    wait_for,
)

MODEL = "squeezenet1_1"  # the quickest registry model to optimize (~4 s on 2 cores)
KILLED = -9  # Popen's returncode for a process ended by SIGKILL
UMASK = 0o027

# Dies (exit 137, no cleanup) right after one step of replacing FINAL: "between-renames" (old set aside,
# new not yet in), "after-second-rename" (new in, old not yet deleted) or "after-exchange".
_DIE_AT = """
import os, sys
from pathlib import Path
from edgekit import fileio

final, point = Path(sys.argv[1]), sys.argv[2]
if point == "after-exchange":
    exchange = fileio._exchange
    fileio._exchange = lambda a, b: os._exit(137 if exchange(a, b) else 3)
else:
    fileio._exchange = lambda a, b: False  # the portable rename-aside path
    rename = Path.rename
    def dying_rename(self, target):
        moved = rename(self, target)
        if point == ("between-renames" if ".edgekit-old-" in Path(target).name else "after-second-rename"):
            os._exit(137)
        return moved
    Path.rename = dying_rename
with fileio.atomic_dir(final) as folder:
    (folder / "model.onnx").write_text("new")
"""


def _old_output(parent: Path) -> Path:
    final = parent / "art"
    final.mkdir(parents=True)
    (final / "model.onnx").write_text("old")
    return final


def _die_while_replacing(final: Path, point: str) -> int:
    done = subprocess.run([sys.executable, "-c", _DIE_AT, str(final), point], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    return done.returncode


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _fail_writing_dir(final: Path) -> None:
    with atomic_dir(final) as folder:
        (folder / "model.onnx").write_text("half")
        raise RuntimeError("verification failed")


def _fail_writing_file(final: Path) -> None:
    with atomic_path(final) as tmp:
        tmp.write_bytes(b"partial")
        raise OSError(28, "No space left on device")


def test_replace_swaps_in_the_new_folder_and_a_failed_block_keeps_the_old(tmp_path: Path) -> None:
    final = _old_output(tmp_path)
    with pytest.raises(RuntimeError, match="verification failed"):
        _fail_writing_dir(final)
    assert (final / "model.onnx").read_text() == "old"
    with atomic_dir(final) as folder:
        (folder / "model.onnx").write_text("new")
    assert (final / "model.onnx").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["art"]


def test_kill_between_the_two_renames_gives_the_old_folder_back_on_the_next_run(tmp_path: Path) -> None:
    final = _old_output(tmp_path / "out")
    assert _die_while_replacing(final, "between-renames") == 137
    assert not final.exists()
    (aside,) = [p for p in final.parent.iterdir() if ".edgekit-old-" in p.name]
    assert (aside / "model.onnx").read_text() == "old"
    # The next run writing into the same folder (here a real export beside it) restores it first.
    source = tiny_onnx(tmp_path / "tiny.onnx")
    done = run_cli(["export", str(source), "-t", "onnxruntime-cpu", "--out", str(final.parent / "other")],
                   tmp_path / "tmproot", tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (final / "model.onnx").read_text() == "old"
    assert sorted(p.name for p in final.parent.iterdir()) == ["art", "other"]


def test_kill_after_the_second_rename_keeps_the_new_folder(tmp_path: Path) -> None:
    final = _old_output(tmp_path)
    assert _die_while_replacing(final, "after-second-rename") == 137
    assert (final / "model.onnx").read_text() == "new"
    (aside,) = hidden_entries(tmp_path)
    assert ".art.edgekit-old-" in aside
    assert sweep_stale(tmp_path) == [tmp_path / aside]
    assert [p.name for p in tmp_path.iterdir()] == ["art"]


def test_kill_right_after_the_atomic_exchange_keeps_the_new_folder(tmp_path: Path) -> None:
    final = _old_output(tmp_path)
    code = _die_while_replacing(final, "after-exchange")
    if code == 3:
        pytest.skip("renameat2(RENAME_EXCHANGE) is not available on this kernel/filesystem")
    assert code == 137
    assert (final / "model.onnx").read_text() == "new"
    (staged,) = hidden_entries(tmp_path)  # the staging name now holds the old folder
    assert (tmp_path / staged / "model.onnx").read_text() == "old"
    sweep_stale(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["art"]


def test_the_sweep_never_touches_a_live_writers_files(tmp_path: Path) -> None:
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead_pid = _dead_pid()
    try:
        names = [f".art.edgekit-stage-{live.pid}-a", f".art.edgekit-old-{live.pid}-b",
                 f".art.edgekit-stage-{dead_pid}-c", f".res.json.edgekit-stage-{dead_pid}-d",
                 ".art.unrelated"]  # fmt: skip
        for name in names[:3]:
            (tmp_path / name).mkdir()
        for name in names[3:]:
            (tmp_path / name).write_text("x")
        removed = sweep_stale(tmp_path)
        assert sorted(p.name for p in removed) == sorted(names[2:4])
        assert hidden_entries(tmp_path) == sorted([names[0], names[1], names[4]])
    finally:
        live.kill()
        live.wait()
    # Its writer gone, the set-aside folder of a missing final comes back; the staging goes.
    sweep_stale(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".art.unrelated", "art"]


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_file_writes_leave_no_staging_and_get_umask_modes(tmp_path: Path) -> None:
    previous = os.umask(UMASK)
    try:
        write_json_atomic(tmp_path / "a.json", {"x": 1})
        with pytest.raises(OSError, match="No space left"):
            _fail_writing_file(tmp_path / "b.bin")
    finally:
        os.umask(previous)
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]
    assert file_mode(tmp_path / "a.json") == 0o666 & ~UMASK


@pytest.fixture(scope="module")
def optimized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A verified optimize output, written under umask 027."""
    root = tmp_path_factory.mktemp("optimized")
    done = run_cli(["optimize", MODEL, "--out", str(root / "opt")], root / "tmproot", root, umask=UMASK)
    assert done.returncode == 0, done.stderr
    return root / "opt"


def test_optimize_killed_while_replacing_keeps_the_verified_output(optimized: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "opt"
    shutil.copytree(optimized, out)
    before = _digests(out)
    process = start_cli(["optimize", MODEL, "--out", str(out)], tmp_path / "tmproot", tmp_path)
    wait_for(lambda: hidden_entries(out.parent), process)
    code, _ = interrupt(process, SIGKILL)
    assert code == KILLED
    assert _digests(out) == before
    (staging,) = hidden_entries(out.parent)
    assert f".opt.edgekit-stage-{process.pid}-" in staging
    # The next run writing into the folder sweeps the dead run's staging; its own output lands beside.
    source = tiny_onnx(tmp_path / "tiny.onnx")
    done = run_cli(["export", str(source), "-t", "onnxruntime-cpu", "--out", str(out.parent / "exp")],
                   tmp_path / "tmproot", tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert hidden_entries(out.parent) == []
    assert _digests(out) == before


def test_optimize_and_export_outputs_have_the_same_umask_modes(optimized: Path, tmp_path: Path) -> None:
    artifact = next(optimized.glob("*.onnx"))
    done = run_cli(["export", str(artifact), "-t", "onnxruntime-cpu", "--out", str(tmp_path / "exp")],
                   tmp_path / "tmproot", tmp_path, umask=UMASK)  # fmt: skip
    assert done.returncode == 0, done.stderr
    exported = tmp_path / "exp"
    expected = {"folder": 0o777 & ~UMASK, "manifest.json": 0o666 & ~UMASK, "onnx": 0o666 & ~UMASK}
    for out in (optimized, exported):
        modes = {"folder": file_mode(out), "manifest.json": file_mode(out / "manifest.json"),
                 "onnx": file_mode(next(out.glob("*.onnx")))}  # fmt: skip
        assert modes == expected, (out, {k: oct(v) for k, v in modes.items()})


def test_the_exchange_is_used_where_the_kernel_has_it(tmp_path: Path) -> None:
    if fileio._renameat2() is None:
        pytest.skip("no renameat2 here")
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    if not fileio._exchange(a, b):
        pytest.skip("this filesystem refuses RENAME_EXCHANGE")
    assert (b / "x").read_text() == "a"
    assert not (a / "x").exists()
