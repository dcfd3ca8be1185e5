"""Runner registry: ``torch-cpu``, ``torch-cuda``, ``onnxruntime-cpu``, ``openvino-cpu``, ...

The runners live in the runtime modules (:mod:`edgekit.runtimes`), loaded on first lookup with
the ``edgekit.runtimes`` plug-ins; any module may add one with a ``@register_runner`` class.
"""

from __future__ import annotations

from edgekit._registry import unknown_name
from edgekit.bench.runners._base import (
    RUNNERS,
    ArtifactSource,
    Device,
    ModelSource,
    PreparedRun,
    Runner,
    Source,
    register_runner,
    registered,
)
from edgekit.errors import BadInputError

__all__ = [
    "RUNNERS",
    "ArtifactSource",
    "Device",
    "ModelSource",
    "PreparedRun",
    "Runner",
    "Source",
    "available_runners",
    "get_runner",
    "list_runners",
    "register_runner",
    "resolve_runtime",
]


def list_runners(pattern: str | None = None) -> list[str]:
    """Names of all registered runners (available here or not), filtered by an fnmatch pattern."""
    return RUNNERS.names(pattern)


def get_runner(name: str) -> Runner:
    """Return a runner instance by name.

    Raises:
        UnknownNameError: no runner has that name (lists close matches).
    """
    return RUNNERS.get(name)()


def available_runners(device: Device | None = None) -> list[str]:
    """Runners usable on this host, optionally only those of one device."""
    names = [n for n in list_runners() if device is None or registered()[n].device == device]
    return [n for n in names if get_runner(n).unavailable_reason() is None]


def resolve_runtime(text: str, device: Device) -> str:
    """Map ``--runtime`` text to a runner name: a full name, or a family plus ``device``.

    ``onnxruntime`` with ``device="cuda"`` becomes ``onnxruntime-cuda``; a full name must
    match the device.

    Raises:
        UnknownNameError: neither a runner nor a family with a runner on that device.
        BadInputError: a full runner name for another device.
    """
    names = list_runners()
    if text in names:
        runner_device = registered()[text].device
        if runner_device != device:
            raise BadInputError(f"runtime {text!r} runs on {runner_device}, but --device is {device}")
        return text
    if f"{text}-{device}" in names:
        return f"{text}-{device}"
    families = sorted({registered()[n].family for n in names})
    raise unknown_name(text, families + names, "runtime", listing="inline")
