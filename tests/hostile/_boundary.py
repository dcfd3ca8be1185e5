"""Helpers for the error-boundary tests: run the real CLI in a fresh process, mount small tmpfs folders."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

_MAIN = "from edgekit.cli.main import main; main()"
CLI_TIMEOUT_S = 300


@dataclass(frozen=True)
class CliRun:
    """Exit code and captured output of one ``edgekit`` process."""

    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return self.stderr.strip().splitlines()


def run_cli(args: list[str], home: Path, tmp: Path | None = None, cwd: Path | None = None) -> CliRun:
    """``edgekit ARGS`` with ``EDGEKIT_HOME=home`` (and the system temp dir at ``tmp``) in a new interpreter."""
    env = {**os.environ, "EDGEKIT_HOME": str(home), "COLUMNS": "200"}
    if tmp is not None:
        env["TMPDIR"] = str(tmp)
    done = subprocess.run([sys.executable, "-c", _MAIN, *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=CLI_TIMEOUT_S, check=False)  # fmt: skip
    return CliRun(done.returncode, done.stdout, done.stderr)


def assert_one_error_line(run: CliRun, *fragments: str) -> str:
    """Exit 2, no traceback, and stderr is exactly one ``error: ...`` line holding every fragment."""
    assert "Traceback" not in run.stderr, run.stderr
    assert run.code == 2, run.stderr
    assert len(run.error_lines) == 1, run.stderr
    (line,) = run.error_lines
    assert line.startswith("error: ")
    for fragment in fragments:
        assert fragment in line, line
    return line


def seed_cache(home: Path) -> Path:
    """Give ``home`` this session's model-registry cache, so a fresh process skips seconds of torchvision."""
    from edgekit.models import list_models
    from edgekit.paths import cache_dir

    list_models()  # builds the session cache once
    shutil.copytree(cache_dir("registry"), home / "cache" / "registry", dirs_exist_ok=True)
    return home


def snapshot(folder: Path, ignore: tuple[str, ...] = ("cache",)) -> dict[str, str]:
    """Relative path -> sha256 (or ``dir``) of everything under ``folder`` (but ``ignore``): what a run left."""
    files = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if relative.parts[0] in ignore:
            continue
        rel = str(relative)
        files[rel] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def _require_root_and_mount() -> None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("needs root to mount a tmpfs (chmod does not stop root)")
    if shutil.which("mount") is None or shutil.which("umount") is None:
        pytest.skip("mount/umount not available")


@contextlib.contextmanager
def tmpfs(folder: Path, size: str = "1m") -> Iterator[Path]:
    """A small tmpfs at ``folder`` for the block, always unmounted after; skips the test where none can be made."""
    _require_root_and_mount()
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


def remount_read_only(folder: Path) -> None:
    """Make a tmpfs from :func:`tmpfs` read-only (root included)."""
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], capture_output=True, check=True)


def fill_up(folder: Path) -> None:
    """Write zeros under ``folder`` until its file system is full."""
    # Unbuffered, so closing has nothing left to flush onto the full disk.
    with open(folder / "filler", "wb", buffering=0) as handle, contextlib.suppress(OSError):  # noqa: PTH123
        while True:
            handle.write(b"\0" * 4096)


def tiny_onnx(path: Path) -> Path:
    """A 3-channel 16x16 classifier (pool, flatten, matmul to 4 logits): loads and runs in milliseconds."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weights = numpy_helper.from_array(np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32), "w")
    nodes = [
        helper.make_node("GlobalAveragePool", ["input"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"]),
        helper.make_node("MatMul", ["flat", "w"], ["logits"]),
    ]
    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 16, 16])]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 4])]
    graph = helper.make_graph(nodes, "tiny", inputs, outputs, initializer=[weights])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path
