"""The converter interface: turn an ONNX artifact into a toolchain's format and run it here.

Each runtime module in :mod:`edgekit.runtimes` that converts (``onnxruntime``, ``openvino``,
``ncnn``, or a plug-in) subclasses :class:`ToolchainConverter` and names the subclass in its
:class:`~edgekit.runtimes.Runtime` declaration; a target file names the runtime in
``verification.verifier``. Runtime modules are imported only when a target needs them, and
vendor packages only inside ``convert``/``run``, so they stay optional.
"""

from __future__ import annotations

import importlib.util
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import numpy as np

from edgekit._versions import package_versions
from edgekit.errors import MissingDependencyError
from edgekit.runtimes import get_runtime, list_runtimes, target_timing
from edgekit.targets._registry import get_target, list_targets
from edgekit.targets._schema import TargetSpec


class ToolchainConverter(ABC):
    """Converts an ONNX artifact into a toolchain's format and runs it on CPU here.

    Example:
        >>> converter = get_converter(get_target("openvino-cpu"))
        >>> files = converter.convert(Path("out/model.onnx"), Path("out"), "fp32")
        >>> logits = converter.run(Path("out"), files, pixels)  # (N, classes)
    """

    name: ClassVar[str]  # the runtime's name
    distributions: ClassVar[tuple[str, ...]] = ()  # pip distributions whose versions go in the manifest

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
        return {name: v for name, v in package_versions(self.distributions).items() if v is not None}

    def cuda_missing(self) -> str | None:
        """Why a CUDA target cannot run here (None when it can); overridden by runtimes that know."""
        return "needs a CUDA device" if self.spec.verification.requires_cuda else None


def missing_packages(spec: TargetSpec) -> list[str]:
    """Import names of the target's verification packages that are not installed (no import done)."""
    return [p for p in spec.verification.python_packages if importlib.util.find_spec(p) is None]


def why_not_verifiable(spec: TargetSpec) -> str | None:
    """Why the target cannot be converted and run here, or None when it can.

    Raises:
        UnknownNameError: the target names a runtime that is not declared.
    """
    if spec.verification.verifier is None:
        return spec.verification.note or f"no pip-installable {spec.toolchain.name} for this host"
    runtime = get_runtime(spec.verification.verifier)
    if runtime.converter is None:
        return f"runtime {runtime.name} times artifacts but does not convert them"
    missing = missing_packages(spec)
    if missing:
        extra = spec.verification.extra
        hint = f"pip install edgekit[{extra}]" if extra else "pip install " + " ".join(missing)
        return f"needs {', '.join(missing)} ({hint})"
    if spec.verification.requires_cuda:
        return runtime.converter(spec).cuda_missing()
    return None


def get_converter(spec: TargetSpec, threads: int | None = None) -> ToolchainConverter:
    """The converter of a target, ready to use.

    Raises:
        MissingDependencyError: the target has no converter here, or its packages or device are missing.
    """
    reason = why_not_verifiable(spec)
    if reason is not None or spec.verification.verifier is None:
        raise MissingDependencyError(f"target {spec.id} cannot be verified here: {reason}")
    return get_runtime(spec.verification.verifier).converter(spec, threads)


def timed_targets() -> dict[str, tuple[str, str]]:
    """Target → (runner that times its converted artifact here, file suffix it loads), for every target a
    runtime converts and times on this host's CPU, in runtime declaration order (then by id)."""
    order = {runtime.name: i for i, runtime in enumerate(list_runtimes())}
    specs = [get_target(t) for t in list_targets()]
    timed = [(order.get(s.verification.verifier or "", len(order)), s.id, target_timing(s)) for s in specs]
    return {target: timing for _, target, timing in sorted(timed, key=lambda row: row[0]) if timing is not None}
