"""Latency percentiles of one measurement: a distribution, never a bare mean (P7).

Portable: standard library + numpy, Python >= 3.9; shipped verbatim to boards (see
:mod:`edgekit.devices.bundle`) so that a board's p50 is computed exactly like this machine's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_MS_PER_S = 1000.0


def latency_summary(samples_s: Sequence[float], *, batch_size: int, warmup_iters: int,
                    measured_seconds: float) -> dict[str, float | int]:  # fmt: skip
    """The fields of :class:`edgekit.bench.LatencyStats` from per-iteration latencies in seconds.

    Percentiles use numpy's linear interpolation between order statistics.

    Raises:
        ValueError: no samples, a negative sample, or a batch size below 1.
    """
    if not samples_s:
        raise ValueError("cannot summarize zero latency samples")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    ms = np.asarray(samples_s, dtype=np.float64) * _MS_PER_S
    if (ms < 0).any():
        raise ValueError("latency samples must not be negative (is the clock monotonic?)")
    if not (ms > 0).any():
        raise ValueError("every latency sample is zero: the clock is too coarse for this function")
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    mean = float(ms.mean())
    std = float(ms.std(ddof=1)) if ms.size > 1 else 0.0
    return {
        "latency_ms_p50": float(p50), "latency_ms_p90": float(p90), "latency_ms_p99": float(p99),
        "latency_ms_mean": mean, "latency_ms_std": std, "latency_ms_min": float(ms.min()),
        "latency_ms_max": float(ms.max()), "cv": std / mean, "throughput_ips": batch_size * _MS_PER_S / mean,
        "warmup_iters": warmup_iters, "iters": int(ms.size), "batch_size": batch_size,
        "measured_seconds": measured_seconds,
    }  # fmt: skip
