"""The one measurement protocol: warm-up, then at least N iterations and at least T seconds.

Inputs are prepared by the caller outside the timed region; the timed region is exactly one
call of ``fn`` followed by ``sync`` (a device synchronization). On CUDA, a runner passes an
:class:`IntervalTimer` built on CUDA events so that the per-iteration figure is device time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from edgekit.bench._stats import LatencyStats, summarize

Clock = Callable[[], float]
# Hard stop so that a broken clock (one that never advances) cannot loop forever.
DEFAULT_MAX_ITERS = 1_000_000


class IntervalTimer(Protocol):
    """Times one iteration in a device's own clock (e.g. CUDA events)."""

    def start(self) -> None:
        """Mark the start of an iteration (before ``fn`` is called)."""

    def stop(self) -> float:
        """Mark the end (after ``fn``), wait for the device, and return the seconds elapsed."""


def _noop() -> None:
    return None


def measure(
    fn: Callable[[], object],
    *,
    warmup: int,
    min_iters: int,
    min_seconds: float,
    sync: Callable[[], object] | None = None,
    clock: Clock = time.perf_counter,
    batch_size: int = 1,
    timer: IntervalTimer | None = None,
    max_iters: int = DEFAULT_MAX_ITERS,
) -> LatencyStats:
    """Time ``fn`` and return the latency distribution.

    Runs ``warmup`` untimed calls, then timed calls until both at least ``min_iters`` calls
    and at least ``min_seconds`` of wall time (per ``clock``) have passed. Each timed
    iteration is ``fn(); sync()``; its duration comes from ``timer`` when given, else from
    ``clock``.

    Args:
        fn: one inference on prepared inputs.
        warmup: untimed calls first (allocations, lazy init, caches, autotuning).
        min_iters: minimum timed calls.
        min_seconds: minimum wall time of the timed loop.
        sync: waits for asynchronous work to finish (e.g. ``torch.cuda.synchronize``).
        clock: monotonic seconds; injectable so the statistics can be tested on a fake clock.
        batch_size: images per call, for throughput.
        timer: device-side interval timer; the wall clock still enforces ``min_seconds``.
        max_iters: safety cap on timed calls.

    Raises:
        ValueError: a negative count or time, or ``min_iters`` < 1.
    """
    if warmup < 0 or min_iters < 1 or min_seconds < 0 or max_iters < min_iters:
        raise ValueError(
            f"need warmup >= 0, 1 <= min_iters <= max_iters and min_seconds >= 0; "
            f"got warmup={warmup}, min_iters={min_iters}, max_iters={max_iters}, min_seconds={min_seconds}"
        )
    sync = sync or _noop
    for _ in range(warmup):
        fn()
        sync()
    samples: list[float] = []
    loop_start = clock()
    while len(samples) < max_iters and (len(samples) < min_iters or clock() - loop_start < min_seconds):
        samples.append(_one_iteration(fn, sync, clock, timer))
    return summarize(samples, batch_size=batch_size, warmup_iters=warmup, measured_seconds=clock() - loop_start)


def _one_iteration(fn: Callable[[], object], sync: Callable[[], object], clock: Clock,
                   timer: IntervalTimer | None) -> float:  # fmt: skip
    if timer is not None:
        timer.start()
        fn()
        elapsed = timer.stop()
        sync()
        return elapsed
    start = clock()
    fn()
    sync()
    return clock() - start
