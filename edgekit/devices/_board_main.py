"""The runner that edgekit ships to a board: read one JSON request, answer one JSON reply line.

Portable: standard library + numpy + the runtime being timed, Python >= 3.9 — neither edgekit's
dependencies nor torch. It is assembled with the protocol modules it imports (timing loop,
percentiles, peak RSS, fingerprint probe, input pixels, session options) into one zip by
:mod:`edgekit.devices.bundle`; those are the very files local ``bench`` runs, so a board's numbers
come from the same implementation.

Usage on the board: ``python3 runner.pyz probe|bench`` with the request as the first line of stdin.
Stdin stays open for the whole run: when edgekit goes away (Ctrl-C, a timeout, a dropped
connection) sshd closes it and the runner exits instead of measuring on.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edgekit._ort_options import CPU_PROVIDER, run_batches, session_options, timing_settings
from edgekit._ov_options import timed_request
from edgekit._versions import package_versions
from edgekit.bench._loop import timed_samples
from edgekit.bench._probe import board_facts, load_average, machine_fields
from edgekit.bench._rss import peak_rss_mb, rss_mb

try:  # numpy: every runtime needs it anyway; without it the probe still answers and says so
    from edgekit.bench._pixels import random_pixels
    from edgekit.bench._summary import latency_summary
except ImportError as _exc:
    NUMPY_MISSING: str | None = f"{_exc.name or 'numpy'} is not installed"
else:
    NUMPY_MISSING = None

BOARD_PROTOCOL = "edgekit.board@1"  # bump when a request or reply field changes meaning
REPLY_MARK = "EDGEKIT-BOARD-REPLY "  # the reply line's prefix: a runtime printing to stdout cannot be mistaken for it
_EXIT_ORPHANED = 3  # edgekit (the ssh session) went away
_EXIT_TIMEOUT = 4  # the request's own deadline passed


class BoardFaultError(Exception):
    """An expected failure the reply names by type (the edgekit error class it maps to)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _missing(module: str) -> str | None:
    import importlib.util

    return NUMPY_MISSING or (None if importlib.util.find_spec(module) else f"{module} is not installed")


Prepare = Callable[[str, list[int], int], tuple[Callable[[], object], dict[str, str]]]
# Runners the board can time, by edgekit runner name: (prepare, the module it needs). Filled by @board_runner.
PREPARERS: dict[str, tuple[Prepare, str]] = {}
DEFAULT_RUNTIME = "onnxruntime-cpu"  # what --on times when neither --runtime nor devices.yaml names one


def board_runner(name: str, module: str) -> Callable[[Prepare], Prepare]:
    """Register how the board loads a file for runner ``name`` (which needs ``module``)."""

    def register(prepare: Prepare) -> Prepare:
        PREPARERS[name] = (prepare, module)
        return prepare

    return register


@board_runner("onnxruntime-cpu", "onnxruntime")
def _onnxruntime_cpu(artifact: str, shape: list[int], threads: int) -> tuple[Callable[[], object], dict[str, str]]:
    import onnxruntime as ort

    providers = (CPU_PROVIDER,)
    try:
        session = ort.InferenceSession(artifact, session_options(ort, threads), providers=list(providers))
    except Exception as exc:  # onnxruntime raises its own unexported exception types
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise BoardFaultError("BadInputError", f"onnxruntime on the board cannot load the model: {first}") from None
    feed = {session.get_inputs()[0].name: random_pixels(tuple(shape))}
    return (lambda: session.run(None, feed)), timing_settings(providers, threads)


@board_runner("openvino-cpu", "openvino")
def _openvino_cpu(artifact: str, shape: list[int], threads: int) -> tuple[Callable[[], object], dict[str, str]]:
    import openvino as ov

    core = ov.Core()
    try:
        model = core.read_model(artifact)
    except RuntimeError as exc:
        said = " ".join(line for line in str(exc).splitlines() if line.strip())[:200]
        raise BoardFaultError("BadInputError", f"OpenVINO on the board cannot read the model: {said}") from None
    if len(model.inputs) != 1:
        raise BoardFaultError("BadInputError", f"expected one input, found {len(model.inputs)}")
    return timed_request(ov, core, model, tuple(shape), threads, random_pixels(tuple(shape)))


def runtimes() -> dict[str, str | None]:
    """Each runner's status here: None when it can time, else why not."""
    return {name: _missing(module) for name, (_, module) in PREPARERS.items()}


def probe(request: dict[str, Any]) -> dict[str, Any]:
    """The board's fingerprint fields, facts, package versions and runtimes."""
    versions = {k: v for k, v in package_versions(request.get("packages", [])).items() if v is not None}
    return {"machine": machine_fields(), "facts": board_facts(), "versions": versions, "runtimes": runtimes()}


def bench(request: dict[str, Any]) -> dict[str, Any]:
    """Measure one cell with the local protocol; peak RSS is the whole process's (one cell per process)."""
    runtime = request["runtime"]
    if runtime not in PREPARERS:
        raise BoardFaultError("MissingDependencyError", f"the board runner cannot time {runtime}")
    missing = _missing(PREPARERS[runtime][1])
    if missing:
        hint = f"there: python3 -m pip install {PREPARERS[runtime][1]}"
        raise BoardFaultError("MissingDependencyError", f"{runtime}: {missing} on the board ({hint})")
    config = request["config"]
    baseline = rss_mb()
    artifact = str(Path(request["artifact"]).expanduser())
    run, settings = PREPARERS[runtime][0](artifact, request["shape"], request["threads"])
    load_before = load_average()
    samples, seconds = timed_samples(run, warmup=config["warmup"], min_iters=config["min_iters"],
                                     min_seconds=config["min_seconds"])  # fmt: skip
    loads = [x for x in (load_before, load_average()) if x is not None]
    stats = latency_summary(samples, batch_size=request["shape"][0], warmup_iters=config["warmup"],
                            measured_seconds=seconds)  # fmt: skip
    memory = {"peak_rss_mb": peak_rss_mb(), "baseline_rss_mb": baseline, "peak_is_per_cell": True}
    return {"stats": stats, "settings": settings, "memory": memory, "load_average_1m": max(loads) if loads else None}


def infer(request: dict[str, Any]) -> dict[str, Any]:
    """Outputs of the artifact on the inputs (an .npy file), as a target's parity check runs it (optimizations on)."""
    missing = _missing("onnxruntime")
    if missing:
        raise BoardFaultError("MissingDependencyError", f"{missing} on the board (there: python3 -m pip install "
                              "onnxruntime)")  # fmt: skip
    import base64

    import numpy as np
    import onnxruntime as ort

    artifact, inputs = (str(Path(request[k]).expanduser()) for k in ("artifact", "inputs"))
    session = ort.InferenceSession(artifact, session_options(ort, request.get("threads")), providers=[CPU_PROVIDER])
    outputs = np.ascontiguousarray(run_batches(session, np.load(inputs)), dtype=np.float32)
    return {"shape": list(outputs.shape), "float32_b64": base64.b64encode(outputs.tobytes()).decode("ascii")}


def _exit_on_eof() -> None:
    """Block on stdin; its end means edgekit is gone."""
    sys.stdin.buffer.read()
    os._exit(_EXIT_ORPHANED)


def _arm_deadline(seconds: float) -> None:
    timer = threading.Timer(seconds, os._exit, args=(_EXIT_TIMEOUT,))
    timer.daemon = True
    timer.start()


def _reply(payload: dict[str, Any]) -> None:
    sys.stdout.write(REPLY_MARK + json.dumps(dict(payload, protocol=BOARD_PROTOCOL)) + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> None:
    """Answer one request and exit: 0 whenever a reply (result or error) was written."""
    command = argv[1] if len(argv) > 1 else ""
    line = sys.stdin.buffer.readline()
    threading.Thread(target=_exit_on_eof, daemon=True).start()
    try:
        request = json.loads(line)
        if not isinstance(request, dict) or request.get("protocol") != BOARD_PROTOCOL:
            got = request.get("protocol") if isinstance(request, dict) else None
            raise BoardFaultError("BoardProtocolError", f"board runner speaks {BOARD_PROTOCOL}, the request {got!r}")
        if request.get("deadline_s"):
            _arm_deadline(float(request["deadline_s"]))
        handlers = {"probe": probe, "bench": bench, "infer": infer}
        if command not in handlers:
            raise BoardFaultError("BoardProtocolError", f"unknown board runner command {command!r}")
        _reply({"result": handlers[command](request)})
    except BoardFaultError as exc:
        _reply({"error": {"type": exc.kind, "message": str(exc)}})
    except Exception as exc:  # a crash inside the runtime: one line back, the trace on stderr
        traceback.print_exc()
        _reply({"error": {"type": "BoardError", "message": f"board runner failed: {exc!r}"[:500]}})
    sys.stderr.flush()
    os._exit(0)  # not a normal shutdown: the stdin watcher thread holds stdin's lock
