"""The verifier interface: convert an ONNX artifact with a vendor toolchain and run it here.

One module per toolchain (``onnxruntime.py``, ``openvino.py``, ``ncnn.py``) subclasses
:class:`ToolchainVerifier`; the subclass registers itself under its ``name`` (duplicates raise).
Modules are imported only when a target needs them, so vendor packages stay optional.
"""

from __future__ import annotations

import importlib
import importlib.util
from abc import ABC, abstractmethod
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import ClassVar

import numpy as np

from edgekit.errors import MissingDependencyError
from edgekit.targets._schema import TargetSpec

_MODULES = {
    "onnxruntime": "edgekit.targets.onnxruntime",
    "openvino": "edgekit.targets.openvino",
    "ncnn": "edgekit.targets.ncnn",
}


class ToolchainVerifier(ABC):
    """Converts an ONNX artifact into a toolchain's format and runs it on CPU here.

    Example:
        >>> verifier = get_verifier(get_target("openvino-cpu"))
        >>> files = verifier.convert(Path("out/model.onnx"), Path("out"), "fp32")
        >>> logits = verifier.run(Path("out"), files, pixels)  # (N, classes)
    """

    name: ClassVar[str]
    distributions: ClassVar[tuple[str, ...]] = ()  # pip distributions whose versions go in the manifest
    _registry: ClassVar[dict[str, type[ToolchainVerifier]]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name in ToolchainVerifier._registry:
            raise ValueError(f"a verifier named {cls.name!r} is already registered")
        ToolchainVerifier._registry[cls.name] = cls

    def __init__(self, spec: TargetSpec, threads: int | None = None) -> None:
        self.spec = spec
        self.threads = threads

    @abstractmethod
    def convert(self, onnx_path: Path, out_dir: Path, precision: str) -> list[Path]:
        """Write the toolchain's artifact below ``out_dir``; return the files, relative to it.

        Raises:
            BadInputError: the toolchain cannot convert an operator (the message names it and the target).
            VerificationError: the toolchain failed for another reason.
        """

    @abstractmethod
    def run(self, out_dir: Path, files: list[Path], pixels: np.ndarray) -> np.ndarray:
        """Run (N, C, H, W) float32 inputs through the converted artifact; return (N, classes) logits."""

    def tool_versions(self) -> dict[str, str]:
        """Versions of the toolchain packages used."""
        found = {}
        for dist in self.distributions:
            try:
                found[dist] = version(dist)
            except PackageNotFoundError:
                continue
        return found

    def cuda_missing(self) -> str | None:
        """Why a CUDA target cannot run here (None when it can); overridden by runtimes that know."""
        return "needs a CUDA device" if self.spec.verification.requires_cuda else None


def missing_packages(spec: TargetSpec) -> list[str]:
    """Import names of the target's verification packages that are not installed (no import done)."""
    return [p for p in spec.verification.python_packages if importlib.util.find_spec(p) is None]


def why_not_verifiable(spec: TargetSpec) -> str | None:
    """Why the target cannot be converted and run here, or None when it can."""
    if spec.verification.verifier is None:
        return spec.verification.note or f"no pip-installable {spec.toolchain.name} for this host"
    missing = missing_packages(spec)
    if missing:
        extra = spec.verification.extra
        hint = f"pip install edgekit[{extra}]" if extra else "pip install " + " ".join(missing)
        return f"needs {', '.join(missing)} ({hint})"
    if spec.verification.requires_cuda:
        return _load(spec.verification.verifier)(spec).cuda_missing()
    return None


def _load(name: str) -> type[ToolchainVerifier]:
    importlib.import_module(_MODULES[name])
    return ToolchainVerifier._registry[name]


def get_verifier(spec: TargetSpec, threads: int | None = None) -> ToolchainVerifier:
    """The verifier of a target, ready to use.

    Raises:
        MissingDependencyError: the target has no verifier here, or its packages or device are missing.
    """
    reason = why_not_verifiable(spec)
    if reason is not None or spec.verification.verifier is None:
        raise MissingDependencyError(f"target {spec.id} cannot be verified here: {reason}")
    return _load(spec.verification.verifier)(spec, threads)
