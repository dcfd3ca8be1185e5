"""Run a native toolchain call in a child process, so that a crash inside it is an error, not the end of edgekit.

Vendor bindings (ncnn's, for one) trust the files and arrays they are given: a shape they did not
expect ends the process with SIGSEGV, before any ``finally`` runs, leaving temporary folders behind.
In a child interpreter such a crash becomes one :class:`BadInputError` in the parent, which then cleans
up as usual; an exception the call raises (edgekit's typed errors included) is re-raised as it is.

The child is a fresh ``python -c`` (not ``multiprocessing``, whose spawn re-runs the parent's
``__main__`` and fails under ``python -`` or a notebook); the call goes in pickled on stdin and the
answer comes back in a file, so whatever the vendor library prints cannot corrupt it.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from edgekit.errors import BadInputError, VerificationError

T = TypeVar("T")
ISOLATED_TIMEOUT_S = 600.0  # same bound as a pnnx conversion; sample runs take seconds
_CHILD = "import sys; from edgekit.targets._isolated import child_main; child_main(sys.argv[1])"


def call_isolated(label: str, fn: Callable[..., T], *args: Any, timeout_s: float = ISOLATED_TIMEOUT_S) -> T:
    """``fn(*args)`` in a child interpreter; ``fn`` must be importable, arguments and result picklable.

    Args:
        label: what runs, for messages (e.g. ``"ncnn running tiny.ncnn.param"``).
        fn: a module-level function.
        args: its arguments.
        timeout_s: how long the call may take.

    Raises:
        BadInputError: the child died without answering (a native crash): ``<label> crashed (SIGSEGV) ...``.
        VerificationError: it did not answer within ``timeout_s``.
        Exception: whatever ``fn`` raised, re-raised in the parent.
    """
    # The child imports what the parent can (a test's or a notebook's sys.path included).
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    with tempfile.TemporaryDirectory(prefix="edgekit-isolated-") as folder:
        answer = Path(folder) / "answer.pickle"
        try:
            done = subprocess.run([sys.executable, "-c", _CHILD, str(answer)], input=pickle.dumps((fn, args)),
                                  capture_output=True, env=env, timeout=timeout_s, check=False)  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise VerificationError(f"{label} did not finish in {timeout_s:g} s") from exc
        if not answer.is_file():
            raise BadInputError(f"{label} crashed ({_exit_reason(done.returncode)}); the toolchain cannot run "
                                "this model")  # fmt: skip
        ok, value = pickle.loads(answer.read_bytes())  # noqa: S301 (written by our own child, just now)
    if ok:
        return value
    raise value


def child_main(answer: str) -> None:
    """The child's side: read the pickled call on stdin, write ``(ok, result or exception)`` to ``answer``."""
    fn, args = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 (sent by the parent edgekit process)
    try:
        result = (True, fn(*args))
    except Exception as exc:  # every failure goes back to the parent, which re-raises it
        result = (False, exc)
    try:
        data = pickle.dumps(result)
    except Exception:  # an exception that does not pickle: send its text instead
        data = pickle.dumps((False, RuntimeError(f"{type(result[1]).__name__}: {result[1]}")))
    partial = Path(answer + ".partial")
    partial.write_bytes(data)
    partial.replace(answer)  # the parent sees the whole answer or none


def _exit_reason(code: int) -> str:
    if code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"
