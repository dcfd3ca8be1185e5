"""The one measurement protocol: warm-up, then at least N iterations and at least T seconds.

Inputs are prepared by the caller outside the timed region; the timed region is exactly one
call of ``fn`` followed by ``sync`` (a device synchronization). On CUDA, a runner passes an
:class:`IntervalTimer` built on CUDA events so that the per-iteration figure is device time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from edgekit.bench._loop import DEFAULT_MAX_ITERS, Clock, IntervalTimer, timed_samples
from edgekit.bench._stats import LatencyStats, summarize

__all__ = ["DEFAULT_MAX_ITERS", "Clock", "IntervalTimer", "measure"]


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
    samples, seconds = timed_samples(fn, warmup=warmup, min_iters=min_iters, min_seconds=min_seconds, sync=sync,
                                     clock=clock, timer=timer, max_iters=max_iters)  # fmt: skip
    return summarize(samples, batch_size=batch_size, warmup_iters=warmup, measured_seconds=seconds)
