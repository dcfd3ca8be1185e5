"""Run benchmark cells here or in a fresh child process (``python -m edgekit.bench._child``).

The cells of one child share source, runtime and threads and differ only in batch size; they
run in ascending batch order, and the process's RSS high-water mark is reset between them
(Linux ``/proc/self/clear_refs``) so that each cell's peak is its own.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from edgekit import errors
from edgekit.bench._probe import load_average
from edgekit.bench._rss import peak_rss_mb, reset_peak_rss, rss_mb
from edgekit.bench._spec import BenchConfig, BenchSpec
from edgekit.bench._stats import LatencyStats, MemoryStats
from edgekit.bench.measure import measure
from edgekit.bench.runners import Runner, get_runner
from edgekit.errors import BadInputError, EdgekitError, MissingDependencyError
from edgekit.fileio import atomic_path

_PR_SET_PDEATHSIG = 1  # prctl(2): the signal this process gets when its parent dies
_ORPHAN_POLL_S = 1.0  # where there is no prctl: how often the child checks that its parent still runs


class RawResult(BaseModel):
    """What a cell run returns before the parent adds fingerprint and provenance."""

    model_config = ConfigDict(extra="forbid")

    stats: LatencyStats
    settings: dict[str, str]
    memory: MemoryStats | None = None
    load_average_1m: float | None = None


def check_runnable(runner: Runner, spec: BenchSpec) -> None:
    """Fail early, in the parent, with a clear message.

    Raises:
        MissingDependencyError: the runner is unavailable here.
        BadInputError: the runner cannot load this kind of source.
    """
    reason = runner.unavailable_reason()
    if reason:
        raise MissingDependencyError(f"{runner.name}: {reason}")
    if not runner.accepts(spec.source):
        what = "registry models" if runner.builds_models else f"{', '.join(runner.artifact_suffixes)} files"
        given = getattr(spec.source, "path", None) or f"model {spec.model}"
        raise BadInputError(f"runtime {runner.name} runs {what}; cannot run {given}")


def execute(spec: BenchSpec, config: BenchConfig) -> RawResult:
    """Prepare and measure in this process (no memory figure: the process has a history)."""
    prepared = get_runner(spec.runtime).prepare(spec.source, spec.batch, spec.threads)
    load_before = load_average()
    try:
        stats = measure(prepared.run, warmup=config.warmup, min_iters=config.min_iters,
                        min_seconds=config.min_seconds, sync=prepared.sync, timer=prepared.timer,
                        batch_size=spec.batch)  # fmt: skip
    finally:
        prepared.close()
    after = load_average()
    load = max(load_before, after) if load_before is not None and after is not None else None
    return RawResult(stats=stats, settings=prepared.settings, load_average_1m=load)


def _execute_group(specs: list[BenchSpec], config: BenchConfig) -> list[RawResult]:
    """Run cells in order (ascending batch), each with its own peak RSS where resettable."""
    results, exact = [], True
    for index, spec in enumerate(specs):
        if index:
            exact = reset_peak_rss() and exact
        baseline = rss_mb()
        raw = execute(spec, config)
        raw.memory = MemoryStats(peak_rss_mb=peak_rss_mb(), baseline_rss_mb=baseline, peak_is_per_cell=exact)
        results.append(raw)
    return results


def run_isolated(specs: list[BenchSpec], config: BenchConfig) -> list[RawResult]:
    """Run cells (same source, runtime, threads) in one fresh interpreter, in the given order.

    Raises:
        EdgekitError (the child's own type where it raised one): the run failed or timed out.
    """
    label = f"{specs[0].runtime} run of {specs[0].model}"
    # A runner registered outside edgekit.bench.runners is found by importing its module in the child.
    module = type(get_runner(specs[0].runtime)).__module__
    with tempfile.TemporaryDirectory(prefix="edgekit-bench-") as folder:
        request, response = Path(folder) / "request.json", Path(folder) / "response.json"
        payload = {"specs": [s.model_dump(mode="json") for s in specs], "config": config.model_dump(),
                   "runner_module": module}  # fmt: skip
        request.write_text(json.dumps(payload))
        command = [sys.executable, "-m", "edgekit.bench._child", str(request), str(response), str(os.getpid())]
        # subprocess.run kills the child on any exception here, SystemExit from the CLI's SIGTERM handler
        # included; a SIGKILLed parent leaves that to the child itself (_die_with_parent).
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=config.timeout_s * len(specs),
                                  env=_child_env(), check=False)  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise EdgekitError(f"{label} timed out after {config.timeout_s * len(specs):g} s") from exc
        if not response.is_file():
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise EdgekitError(f"{label} died (exit {done.returncode}): {tail}")
        reply = json.loads(response.read_text())
    if "error" in reply:
        error_type = getattr(errors, reply["error"]["type"], EdgekitError)
        raise error_type(reply["error"]["message"])
    return [RawResult.model_validate(item) for item in reply["results"]]


def _child_env() -> dict[str, str]:
    """The parent's environment, with edgekit (and the parent's import path) importable."""
    paths = [str(Path(__file__).resolve().parents[2])] + [p or str(Path.cwd()) for p in sys.path]
    existing = os.environ.get("PYTHONPATH")
    return os.environ | {"PYTHONWARNINGS": "ignore",
                         "PYTHONPATH": os.pathsep.join(paths + ([existing] if existing else []))}  # fmt: skip


def _import_runner_module(module: str | None) -> None:
    if module and module != "__main__":
        importlib.import_module(module)


def _child_main(request_path: Path, response_path: Path) -> None:
    request = json.loads(request_path.read_text())
    specs = [BenchSpec.model_validate(s) for s in request["specs"]]
    config = BenchConfig.model_validate(request["config"])
    try:
        _import_runner_module(request.get("runner_module"))
        results = _execute_group(specs, config)
        reply: dict[str, object] = {"results": [r.model_dump(mode="json") for r in results]}
    except EdgekitError as exc:
        reply = {"error": {"type": type(exc).__name__, "message": str(exc)}}
    except Exception as exc:  # a crash inside the runtime: one line for the parent, the trace on stderr
        traceback.print_exc()
        reply = {"error": {"type": "EdgekitError", "message": f"{specs[0].runtime} failed: {exc!r}"[:500]}}
    with atomic_path(response_path) as tmp:  # a child killed mid-write must not hand the parent half a reply
        tmp.write_text(json.dumps(reply))


def _die_with_parent(parent: int) -> None:
    """End this process when ``parent`` dies, however it dies (a killed bench must not leave it measuring on)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    else:
        threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before the kernel was told to watch it
        os._exit(1)


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_ORPHAN_POLL_S)
    os._exit(1)


if __name__ == "__main__":
    _die_with_parent(int(sys.argv[3]))
    _child_main(Path(sys.argv[1]), Path(sys.argv[2]))
