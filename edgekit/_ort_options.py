"""onnxruntime sessions set one way (explicit intra-op threads, one inter-op thread, full or no optimization) and run.

Portable: onnxruntime only (imported by the caller), Python >= 3.9; shipped verbatim to boards (see
:mod:`edgekit.devices.bundle`), so a board's session is configured exactly like this machine's.
"""

from __future__ import annotations

from typing import Any

CPU_PROVIDER = "CPUExecutionProvider"
_ORT_WARNINGS_OFF = 3  # ORT log severity: 3 = errors only


def session_options(ort: Any, threads: int | None, optimize: bool = True) -> Any:
    """``ort.SessionOptions`` with ``threads`` intra-op threads (None: onnxruntime's default) and 1 inter-op."""
    options = ort.SessionOptions()
    options.log_severity_level = _ORT_WARNINGS_OFF
    options.inter_op_num_threads = 1
    if threads:
        options.intra_op_num_threads = threads
    options.graph_optimization_level = (
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    )
    return options


def run_batches(session: Any, pixels: Any, batch: int = 8) -> Any:
    """Run (N, C, H, W) float32 inputs through a single-input session, ``batch`` at a time (numpy arrays).

    A model exported with a static batch of 1 is run one image at a time.
    """
    import numpy as np

    (spec,) = session.get_inputs()
    static_batch = spec.shape[0] if isinstance(spec.shape[0], int) else None
    step = static_batch or batch
    outputs = [session.run(None, {spec.name: pixels[i : i + step]})[0] for i in range(0, len(pixels), step)]
    return np.concatenate(outputs, axis=0)


def timing_settings(providers: tuple[str, ...], threads: int) -> dict[str, str]:
    """The settings a timed session records (those :func:`session_options` applies with ``optimize``)."""
    return {"providers": ",".join(providers), "intra_op_threads": str(threads), "inter_op_threads": "1",
            "graph_optimization": "ORT_ENABLE_ALL"}  # fmt: skip
