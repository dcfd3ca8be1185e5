"""Benchmark one (model, variant, runtime, batch, threads) cell, in a child process by default.

A fresh process per cell keeps runs from polluting each other (allocator state, thread pools,
caches) and makes its peak RSS the memory of that one run. Numbers come back as a
:class:`BenchResult` whose :meth:`~BenchResult.metrics` carry *measured* provenance.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from edgekit.bench import _child
from edgekit.bench._export import fp32_onnx
from edgekit.bench._spec import BenchConfig, BenchSpec, BoardLabel
from edgekit.bench._stats import LatencyStats, MemoryStats
from edgekit.bench.host import HostFingerprint, fingerprint, tool_versions, usable_cores
from edgekit.bench.runners import ArtifactSource, ModelSource, get_runner
from edgekit.fileio import sha256_file
from edgekit.metrics import Metric, Provenance

log = logging.getLogger(__name__)  # steps for the CLI's progress line (edgekit.cli._progress)

# Load above usable cores by this much means other runnable threads competed with the benchmark.
CONTENTION_MARGIN = 0.5
PROTOCOL = "edgekit.bench@1"  # bump when the measurement method changes; part of the config hash


class BenchResult(BaseModel):
    """One measured cell with everything needed to trust or reproduce it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    spec: BenchSpec
    device: str
    stats: LatencyStats
    memory: MemoryStats | None = Field(None, description="only for runs isolated in a child process")
    load_average_1m: float | None = Field(
        None,
        description="host 1-minute load average around the timed loop "
        "(our threads included): above usable cores, others competed",
    )
    settings: dict[str, str] = Field(description="runtime settings that shape the numbers")
    runtime_versions: dict[str, str]
    fingerprint: HostFingerprint
    board: BoardLabel | None = Field(None, description="the board, when measured over a device link; None = here")
    config: BenchConfig
    config_hash: str
    run_id: str
    timestamp: datetime

    @property
    def contended(self) -> bool:
        """Heuristic: the load average exceeded the usable cores, so other processes took CPU time."""
        return self.load_average_1m is not None and self.load_average_1m > (
            self.fingerprint.usable_cores + CONTENTION_MARGIN
        )

    def provenance(self) -> Provenance:
        """*measured* provenance: host id, runtime, versions, iterations, threads and batch; the board's profile."""
        s, board = self.spec, self.board
        where = f"measured on {board.profile} ({board.id}), " if board else ""
        return Provenance(
            kind="measured", host=self.fingerprint.id, runtime=s.runtime, tool_versions=self.runtime_versions,
            device_profile=board.profile if board else None, n_samples=self.stats.iters, run_id=self.run_id,
            timestamp=self.timestamp,
            note=f"{where}batch {s.batch}, {s.threads} threads, {self.stats.warmup_iters} warm-up iterations"
            + (f", load average {self.load_average_1m:.1f}" if self.load_average_1m is not None else ""),
        )  # fmt: skip

    def metrics(self) -> list[Metric]:
        """Latency distribution, throughput and peak memory as *measured* metrics."""
        prov = self.provenance()
        st = self.stats
        values = [
            ("latency_ms_p50", st.latency_ms_p50, "ms"), ("latency_ms_p90", st.latency_ms_p90, "ms"),
            ("latency_ms_p99", st.latency_ms_p99, "ms"), ("latency_ms_mean", st.latency_ms_mean, "ms"),
            ("latency_ms_std", st.latency_ms_std, "ms"),
            ("latency_ms_per_image_p50", st.latency_ms_per_image_p50, "ms/image"),
            ("throughput_ips", st.throughput_ips, "images/s"),
        ]  # fmt: skip
        if self.memory is not None:
            values.append(("peak_rss_mb", self.memory.peak_rss_mb, "MB"))
        return [Metric(name=n, value=v, unit=u, provenance=prov) for n, v, u in values]

    def metric(self, name: str) -> Metric:
        """One metric by name (see :meth:`metrics`).

        Raises:
            KeyError: no such metric (``peak_rss_mb`` needs an isolated run).
        """
        for item in self.metrics():
            if item.name == name:
                return item
        raise KeyError(name)


def source_identity(source: ModelSource | ArtifactSource) -> dict[str, object]:
    """What identifies the measured bytes: model + weights + size, or the file's digest."""
    if isinstance(source, ModelSource):
        return {"model": source.name, "weights": source.weights, "input_px": source.input_px}
    path = Path(source.path)
    # OpenVINO IR (.xml) and ncnn (.param) keep their weights in a sibling .bin; ONNX may keep
    # external data beside it: the weights are part of what is measured.
    companions = [p for p in (path.with_suffix(".bin"), path.with_name(path.name + ".data")) if p.is_file()]
    return {
        "sha256": sha256_file(path), "companions": [sha256_file(p) for p in companions], "input_px": source.input_px,
    }  # fmt: skip


def config_hash(spec: BenchSpec, config: BenchConfig) -> str:
    """Digest of everything besides the store's key columns that changes the numbers."""
    payload = {
        "protocol": PROTOCOL, "source": source_identity(spec.source), "warmup": config.warmup,
        "min_iters": config.min_iters, "min_seconds": config.min_seconds, "isolate": config.isolate,
    }  # fmt: skip
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def bench(spec: BenchSpec, config: BenchConfig | None = None) -> BenchResult:
    """Measure one cell (in a child process unless ``config.isolate`` is False).

    Raises:
        UnknownNameError: unknown runtime.
        MissingDependencyError: the runtime is not usable here (no GPU, package missing).
        BadInputError: the runtime cannot load the source.
        EdgekitError: the child process crashed or timed out.
    """
    return bench_many([spec], config)[0]


def _group_key(spec: BenchSpec) -> str:
    return spec.model_copy(update={"batch": 1}).model_dump_json()


def bench_many(specs: list[BenchSpec], config: BenchConfig | None = None,
               on_done: Callable[[BenchResult], None] | None = None) -> list[BenchResult]:  # fmt: skip
    """Measure several cells; those differing only in batch share one child (ascending batch).

    Results come back in the order of ``specs``; ``on_done`` is called as each one completes.

    Raises:
        the errors of :func:`bench`, before anything runs where they can be known early.
    """
    config = config or BenchConfig()
    for spec in specs:
        _child.check_runnable(get_runner(spec.runtime), spec)
    groups: dict[str, list[int]] = {}
    for index, spec in enumerate(specs):
        groups.setdefault(_group_key(spec), []).append(index)
    results: dict[int, BenchResult] = {}
    for indices in groups.values():
        ordered = sorted(indices, key=lambda i: specs[i].batch)
        group = [specs[i] for i in ordered]
        log.info("timing %s on %s, batch %s", group[0].model, group[0].runtime, ",".join(str(s.batch) for s in group))
        raws = _child.run_isolated(group, config) if config.isolate else [_child.execute(s, config) for s in group]
        for index, raw in zip(ordered, raws, strict=True):
            results[index] = _result(specs[index], raw, config)
            if on_done:
                on_done(results[index])
    return [results[i] for i in range(len(specs))]


def _result(spec: BenchSpec, raw: _child.RawResult, config: BenchConfig) -> BenchResult:
    runner = get_runner(spec.runtime)
    return BenchResult(
        spec=spec, device=runner.device, stats=raw.stats, memory=raw.memory, settings=raw.settings,
        load_average_1m=raw.load_average_1m,
        runtime_versions=tool_versions(("edgekit", *runner.packages)), fingerprint=fingerprint(), config=config,
        config_hash=config_hash(spec, config), run_id=uuid.uuid4().hex[:12], timestamp=datetime.now(timezone.utc),
    )  # fmt: skip


def bench_onnx(
    path: Path | str,
    runtime: str = "onnxruntime-cpu",
    batch: int = 1,
    threads: int | None = None,
    *,
    config: BenchConfig | None = None,
    model: str | None = None,
    variant: str = "fp32",
    input_px: int | None = None,
) -> BenchResult:
    """Benchmark an ONNX (or other runtime-native) file on one runtime.

    Example:
        >>> r = bench_onnx("resnet18.onnx", "onnxruntime-cpu", batch=1, threads=2)
        >>> r.metric("latency_ms_p50").format()
        '13.8 ms (measured, onnxruntime-cpu)'
    """
    path = Path(path)
    source = ArtifactSource(path=path.resolve(), input_px=input_px)
    spec = BenchSpec(source=source, runtime=runtime, batch=batch, threads=threads or usable_cores(),
                     model=model or path.stem, variant=variant)  # fmt: skip
    return bench(spec, config)


def model_spec(name: str, runtime: str, batch: int, threads: int | None = None, *, weights: str = "none",
               input_px: int | None = None) -> BenchSpec:  # fmt: skip
    """The spec for a registry model: built in-process by torch, else its cached fp32 ONNX export."""
    runner = get_runner(runtime)
    source: ModelSource | ArtifactSource
    if runner.builds_models:
        source = ModelSource(name=name, weights=weights, input_px=input_px)
    else:
        source = ArtifactSource(path=fp32_onnx(name, weights, input_px), input_px=input_px)
    return BenchSpec(source=source, runtime=runtime, batch=batch, threads=threads or usable_cores(), model=name)


def bench_model(name: str, runtime: str = "onnxruntime-cpu", batch: int = 1, threads: int | None = None, *,
                weights: str = "none", config: BenchConfig | None = None) -> BenchResult:  # fmt: skip
    """Benchmark a registry model (fp32) on one runtime; see :func:`model_spec`."""
    return bench(model_spec(name, runtime, batch, threads, weights=weights), config)


# A short run is enough for memory: the peak is reached by the first inferences.
_MEMORY_CONFIG = BenchConfig(warmup=1, min_iters=3, min_seconds=0.0, isolate=True)


def peak_rss_of(runtime: str, onnx_path: Path | str, batch: int = 1, threads: int | None = None) -> MemoryStats:
    """Peak RSS of loading ``onnx_path`` in ``runtime`` and running a few inferences, in a fresh child.

    Raises:
        the same errors as :func:`bench`.
    """
    result = bench_onnx(onnx_path, runtime, batch, threads, config=_MEMORY_CONFIG)
    assert result.memory is not None  # isolated runs always report memory
    return result.memory
