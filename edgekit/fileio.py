"""Atomic writes, stale-leftover sweeps and digests: nothing half-written is ever left at a final path.

A write stages its file or folder beside the final path under a hidden name that carries the writer's
PID, ``.<name>.edgekit-stage-<pid>-<random>``; a replaced folder waits for deletion as
``.<name>.edgekit-old-<pid>-<random>``. The next write into the same folder finishes what killed
writers left (:func:`sweep_stale`): a folder set aside with nothing in its place comes back, everything
else of a dead PID is removed, and a live writer's files are never touched. CLI runs keep their temp
files in a per-run folder of the same kind (:func:`run_temp_dir`).

Files and folders get the modes a plain ``open``/``mkdir`` would give (``0o666``/``0o777`` less the
umask), not the private ones of ``mkstemp``/``mkdtemp``.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TMP_ENV = "EDGEKIT_TMPDIR"  # overrides the temp root (tests point it at a private folder)
_CHUNK_BYTES = 1 << 20
_STAGE, _ASIDE = "stage", "old"
_LEFTOVER = re.compile(rf"^\.(?P<name>.+)\.edgekit-(?P<kind>{_STAGE}|{_ASIDE})-(?P<pid>\d+)-[^.]+$")
_RUN_DIR = re.compile(r"^run-(?P<pid>\d+)-[^.]+$")
_PROC_STATUS = Path("/proc/self/status")
_RENAME_EXCHANGE = 2  # renameat2(2) flag: swap two paths atomically
_AT_FDCWD = -100


def _prefix(final: Path, kind: str) -> str:
    return f".{final.name}.edgekit-{kind}-{os.getpid()}-"


def current_umask() -> int:
    """The process umask; read from /proc on Linux (setting it to read it back races with other threads)."""
    with contextlib.suppress(OSError, ValueError):
        for line in _PROC_STATUS.read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _public_mode(path: Path, is_dir: bool) -> None:
    """Give a mkstemp/mkdtemp path the mode ``open``/``mkdir`` would (0600/0700 otherwise)."""
    path.chmod((0o777 if is_dir else 0o666) & ~current_umask())


def process_alive(pid: int) -> bool:
    """Whether ``pid`` is a running process (a zombie counts as gone: it will never write again)."""
    import psutil

    if pid == os.getpid():
        return True
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:  # exists, but not ours to inspect
        return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def sweep_stale(folder: Path) -> list[Path]:
    """Finish what killed writers left in ``folder``; return the paths removed or restored.

    An ``old`` folder whose final path is missing was set aside just before a kill: it is renamed
    back. Every other leftover of a dead PID (staging, or an old folder already replaced) is removed.
    """
    done: list[Path] = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:  # no such folder, or unreadable: nothing of ours to sweep
        return done
    for entry in entries:
        match = _LEFTOVER.match(entry.name)
        if match is None or process_alive(int(match["pid"])):
            continue
        path, final = Path(entry.path), Path(folder) / match["name"]
        if match["kind"] == _ASIDE and not os.path.lexists(final):
            with contextlib.suppress(OSError):  # another sweeper may have restored it first
                path.rename(final)
        else:
            _remove(path)
        done.append(path)
    return done


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename it into place only if the block succeeds.

    The temporary file lives in the same folder so the rename is atomic on one filesystem.
    On any exception the temporary file is removed and ``final`` is left untouched.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(final.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=_prefix(final, _STAGE), dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _public_mode(tmp, is_dir=False)
        yield tmp
        tmp.replace(final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_dir(final: Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``final``; swap it into place only if the block succeeds.

    An existing ``final`` stays whole until the new folder is complete; a kill at any point leaves the old
    or the new one in place, or the old one set aside for the next write to put back (see
    :func:`replace_dir`). On any exception the new folder is removed.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(final.parent)
    tmp = Path(tempfile.mkdtemp(prefix=_prefix(final, _STAGE), dir=final.parent))
    try:
        _public_mode(tmp, is_dir=True)
        yield tmp
        replace_dir(tmp, final)
    except BaseException:
        _remove(tmp)  # the new folder, or after a swap the old one
        raise


def replace_dir(staged: Path, final: Path) -> None:
    """Move the folder ``staged`` to ``final``, replacing what is there; the old one is deleted last.

    Linux swaps the two in one ``renameat2(RENAME_EXCHANGE)``. Elsewhere (or on a filesystem without
    it) the old folder is renamed aside first; a kill between the two renames leaves it aside under
    a dead PID, and :func:`sweep_stale` puts it back.
    """
    if not os.path.lexists(final):
        staged.rename(final)
    elif _exchange(staged, final):
        _remove(staged)  # now holds the old folder
    else:
        _replace_via_aside(staged, final)


def _replace_via_aside(staged: Path, final: Path) -> None:
    aside = Path(tempfile.mkdtemp(prefix=_prefix(final, _ASIDE), dir=final.parent))
    aside.rmdir()  # mkdtemp reserved a unique name; rename needs it free
    final.rename(aside)
    try:
        staged.rename(final)
    except BaseException:
        aside.rename(final)
        raise
    _remove(aside)


@functools.cache
def _renameat2() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    return getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)  # glibc >= 2.28, musl >= 1.2.3


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False where the kernel, libc or filesystem cannot."""
    call = _renameat2()
    if call is None:
        return False
    return call(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write JSON (sorted keys, stable formatting) atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")


def temp_root() -> Path:
    """Return edgekit's own temp folder, ``$EDGEKIT_TMPDIR`` or ``<system temp>/edgekit-<user>`` (not created here).

    Every CLI run keeps its temp files in a subfolder of it named by its PID (:func:`run_temp_dir`).
    """
    override = os.environ.get(TMP_ENV)
    if override:
        return Path(override)
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return Path(tempfile.gettempdir()) / f"edgekit-{user}"


def sweep_temp_root(root: Path) -> list[Path]:
    """Remove the per-run temp folders of dead runs under ``root``; return them."""
    removed = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(root):
            match = _RUN_DIR.match(entry.name)
            if match and not process_alive(int(match["pid"])):
                shutil.rmtree(entry.path, ignore_errors=True)
                removed.append(Path(entry.path))
    return removed


@contextlib.contextmanager
def run_temp_dir(root: Path) -> Iterator[Path | None]:
    """Keep this process's temp files, and its children's, in ``root/run-<pid>-<random>`` until the block ends.

    Dead runs' folders are swept first. ``tempfile`` and ``$TMPDIR`` point into the folder for the
    block, so everything built on them (edgekit's own temp folders, toolchains, child processes) lands
    there and goes with it; so does ``root`` if this run made it and no other run uses it. Yields None,
    changing nothing, where ``root`` cannot be made private.
    """
    made_root = not os.path.lexists(root)
    folder = _make_run_dir(root)
    if folder is None:
        yield None
        return
    previous_env, previous_dir = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"], tempfile.tempdir = str(folder), str(folder)
    try:
        yield folder
    finally:
        tempfile.tempdir = previous_dir
        if previous_env is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = previous_env
        shutil.rmtree(folder, ignore_errors=True)
        if made_root:
            with contextlib.suppress(OSError):  # not empty: another run is using it
                root.rmdir()


def _make_run_dir(root: Path, attempts: int = 2) -> Path | None:
    for _ in range(attempts):  # a run ending right now may remove an empty root between mkdir and mkdtemp
        try:
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = root.lstat()
            # A shared /tmp: a folder someone else made (or a symlink) in our name is not used.
            if root.is_symlink() or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
                return None
            sweep_temp_root(root)
            return Path(tempfile.mkdtemp(prefix=f"run-{os.getpid()}-", dir=root))
        except FileNotFoundError:
            continue
        except OSError:  # read-only or full temp: run without a swept root rather than not at all
            return None
    return None


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """Return the hex sha256 of bytes."""
    return hashlib.sha256(data).hexdigest()
