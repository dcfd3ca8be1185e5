"""Latency statistics: a distribution, never a bare mean (P7)."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from edgekit.bench._summary import latency_summary


class LatencyStats(BaseModel):
    """The distribution of per-iteration latencies of one measurement.

    Every latency is for one call of the measured function, i.e. one batch of ``batch_size``
    images; ``latency_ms_per_image_p50`` divides by the batch. Percentiles use numpy's
    linear interpolation between order statistics.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    latency_ms_p50: float
    latency_ms_p90: float
    latency_ms_p99: float
    latency_ms_mean: float
    latency_ms_std: float = Field(description="sample standard deviation (ddof=1; 0 for one sample)")
    latency_ms_min: float
    latency_ms_max: float
    cv: float = Field(description="coefficient of variation: std / mean of the per-iteration latencies")
    throughput_ips: float = Field(description="images per second: batch_size / mean latency")
    warmup_iters: int
    iters: int
    batch_size: int
    measured_seconds: float = Field(description="wall time of the timed loop, syncs included")

    @property
    def latency_ms_per_image_p50(self) -> float:
        """Median latency divided by the batch size."""
        return self.latency_ms_p50 / self.batch_size

    @property
    def latency_ms_per_image_p90(self) -> float:
        """90th-percentile latency divided by the batch size."""
        return self.latency_ms_p90 / self.batch_size


def summarize(
    samples_s: Sequence[float], *, batch_size: int, warmup_iters: int, measured_seconds: float
) -> LatencyStats:
    """Summarize per-iteration latencies given in seconds (see :func:`~edgekit.bench._summary.latency_summary`).

    Raises:
        ValueError: no samples, a negative sample, or a batch size below 1.
    """
    return LatencyStats(**latency_summary(samples_s, batch_size=batch_size, warmup_iters=warmup_iters,
                                          measured_seconds=measured_seconds))  # fmt: skip


class MemoryStats(BaseModel):
    """Resident memory of a child process that ran one cell."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    peak_rss_mb: float = Field(description="peak RSS of the whole run: interpreter + runtime + model + buffers")
    baseline_rss_mb: float = Field(
        description="RSS before the model was loaded (interpreter, numpy, edgekit, "
        "plus what earlier cells of the same child left behind)"
    )
    peak_is_per_cell: bool = Field(
        True,
        description="False when the high-water mark could not be reset between "
        "cells of one child, so the peak also covers its earlier (smaller) batches",
    )
