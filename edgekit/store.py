"""SQLite results store: every measurement kept, looked up by what makes it comparable.

The key of a measurement is (model, variant, runtime, batch, threads, host fingerprint,
config hash). Rows are never overwritten: a ``--fresh`` run appends a newer row and lookups
return the newest. The database lives in ``$EDGEKIT_HOME/results.sqlite`` (the platform's
user data dir by default).

Concurrency: WAL journal (readers never block the writer), a busy timeout, and one short
``BEGIN IMMEDIATE`` transaction per write, with a fresh connection per operation — so two
processes writing at once both succeed and lose nothing.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from edgekit.bench.run import BenchResult
from edgekit.paths import edgekit_home

STORE_FILENAME = "results.sqlite"
SCHEMA_VERSION = 1
# Writers wait this long for the lock; a bench row is written in milliseconds, so 60 s only
# runs out if another process holds the database open in a transaction for that long.
BUSY_TIMEOUT_MS = 60_000
KEY_COLUMNS = ("model", "variant", "runtime", "batch", "threads", "fingerprint", "config_hash")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS measurements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model TEXT NOT NULL, variant TEXT NOT NULL, runtime TEXT NOT NULL,
    batch INTEGER NOT NULL, threads INTEGER NOT NULL,
    fingerprint TEXT NOT NULL, config_hash TEXT NOT NULL,
    created_at TEXT NOT NULL, payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS measurements_by_key
    ON measurements (model, variant, runtime, batch, threads, fingerprint, config_hash, id);
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL, key TEXT NOT NULL, created_at TEXT NOT NULL, payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_key ON records (kind, key, id);
"""


class MeasurementKey(BaseModel):
    """What makes two measurements comparable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    variant: str
    runtime: str
    batch: int
    threads: int
    fingerprint: str
    config_hash: str

    @classmethod
    def of(cls, result: BenchResult) -> MeasurementKey:
        """The key of a measured result."""
        s = result.spec
        return cls(model=s.model, variant=s.variant, runtime=s.runtime, batch=s.batch, threads=s.threads,
                   fingerprint=result.fingerprint.id, config_hash=result.config_hash)  # fmt: skip


def default_store_path() -> Path:
    """``$EDGEKIT_HOME/results.sqlite``."""
    return edgekit_home() / STORE_FILENAME


class ResultsStore:
    """Benchmark results (and other keyed records, e.g. accuracy runs) in one SQLite file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else default_store_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")  # persistent: set once, applies to every connection
            with _write(db):
                _create(db)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            yield db
        finally:
            db.close()

    def put(self, result: BenchResult) -> int:
        """Append a measurement; returns its row id."""
        key = MeasurementKey.of(result)
        row = (*[getattr(key, c) for c in KEY_COLUMNS], _now(), result.model_dump_json())
        placeholders = ", ".join("?" * len(row))
        with self._connect() as db, _write(db):
            cursor = db.execute(
                f"INSERT INTO measurements ({', '.join(KEY_COLUMNS)}, created_at, payload) VALUES ({placeholders})",
                row,
            )
            return int(cursor.lastrowid or 0)

    def latest(self, key: MeasurementKey) -> BenchResult | None:
        """The newest measurement with exactly this key, or ``None``."""
        where = " AND ".join(f"{c} = ?" for c in KEY_COLUMNS)
        with self._connect() as db:
            row = db.execute(
                f"SELECT payload FROM measurements WHERE {where} ORDER BY id DESC LIMIT 1",
                [getattr(key, c) for c in KEY_COLUMNS],
            ).fetchone()
        return BenchResult.model_validate_json(row[0]) if row else None

    def query(self, **filters: Any) -> list[BenchResult]:
        """All measurements matching the given key columns (e.g. ``model="resnet18"``), oldest first.

        Raises:
            ValueError: a filter that is not a key column.
        """
        unknown = set(filters) - set(KEY_COLUMNS)
        if unknown:
            raise ValueError(f"unknown filter(s) {sorted(unknown)}; use {', '.join(KEY_COLUMNS)}")
        where = " AND ".join(f"{c} = ?" for c in filters) or "1"
        with self._connect() as db:
            rows = db.execute(f"SELECT payload FROM measurements WHERE {where} ORDER BY id", list(filters.values()))
            return [BenchResult.model_validate_json(r[0]) for r in rows.fetchall()]

    def count(self) -> int:
        """Number of measurements stored."""
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM measurements").fetchone()[0])

    def put_record(self, kind: str, key: str, payload: str) -> None:
        """Append a keyed JSON record of another kind (e.g. ``accuracy``)."""
        with self._connect() as db, _write(db):
            db.execute("INSERT INTO records (kind, key, created_at, payload) VALUES (?, ?, ?, ?)",
                       (kind, key, _now(), payload))  # fmt: skip

    def latest_record(self, kind: str, key: str) -> str | None:
        """The newest record payload of ``kind`` with ``key``, or ``None``."""
        with self._connect() as db:
            row = db.execute("SELECT payload FROM records WHERE kind = ? AND key = ? ORDER BY id DESC LIMIT 1",
                             (kind, key)).fetchone()  # fmt: skip
        return str(row[0]) if row else None


def _create(db: sqlite3.Connection) -> None:
    for statement in filter(str.strip, _SCHEMA.split(";")):
        db.execute(statement)


@contextlib.contextmanager
def _write(db: sqlite3.Connection) -> Iterator[None]:
    """One short write transaction that takes the write lock up front (waits per busy_timeout)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()
