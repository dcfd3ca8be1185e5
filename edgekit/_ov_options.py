"""OpenVINO CPU compilation for timing, set one way: LATENCY hint, one stream, f32, explicit threads.

Portable: openvino and numpy only (the caller imports openvino), Python >= 3.9; shipped verbatim to boards
(see :mod:`edgekit.devices.bundle`), so a board compiles exactly like this machine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# f32 on purpose: on CPUs with AMX/AVX512-BF16 OpenVINO would otherwise pick bf16 silently,
# and an fp32 row must be fp32. One stream + LATENCY hint = one request at a time.
COMPILE_CONFIG = {"PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": "1", "INFERENCE_PRECISION_HINT": "f32"}


def timed_request(ov: Any, core: Any, model: Any, shape: tuple[int, ...], threads: int,
                  pixels: Any) -> tuple[Callable[[], object], dict[str, str]]:  # fmt: skip
    """Reshape ``model`` to ``shape``, compile it for the CPU, bind ``pixels``; return (one inference, settings)."""
    model.reshape({model.inputs[0].any_name: ov.PartialShape(list(shape))})
    config = dict(COMPILE_CONFIG, INFERENCE_NUM_THREADS=str(threads))
    request = core.compile_model(model, "CPU", config).create_infer_request()
    request.set_input_tensor(ov.Tensor(pixels))
    return request.infer, dict(config, device="CPU")
