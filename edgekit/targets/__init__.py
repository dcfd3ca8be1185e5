"""Vendor targets: what each toolchain accepts, pre-flight, hand-off commands, verified exports.

The data lives in ``targets/*.yaml`` (validated by :class:`TargetSpec`). Importing this package
is cheap: torch, onnxruntime and the vendor packages are imported only by the functions that
build, convert or run an artifact (``export_for_target`` is loaded on first use).
"""

from __future__ import annotations

from typing import Any

from edgekit.targets._registry import get_target, list_targets, load_target_file, load_targets, target_dirs
from edgekit.targets._schema import (
    SCHEMA_VERSION,
    Handoff,
    OperatorSupport,
    Quantization,
    RuntimeOverhead,
    TargetSpec,
    Toolchain,
    VerificationSpec,
)

# The pre-flight function is ``edgekit.targets.preflight.preflight`` (the submodule owns the name).
_LAZY = {"export_for_target": "edgekit.targets.export", "ExportResult": "edgekit.targets.export",
         "PreflightReport": "edgekit.targets.preflight", "require_preflight": "edgekit.targets.preflight"}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'edgekit.targets' has no attribute {name!r}")


__all__ = [
    "SCHEMA_VERSION",
    "ExportResult",
    "Handoff",
    "OperatorSupport",
    "PreflightReport",
    "Quantization",
    "RuntimeOverhead",
    "TargetSpec",
    "Toolchain",
    "VerificationSpec",
    "export_for_target",
    "get_target",
    "list_targets",
    "load_target_file",
    "load_targets",
    "require_preflight",
    "target_dirs",
]
