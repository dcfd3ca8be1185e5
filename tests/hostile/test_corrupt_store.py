"""A corrupt, foreign or newer results store: one ``error:`` line, exit 2, and the file left as it was.

Each case damages a real store (garbage bytes, half a file, overwritten pages, a folder in its place,
another program's tables, a corrupted payload row, a newer schema version) and runs the real CLI on it:
``recommend`` on the host profile reads the store, ``bench`` opens it for writing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from edgekit.errors import StoreError
from edgekit.store import SCHEMA_VERSION, ResultsStore
from tests.hostile._boundary import assert_one_error_line, run_cli, seed_cache, snapshot, tiny_onnx
from tests.test_measured import _stored

PAGE = 4096
RECOMMEND = ["recommend", "--ram", "512MB", "--fps", "30", "--profile", "host", "--models", "mobilenet_v2",
             "--targets", "onnxruntime-cpu"]  # fmt: skip
BENCH = ["bench", "--runtime", "onnxruntime", "--warmup", "0", "--min-iters", "1", "--min-seconds", "0"]


def _good_store(path: Path) -> Path:
    """A healthy store of several pages holding the row ``recommend --profile host`` looks up."""
    store = ResultsStore(path)
    for index in range(40):
        _stored(store, f"model{index}", "fp32", "onnxruntime-cpu")
    _stored(store, "mobilenet_v2", "fp32", "onnxruntime-cpu")
    return path


def _garbage(path: Path) -> None:
    path.write_bytes(np.random.default_rng(0).bytes(8 * PAGE))


def _truncated(path: Path) -> None:
    data = _good_store(path).read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _bad_pages(path: Path) -> None:
    data = bytearray(_good_store(path).read_bytes())
    data[2 * PAGE : len(data) // 2] = b"\xde\xad" * ((len(data) // 2 - 2 * PAGE) // 2)
    path.write_bytes(bytes(data))


def _folder(path: Path) -> None:
    path.mkdir()
    (path / "keep.txt").write_text("someone's file\n")


def _sql(path: Path, *statements: str) -> None:
    db = sqlite3.connect(path)
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()


def _foreign(path: Path) -> None:
    _sql(path, "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)", "INSERT INTO users (name) VALUES ('ada')")


def _foreign_same_table_name(path: Path) -> None:
    _sql(path, "CREATE TABLE measurements (a, b)")


def _corrupt_payload(path: Path) -> None:
    _sql(_good_store(path), "UPDATE measurements SET payload = '{\"spec\": 1' WHERE model = 'mobilenet_v2'")


def _newer(path: Path) -> None:
    _sql(_good_store(path), "PRAGMA user_version = 7")


# case -> (damage, fragment the one line must hold)
READ_CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "garbage": (_garbage, "is not a valid edgekit database: file is not a database; move it away"),
    "truncated": (_truncated, "is not a valid edgekit database"),
    "bad-pages": (_bad_pages, "is not a valid edgekit database"),
    "folder": (_folder, "is not a valid edgekit database: it is a folder, not a file"),
    "foreign": (_foreign, "it holds tables users but no measurements table"),
    "foreign-columns": (_foreign_same_table_name, "table measurements lacks column(s) batch"),
    "corrupt-payload": (_corrupt_payload, "holds a corrupt payload"),
    "newer": (_newer, "written by a newer edgekit (schema version 7; this edgekit supports up to 1)"),
}
WRITE_CASES = ("garbage", "bad-pages", "folder", "foreign", "newer")


def _damaged_home(tmp_path: Path, case: str) -> tuple[Path, Path]:
    home = seed_cache(tmp_path / "home")
    store = home / "results.sqlite"
    READ_CASES[case][0](store)
    return home, store


@pytest.mark.parametrize("case", list(READ_CASES))
def test_reading_a_damaged_store_is_one_line_and_leaves_it_untouched(tmp_path: Path, case: str) -> None:
    # setup
    home, store = _damaged_home(tmp_path, case)
    before = snapshot(home)
    # execute
    run = run_cli(RECOMMEND, home, cwd=tmp_path)
    # assert
    assert_one_error_line(run, f"results store {store} ", READ_CASES[case][1])
    assert snapshot(home) == before  # not repaired, replaced, or given -wal/-shm files


@pytest.mark.parametrize("case", WRITE_CASES)
def test_bench_refuses_a_damaged_store_before_measuring(tmp_path: Path, case: str) -> None:
    home, store = _damaged_home(tmp_path, case)
    model = tiny_onnx(tmp_path / "tiny.onnx")
    before = snapshot(home)
    run = run_cli([*BENCH, str(model)], home, cwd=tmp_path)
    assert_one_error_line(run, f"results store {store} ", READ_CASES[case][1])
    assert run.stdout == ""  # refused before any cell ran
    assert snapshot(home) == before


def test_newer_store_is_never_downgraded(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    _newer(path)
    data = path.read_bytes()
    for read_only in (False, True):
        with pytest.raises(StoreError, match=r"schema version 7; this edgekit supports up to 1\)"):
            ResultsStore(path, read_only=read_only)
    assert path.read_bytes() == data
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 7


def test_opening_a_current_store_writes_nothing(tmp_path: Path) -> None:
    path = _good_store(tmp_path / "r.sqlite")
    before = snapshot(tmp_path)
    store = ResultsStore(path)
    assert store.count() == 41
    assert snapshot(tmp_path) == before
    assert SCHEMA_VERSION == 1


def test_reader_of_a_missing_store_creates_nothing(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "absent" / "r.sqlite", read_only=True)
    assert (store.count(), store.query(model="resnet18")) == (0, [])
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(StoreError, match="opened read-only"):
        store.put_record("accuracy", "k", "{}")


def test_an_empty_file_becomes_a_store(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    path.touch()
    assert ResultsStore(path, read_only=True).count() == 0  # a reader does not create the tables
    assert path.stat().st_size == 0
    ResultsStore(path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
