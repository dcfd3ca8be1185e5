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
import os
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from edgekit.bench.run import BenchResult
from edgekit.errors import StoreError, summarize_exception, summarize_message
from edgekit.paths import HOME_ENV, edgekit_home
from edgekit.vocab import describe_validation_error

STORE_FILENAME = "results.sqlite"
SCHEMA_VERSION = 1
# Writers wait this long for the lock; a bench row is written in milliseconds, so 60 s only
# runs out if another process holds the database open in a transaction for that long.
BUSY_TIMEOUT_MS = 60_000
# Below this much free space an SQLite I/O error is reported as a full disk.
_FULL_DISK_BYTES = 1 << 20
KEY_COLUMNS = ("model", "variant", "runtime", "batch", "threads", "fingerprint", "config_hash")
ACCURACY_KIND = "accuracy"  # records of measured top-1/top-5 (optimize/compare/bench --data)

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
# What an edgekit store's tables must have; anything else is another program's database.
_REQUIRED_COLUMNS = {
    "measurements": {"id", *KEY_COLUMNS, "created_at", "payload"},
    "records": {"id", "kind", "key", "created_at", "payload"},
}


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


class AccuracyRecord(BaseModel):
    """Top-1/top-5 of one model and recipe measured on a labelled folder, with what makes it comparable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    recipe: str
    weights: str
    top1_pct: float
    top5_pct: float | None = None
    reference_top1_pct: float | None = Field(None, description="the fp32 parent's top-1 on the same images")
    drop_pct: float | None = Field(None, description="reference_top1_pct - top1_pct, in points")
    n_images: int
    data: str = Field(description="the folder and selection, as the report printed it")
    data_sha256: str | None = Field(None, description="edgekit.evaluate.data_digest of the images and labels")
    meaningful: bool = Field(description="False with random-init weights")
    host: str
    runtime: str
    tool_versions: dict[str, str] = Field(default_factory=dict)

    @property
    def key(self) -> str:
        """The record key: model and recipe."""
        return accuracy_key(self.model, self.recipe)


def keep_accuracy(records: list[AccuracyRecord], store: ResultsStore | None = None) -> str | None:
    """Append ``records`` to the results store; returns why they were not kept (one line), or None."""
    try:
        target = store or ResultsStore()
        for record in records:
            target.put_accuracy(record)
    except StoreError as exc:
        return f"accuracy not stored: {exc}"
    return None


def accuracy_key(model: str, recipe: str) -> str:
    """The key of accuracy records of ``model`` built by ``recipe``."""
    return f"{model}\x1f{recipe}"


def default_store_path() -> Path:
    """``$EDGEKIT_HOME/results.sqlite``."""
    return edgekit_home() / STORE_FILENAME


class ResultsStore:
    """Benchmark results (and other keyed records, e.g. accuracy runs) in one SQLite file.

    Opening checks the file before anything is written: a corrupt or foreign database, a folder in its
    place, or one written by a newer edgekit is refused with :class:`StoreError` and left as it is.
    ``read_only`` stores never write (a missing file reads as empty), so lookups work in a read-only home.
    """

    def __init__(self, path: Path | None = None, *, read_only: bool = False) -> None:
        self.path = Path(path) if path else default_store_path()
        self.read_only = read_only
        if self.path.exists() and not self.path.is_file():
            raise self._invalid("it is a folder, not a file" if self.path.is_dir() else "it is not a regular file")
        self._empty = read_only and not self.path.exists()  # nothing to read; never created by a reader
        if self._empty:
            return
        if not read_only:
            self._create_folder()
        with self._connect() as db:
            version = self._check(db)
            complete = _has_tables(db)
            if read_only:
                self._empty = not complete
            elif not complete or version < SCHEMA_VERSION:
                self._initialize(db)

    def _create_folder(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder of the results store {self.path}: "
                             f"{exc.strerror or exc}; set {HOME_ENV} to a writable folder") from exc  # fmt: skip

    def _check(self, db: sqlite3.Connection) -> int:
        """Refuse what is not an edgekit store (or a newer one's); returns the schema version found."""
        problem = _integrity_problem(db)
        if problem:
            raise self._invalid(problem)
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise StoreError(f"results store {self.path} was written by a newer edgekit (schema version {version}; "
                             f"this edgekit supports up to {SCHEMA_VERSION}): upgrade edgekit or set {HOME_ENV} "
                             "to another folder")  # fmt: skip
        problem = _schema_problem(db)
        if problem:
            raise self._invalid(problem)
        return version

    def _initialize(self, db: sqlite3.Connection) -> None:
        if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            db.execute("PRAGMA journal_mode=WAL")  # persistent: set once, applies to every connection
        with _write(db):
            _create(db)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _invalid(self, reason: str) -> StoreError:
        return StoreError(f"results store {self.path} is not a valid edgekit database: {reason}; "
                          f"move it away or set {HOME_ENV} to another folder")  # fmt: skip

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A fresh connection; SQLite's errors come out as :class:`StoreError` naming this store."""
        try:
            db = self._open()
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from exc
        try:
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            yield db
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from exc
        finally:
            db.close()

    def _open(self) -> sqlite3.Connection:
        if not self.read_only:
            return sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        uri = self.path.resolve().as_uri()
        if os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK):
            # mode=rw (never creates): a reader that may write removes the WAL's -shm/-wal files on close,
            # where a mode=ro connection would leave them beside the database.
            return _checked_connect(f"{uri}?mode=rw")
        try:
            return _checked_connect(f"{uri}?mode=ro")
        except sqlite3.OperationalError:
            if os.access(self.path.parent, os.W_OK):
                raise
            # A WAL database on read-only media: its -shm file cannot be made, and nobody can be writing it.
            return _checked_connect(f"{uri}?mode=ro&immutable=1")

    def _translate(self, exc: sqlite3.DatabaseError) -> StoreError:
        detail = summarize_exception(exc)
        kind = _error_kind(exc, self.path)
        if kind == "readonly" and self.read_only:
            return StoreError(f"results store {self.path} cannot be opened ({detail}); check its permissions or "
                              f"set {HOME_ENV} to another folder")  # fmt: skip
        if kind == "readonly":
            return StoreError(f"results store {self.path} is not writable ({detail}); bench and compare keep their "
                              f"results there: set {HOME_ENV} to a writable folder")  # fmt: skip
        if kind == "full":
            return StoreError(f"results store {self.path}: no space left on device ({detail}); free some space or "
                              f"set {HOME_ENV} to another folder")  # fmt: skip
        if kind == "io":
            return StoreError(f"results store {self.path}: {detail}; check the disk it is on (and that it is not "
                              "a network or FUSE mount without locking)")  # fmt: skip
        if kind == "locked":
            return StoreError(f"results store {self.path} stayed locked by another process for "
                              f"{BUSY_TIMEOUT_MS // 1000} s ({detail}); try again when it has finished")  # fmt: skip
        return self._invalid(detail)

    def _payload(self, row_id: int, payload: str) -> BenchResult:
        try:
            return BenchResult.model_validate_json(payload)
        except ValidationError as exc:
            detail = describe_validation_error(exc, limit=3, more=True)
            raise self._invalid(f"measurement row {row_id} holds a corrupt payload ({detail})") from exc

    def put(self, result: BenchResult) -> int:
        """Append a measurement; returns its row id."""
        self._require_writable()
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
        if self._empty:
            return None
        where = " AND ".join(f"{c} = ?" for c in KEY_COLUMNS)
        with self._connect() as db:
            row = db.execute(
                f"SELECT id, payload FROM measurements WHERE {where} ORDER BY id DESC LIMIT 1",
                [getattr(key, c) for c in KEY_COLUMNS],
            ).fetchone()
        return self._payload(*row) if row else None

    def query(self, **filters: Any) -> list[BenchResult]:
        """All measurements matching the given key columns (e.g. ``model="resnet18"``), oldest first.

        Raises:
            ValueError: a filter that is not a key column.
        """
        _check_filters(filters)
        if self._empty:
            return []
        where = " AND ".join(f"{c} = ?" for c in filters) or "1"
        with self._connect() as db:
            rows = db.execute(f"SELECT id, payload FROM measurements WHERE {where} ORDER BY id", list(filters.values()))
            return [self._payload(*r) for r in rows.fetchall()]

    def query_profile(self, profile: str, here: str | None = None, **filters: Any) -> list[BenchResult]:
        """Measurements that stand for device profile ``profile``, oldest first: rows measured on a board
        labelled with that profile (``BenchResult.board.profile``), plus — when ``here`` names a fingerprint id —
        rows measured on this machine (no board) under that fingerprint. ``filters`` as in :meth:`query`.

        The board's profile lives in the JSON payload; SQLite's ``json_extract`` filters on it, so only the
        profile's rows are read.

        Raises:
            ValueError: a filter that is not a key column.
        """
        _check_filters(filters)
        if self._empty:
            return []
        # A payload that is not JSON is selected too, so that reading it reports the corrupt row (CASE is lazy:
        # json_extract never sees it).
        where = "CASE WHEN json_valid(payload) THEN (json_extract(payload, '$.board.profile') = ?"
        values: list[Any] = [profile]
        if here is not None:
            where += " OR (json_extract(payload, '$.board') IS NULL AND fingerprint = ?)"
            values.append(here)
        where += ") ELSE 1 END" + "".join(f" AND {c} = ?" for c in filters)
        with self._connect() as db:
            rows = db.execute(f"SELECT id, payload FROM measurements WHERE {where} ORDER BY id",
                              [*values, *filters.values()])  # fmt: skip
            return [self._payload(*r) for r in rows.fetchall()]

    def count(self) -> int:
        """Number of measurements stored."""
        if self._empty:
            return 0
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM measurements").fetchone()[0])

    def put_record(self, kind: str, key: str, payload: str) -> None:
        """Append a keyed JSON record of another kind (e.g. ``accuracy``)."""
        self._require_writable()
        with self._connect() as db, _write(db):
            db.execute("INSERT INTO records (kind, key, created_at, payload) VALUES (?, ?, ?, ?)",
                       (kind, key, _now(), payload))  # fmt: skip

    def latest_record(self, kind: str, key: str) -> str | None:
        """The newest record payload of ``kind`` with ``key``, or ``None``."""
        if self._empty:
            return None
        with self._connect() as db:
            row = db.execute("SELECT payload FROM records WHERE kind = ? AND key = ? ORDER BY id DESC LIMIT 1",
                             (kind, key)).fetchone()  # fmt: skip
        return str(row[0]) if row else None

    def records(self, kind: str, key: str | None = None) -> list[str]:
        """Every record payload of ``kind`` (with ``key`` when given), oldest first."""
        if self._empty:
            return []
        where, args = ("kind = ? AND key = ?", (kind, key)) if key is not None else ("kind = ?", (kind,))
        with self._connect() as db:
            rows = db.execute(f"SELECT payload FROM records WHERE {where} ORDER BY id", args).fetchall()
        return [str(r[0]) for r in rows]

    def put_accuracy(self, record: AccuracyRecord) -> None:
        """Append a measured accuracy record."""
        self.put_record(ACCURACY_KIND, record.key, record.model_dump_json())

    def latest_accuracy(self, model: str, recipe: str) -> AccuracyRecord | None:
        """The newest accuracy record of ``model`` built by ``recipe``, or ``None``.

        Raises:
            StoreError: the stored payload is corrupt.
        """
        payload = self.latest_record(ACCURACY_KIND, accuracy_key(model, recipe))
        if payload is None:
            return None
        try:
            return AccuracyRecord.model_validate_json(payload)
        except ValidationError as exc:
            detail = describe_validation_error(exc, limit=3, more=True)
            raise self._invalid(f"an accuracy record of {model} {recipe} is corrupt ({detail})") from exc

    def _require_writable(self) -> None:
        if self.read_only:
            raise StoreError(f"results store {self.path} was opened read-only")


def _check_filters(filters: dict[str, Any]) -> None:
    unknown = set(filters) - set(KEY_COLUMNS)
    if unknown:
        raise ValueError(f"unknown filter(s) {sorted(unknown)}; use {', '.join(KEY_COLUMNS)}")


def _checked_connect(uri: str) -> sqlite3.Connection:
    db = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()  # opening is lazy: fail here, not later
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


def _integrity_problem(db: sqlite3.Connection) -> str | None:
    """SQLite's own page check (bad pages, truncation); cheap at the size of a results store."""
    rows = [str(r[0]) for r in db.execute("PRAGMA quick_check(3)").fetchall()]
    return None if rows == ["ok"] else "quick_check: " + summarize_message(" ".join(rows))


def _has_tables(db: sqlite3.Connection) -> bool:
    return all(_columns(db, table) for table in _REQUIRED_COLUMNS)


def _schema_problem(db: sqlite3.Connection) -> str | None:
    """Why the tables are not edgekit's (another program's database), or None (edgekit's, or still empty)."""
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")} - {"sqlite_sequence"}
    if tables and "measurements" not in tables:
        return f"it holds tables {', '.join(sorted(tables))} but no measurements table"
    for table, required in _REQUIRED_COLUMNS.items():
        columns = _columns(db, table)
        missing = required - columns
        if columns and missing:
            return f"table {table} lacks column(s) {', '.join(sorted(missing))}"
    return None


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in db.execute(f"PRAGMA table_info({table})")}


def _error_kind(exc: sqlite3.DatabaseError, path: Path) -> str:
    """``readonly``, ``full``, ``locked``, ``io`` or ``corrupt``, from SQLite's error name (message before 3.11)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")) or "readonly" in text:
        return "readonly"
    if "unable to open" in text:  # SQLITE_CANTOPEN before Python 3.11
        return "readonly"
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        return "full"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return "locked"
    if name.startswith("SQLITE_IOERR") or "disk i/o error" in text:
        # A full disk often surfaces as an I/O error (the WAL index cannot grow), not as SQLITE_FULL.
        return "full" if _disk_nearly_full(path) else "io"
    return "corrupt"


def _disk_nearly_full(path: Path) -> bool:
    try:
        return shutil.disk_usage(path.parent).free < _FULL_DISK_BYTES
    except OSError:
        return False


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
        if db.in_transaction:  # SQLite rolls back by itself on some errors (a full disk); keep the original one
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()
