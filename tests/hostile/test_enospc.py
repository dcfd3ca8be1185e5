"""A full disk while writing: one ``error:`` line naming ENOSPC, exit 2, nothing half-written left behind.

The disk is a small tmpfs filled to the last block (skipped where the tests cannot mount).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from edgekit.store import ResultsStore
from tests.hostile._boundary import assert_one_error_line, fill_up, run_cli, seed_cache, tiny_onnx, tmpfs

BENCH = ["bench", "--runtime", "onnxruntime", "--warmup", "0", "--min-iters", "1", "--min-seconds", "0"]


def test_export_onto_a_full_disk(tmp_path: Path) -> None:
    # setup
    model = tiny_onnx(tmp_path / "tiny.onnx")
    home = seed_cache(tmp_path / "home")
    with tmpfs(tmp_path / "disk", size="256k") as disk:
        fill_up(disk)
        # execute
        run = run_cli(["export", str(model), "--target", "onnxruntime-cpu", "--out", str(disk / "out")], home)
        left = sorted(p.name for p in disk.iterdir())
    # assert
    assert_one_error_line(run, "no space left on device", "(ENOSPC); free some space or write elsewhere")
    assert left == ["filler"]  # neither the artifact nor a staging folder


def test_bench_result_onto_a_full_disk_keeps_the_store(tmp_path: Path) -> None:
    model = tiny_onnx(tmp_path / "tiny.onnx")
    with tmpfs(tmp_path / "home", size="512k") as home:
        seed_cache(home)
        store = home / "results.sqlite"
        ResultsStore(store)
        digest = hashlib.sha256(store.read_bytes()).hexdigest()
        fill_up(home)
        run = run_cli([*BENCH, str(model)], home, tmp=tmp_path)
        assert hashlib.sha256(store.read_bytes()).hexdigest() == digest
        (home / "filler").unlink()
        assert ResultsStore(store).count() == 0
    assert_one_error_line(run, f"results store {store}: no space left on device",
                          "free some space or set EDGEKIT_HOME to another folder")  # fmt: skip
