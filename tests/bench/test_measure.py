"""The measurement protocol and its statistics, on a fake clock (exact values, no timing noise)."""

from __future__ import annotations

import pytest

from edgekit.bench import measure, summarize


class FakeClock:
    """A clock that only advances when the measured function 'runs'."""

    def __init__(self, durations_s: list[float]) -> None:
        self.now = 100.0
        self.durations = list(durations_s)
        self.calls = 0
        self.events: list[str] = []

    def __call__(self) -> float:
        return self.now

    def fn(self) -> None:
        self.events.append("fn")
        self.now += self.durations[self.calls % len(self.durations)]
        self.calls += 1

    def sync(self) -> None:
        self.events.append("sync")


def test_warmup_is_untimed_then_min_iters() -> None:
    # setup: warm-up calls take 1 s each, timed calls 1 ms: warm-up must not leak into the samples
    clock = FakeClock([1.0, 1.0] + [0.001] * 100)
    # execute
    stats = measure(clock.fn, warmup=2, min_iters=5, min_seconds=0.0, clock=clock)
    # assert
    assert clock.calls == 7
    assert stats.warmup_iters == 2
    assert stats.iters == 5
    assert stats.latency_ms_max == pytest.approx(1.0)
    assert stats.measured_seconds == pytest.approx(0.005)


def test_time_floor_extends_the_loop() -> None:
    clock = FakeClock([0.125])  # exact in binary: 8 iterations make exactly 1 s
    stats = measure(clock.fn, warmup=0, min_iters=3, min_seconds=1.0, clock=clock)
    assert stats.iters == 8
    assert stats.measured_seconds == 1.0


def test_min_iters_wins_over_a_short_time_floor() -> None:
    clock = FakeClock([0.5])
    stats = measure(clock.fn, warmup=1, min_iters=4, min_seconds=0.1, clock=clock)
    assert stats.iters == 4


def test_statistics_values() -> None:
    clock = FakeClock([k / 1000 for k in range(1, 11)])  # 1..10 ms
    stats = measure(clock.fn, warmup=0, min_iters=10, min_seconds=0.0, clock=clock, batch_size=4)
    assert stats.latency_ms_p50 == pytest.approx(5.5)
    assert stats.latency_ms_p90 == pytest.approx(9.1)  # linear interpolation between order statistics
    assert stats.latency_ms_p99 == pytest.approx(9.91)
    assert stats.latency_ms_mean == pytest.approx(5.5)
    assert stats.latency_ms_std == pytest.approx(3.0276503540974917)  # sample std, ddof=1
    assert stats.cv == pytest.approx(3.0276503540974917 / 5.5)
    assert (stats.latency_ms_min, stats.latency_ms_max) == (pytest.approx(1.0), pytest.approx(10.0))
    assert stats.throughput_ips == pytest.approx(4 / 0.0055)
    assert stats.latency_ms_per_image_p50 == pytest.approx(5.5 / 4)
    assert stats.batch_size == 4


def test_sync_runs_inside_every_iteration() -> None:
    clock = FakeClock([0.01])
    measure(clock.fn, warmup=1, min_iters=2, min_seconds=0.0, sync=clock.sync, clock=clock)
    assert clock.events == ["fn", "sync"] * 3


def test_interval_timer_replaces_the_wall_clock_per_sample() -> None:
    class FixedTimer:
        def __init__(self) -> None:
            self.started = 0

        def start(self) -> None:
            self.started += 1

        def stop(self) -> float:
            return 0.002  # device says 2 ms whatever the host clock says

    clock, timer = FakeClock([0.5]), FixedTimer()
    stats = measure(clock.fn, warmup=1, min_iters=3, min_seconds=0.0, clock=clock, timer=timer)
    assert timer.started == 3  # warm-up is not timed
    assert stats.latency_ms_p50 == pytest.approx(2.0)
    assert stats.latency_ms_std == 0.0
    assert stats.measured_seconds == pytest.approx(1.5)  # the wall clock still bounds the loop


def test_a_stuck_clock_stops_at_max_iters_and_is_rejected() -> None:
    calls = []
    with pytest.raises(ValueError, match="clock is too coarse"):
        measure(lambda: calls.append(1), warmup=0, min_iters=1, min_seconds=1.0, clock=lambda: 0.0, max_iters=50)
    assert len(calls) == 50


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"warmup": -1, "min_iters": 1, "min_seconds": 0}, "need warmup >= 0"),
        ({"warmup": 0, "min_iters": 0, "min_seconds": 0}, "1 <= min_iters"),
        ({"warmup": 0, "min_iters": 1, "min_seconds": -1}, "min_seconds >= 0"),
    ],
)
def test_invalid_protocol_raises(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        measure(lambda: None, **kwargs)  # type: ignore[arg-type]


def test_summarize_rejects_bad_samples() -> None:
    with pytest.raises(ValueError, match="zero latency samples"):
        summarize([], batch_size=1, warmup_iters=0, measured_seconds=0)
    with pytest.raises(ValueError, match="must not be negative"):
        summarize([0.1, -0.1], batch_size=1, warmup_iters=0, measured_seconds=0)
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        summarize([0.1], batch_size=0, warmup_iters=0, measured_seconds=0)


def test_single_sample_has_zero_spread() -> None:
    stats = summarize([0.004], batch_size=2, warmup_iters=0, measured_seconds=0.004)
    assert stats.latency_ms_std == 0.0
    assert stats.cv == 0.0
    assert stats.latency_ms_p99 == pytest.approx(4.0)
    assert stats.throughput_ips == pytest.approx(500.0)
