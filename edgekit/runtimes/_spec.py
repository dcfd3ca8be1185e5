"""The runtime declaration and its registry.

A runtime module (``edgekit/runtimes/<name>.py``, or a plug-in module named by an entry point
of the ``edgekit.runtimes`` group) defines its runners (timing, registered with
``@register_runner``) and its converter (convert an ONNX artifact, run it here for parity), and
declares them in one :class:`Runtime` with :func:`register_runtime`. Target files name the
runtime in ``verification.verifier``; every map from targets to runners, file kinds, manifest
roles and recorded package versions is derived from these declarations.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from edgekit._registry import Registry

# The built-in runtime modules, in the order their targets and runners are listed.
BUILT_IN = ("onnxruntime", "openvino", "ncnn", "torch")
ENTRY_POINT_GROUP = "edgekit.runtimes"


@dataclass(frozen=True)
class Runtime:
    """What edgekit knows about one runtime, in one place.

    Attributes:
        name: the name target files use (``verification.verifier``), e.g. ``openvino``.
        description: one line for listings.
        runners: names of the bench runners that time it (one per device), e.g. ``openvino-cpu``.
        converter: the :class:`~edgekit.targets._converter.ToolchainConverter` subclass that
            converts an ONNX artifact and runs it here, or None when it only times.
        packages: pip distributions whose versions go with its measurements and conversions.
        artifact_suffix: the file of a conversion its runner loads (``.xml``, ``.param``; ``.onnx``
            when it runs the ONNX artifact itself).
        artifact_folder: the folder of an export holding the converted files (None: none).
        artifact_role: the manifest role of those files (``openvino-ir``, ``ncnn``).
        times_targets_with: the runner that times a CPU target's converted artifact
            (``compare --targets``), or None.
        abbreviation: how tables too narrow for the name write it (``ort``), or None to keep the name.
    """

    name: str
    description: str
    runners: tuple[str, ...] = ()
    converter: type[Any] | None = None
    packages: tuple[str, ...] = ()
    artifact_suffix: str = ".onnx"
    artifact_folder: str | None = None
    artifact_role: str = "onnx"
    times_targets_with: str | None = None
    abbreviation: str | None = None

    def target_runner(self, requires_cuda: bool) -> str | None:
        """The runner that times a target's converted artifact here (CUDA targets: none)."""
        return None if requires_cuda else self.times_targets_with


def _import_built_ins() -> None:
    for name in BUILT_IN:
        importlib.import_module(f"edgekit.runtimes.{name}")


RUNTIMES: Registry[Runtime] = Registry("runtime", listing="inline", discover=_import_built_ins,
                                       entry_point_group=ENTRY_POINT_GROUP)  # fmt: skip


def register_runtime(runtime: Runtime) -> Runtime:
    """Declare a runtime (a second one with the same name raises ValueError)."""
    return RUNTIMES.register(runtime.name, runtime)


def get_runtime(name: str) -> Runtime:
    """The runtime called ``name`` (built-ins and plug-ins).

    Raises:
        UnknownNameError: no such runtime (lists close matches).
    """
    return RUNTIMES.get(name)


def list_runtimes() -> list[Runtime]:
    """Every declared runtime, built-ins first in :data:`BUILT_IN` order, then plug-ins."""
    RUNTIMES.discover()
    return list(RUNTIMES.entries.values())


def target_timing(spec: Any) -> tuple[str, str] | None:
    """For a :class:`~edgekit.targets.TargetSpec`: (runner that times its converted artifact here, file
    suffix that runner loads), or None when the target is not timeable here (no runtime, CUDA, no runner)."""
    if spec.verification.verifier is None:
        return None
    runtime = get_runtime(spec.verification.verifier)
    runner = runtime.target_runner(spec.verification.requires_cuda)
    return None if runner is None else (runner, runtime.artifact_suffix)


def runtime_packages() -> tuple[str, ...]:
    """The distributions of every runtime, each once, in declaration order."""
    return tuple(dict.fromkeys(p for runtime in list_runtimes() for p in runtime.packages))
