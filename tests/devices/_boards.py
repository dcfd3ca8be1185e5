"""Board Pythons for the device-link tests: a minimal one (numpy + the runtime only) and broken ones.

A board has neither edgekit nor its dependencies: :func:`minimal_python` runs this interpreter with
``-S`` (no site-packages) and only the named distributions on its path. The broken ones are shell
scripts that stand where the board's ``python`` is, as a broken board would: they behave normally
for the probe and misbehave for the ``bench`` request (or from its N-th call on).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import numpy

_SITE = Path(numpy.__file__).resolve().parents[1]


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def minimal_python(folder: Path, packages: tuple[str, ...] = ("numpy", "onnxruntime")) -> Path:
    """An interpreter that sees the standard library and ``packages`` (with their metadata) only."""
    site = folder / "site"
    site.mkdir(parents=True, exist_ok=True)
    for package in packages:
        for entry in [*_SITE.glob(f"{package}"), *_SITE.glob(f"{package}.libs"), *_SITE.glob(f"{package}-*.dist-info")]:
            (site / entry.name).symlink_to(entry)
    return _script(
        folder / "python", f'PYTHONPATH={shlex.quote(str(site))} exec {shlex.quote(sys.executable)} -S "$@"\n'
    )


def faulty_python(folder: Path, real: Path, fault: str, from_call: int = 1) -> Path:
    """A board python whose ``bench`` calls (from the ``from_call``-th on) misbehave.

    Faults: ``garbage`` (prints a line that is not the runner's reply), ``hang`` (never answers),
    ``killed`` (the runner is SIGKILLed a moment after it starts measuring).
    """
    folder.mkdir(parents=True, exist_ok=True)
    counter = folder / "bench-calls"
    actions = {
        "garbage": "echo 'Welcome to the board! Last login: yesterday'; exit 0",
        "hang": "exec sleep 20",
        # $$ is this shell; after exec it is the runner itself, so the runner dies of the signal.
        "killed": f'(sleep 2; kill -9 $$) & exec {shlex.quote(str(real))} "$@"',
    }
    body = f"""case "$*" in
  *" bench")
    n=$(( $(cat {counter} 2>/dev/null || echo 0) + 1 )); echo $n > {counter}
    if [ $n -ge {from_call} ]; then {actions[fault]}; fi ;;
esac
exec {shlex.quote(str(real))} "$@"
"""
    return _script(folder / "python", body)
