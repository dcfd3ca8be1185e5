"""The timing loop of the one measurement protocol: warm-up, then at least N iterations and at least T seconds.

Portable: standard library only, Python >= 3.9. This very file also runs on boards (see
:mod:`edgekit.devices.bundle`), so local and remote numbers come from one loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

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


def check_counts(warmup: int, min_iters: int, min_seconds: float, max_iters: int) -> None:
    """Raise ValueError on a negative count or time, or ``min_iters`` outside 1..max_iters."""
    if warmup < 0 or min_iters < 1 or min_seconds < 0 or max_iters < min_iters:
        raise ValueError(
            f"need warmup >= 0, 1 <= min_iters <= max_iters and min_seconds >= 0; "
            f"got warmup={warmup}, min_iters={min_iters}, max_iters={max_iters}, min_seconds={min_seconds}"
        )


def timed_samples(
    fn: Callable[[], object],
    *,
    warmup: int,
    min_iters: int,
    min_seconds: float,
    sync: Callable[[], object] | None = None,
    clock: Clock = time.perf_counter,
    timer: IntervalTimer | None = None,
    max_iters: int = DEFAULT_MAX_ITERS,
) -> tuple[list[float], float]:
    """Run the protocol on ``fn``; return the per-iteration seconds and the wall time of the timed loop.

    Raises:
        ValueError: see :func:`check_counts`.
    """
    check_counts(warmup, min_iters, min_seconds, max_iters)
    sync = sync or _noop
    for _ in range(warmup):
        fn()
        sync()
    samples: list[float] = []
    loop_start = clock()
    while len(samples) < max_iters and (len(samples) < min_iters or clock() - loop_start < min_seconds):
        samples.append(_one_iteration(fn, sync, clock, timer))
    return samples, clock() - loop_start


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
