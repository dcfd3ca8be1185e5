"""Runtimes: one module per runtime declares how edgekit converts, verifies and times with it.

``onnxruntime.py``, ``openvino.py``, ``ncnn.py`` and ``torch.py`` each hold the runtime's bench
runners, its converter (where it converts and runs here) and one :class:`Runtime` declaration.
Plug-ins add runtimes through the ``edgekit.runtimes`` entry-point group. Importing this package
is cheap: runtime modules load on first lookup, and their vendor packages only when used.
"""

from edgekit.runtimes._spec import (
    BUILT_IN,
    ENTRY_POINT_GROUP,
    RUNTIMES,
    Runtime,
    get_runtime,
    list_runtimes,
    register_runtime,
    runtime_packages,
    target_timing,
)

__all__ = [
    "BUILT_IN",
    "ENTRY_POINT_GROUP",
    "RUNTIMES",
    "Runtime",
    "get_runtime",
    "list_runtimes",
    "register_runtime",
    "runtime_packages",
    "target_timing",
]
