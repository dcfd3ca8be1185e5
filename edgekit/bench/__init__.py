"""Measurement: one protocol, runners per runtime, host fingerprint, isolated runs with peak RSS.

``edgekit.bench(models, ...)`` (this package, called) measures through the results store as ``edgekit bench``
does: :func:`edgekit.compare.cached.bench_models`.
"""

from edgekit._callable import callable_module
from edgekit.bench._spec import BoardLabel
from edgekit.bench._stats import LatencyStats, MemoryStats, summarize
from edgekit.bench.host import HostFingerprint, fingerprint, usable_cores
from edgekit.bench.measure import IntervalTimer, measure
from edgekit.bench.run import (
    PROTOCOL,
    BenchConfig,
    BenchResult,
    BenchSpec,
    bench,
    bench_many,
    bench_model,
    bench_onnx,
    config_hash,
    model_spec,
    peak_rss_of,
)
from edgekit.bench.runners import (
    ArtifactSource,
    ModelSource,
    PreparedRun,
    Runner,
    available_runners,
    get_runner,
    list_runners,
    register_runner,
    resolve_runtime,
)

__all__ = [
    "PROTOCOL",
    "ArtifactSource",
    "BenchConfig",
    "BenchResult",
    "BenchSpec",
    "BoardLabel",
    "HostFingerprint",
    "IntervalTimer",
    "LatencyStats",
    "MemoryStats",
    "ModelSource",
    "PreparedRun",
    "Runner",
    "available_runners",
    "bench",
    "bench_many",
    "bench_model",
    "bench_onnx",
    "config_hash",
    "fingerprint",
    "get_runner",
    "list_runners",
    "measure",
    "model_spec",
    "peak_rss_of",
    "register_runner",
    "resolve_runtime",
    "summarize",
    "usable_cores",
]

callable_module(__name__, "edgekit.compare.cached:bench_models")
