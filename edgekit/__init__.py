"""edgekit: choose, optimize, export and verify image classifiers for embedded devices.

The Python API returns the typed results the command line renders::

    import edgekit

    best = edgekit.recommend("512MB", fps=30, profile="raspberry-pi-4,rk3588")   # Recommendation
    variant = edgekit.optimize("mobilenet_v2", "int8", weights="imagenet")       # OptimizeResult
    rows = edgekit.bench(["mobilenet_v2"], runtimes=["onnxruntime-cpu"])         # list[BenchResult]
    artifact = edgekit.export("mobilenet_v2", "openvino-cpu", "int8")            # ExportResult

Names load on first use (module ``__getattr__``), so ``import edgekit`` imports neither torch nor onnx.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("edgekit")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

# Public name → (module, attribute); attribute None: the module itself, which is callable (edgekit._callable).
_API: dict[str, tuple[str, str | None]] = {
    "recommend": ("edgekit.recommend", None),
    "optimize": ("edgekit.optimize", None),
    "bench": ("edgekit.bench", None),
    "export": ("edgekit.targets.export", "export_for_target"),
    "Constraints": ("edgekit.recommend", "Constraints"),
    "Recommendation": ("edgekit.recommend", "Recommendation"),
    "Candidate": ("edgekit.recommend", "Candidate"),
    "OptimizeResult": ("edgekit.optimize", "OptimizeResult"),
    "BenchConfig": ("edgekit.bench", "BenchConfig"),
    "BenchResult": ("edgekit.bench", "BenchResult"),
    "ExportResult": ("edgekit.targets.export", "ExportResult"),
    "Metric": ("edgekit.metrics", "Metric"),
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'edgekit' has no attribute {name!r}")
    module, attribute = _API[name]
    loaded = importlib.import_module(module)
    return loaded if attribute is None else getattr(loaded, attribute)


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
