"""Recompute what can be recomputed: the onnxruntime deny-list and each verifiable target's opset_max."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from edgekit.targets import get_target
from edgekit.targets._converter import get_converter
from tests.targets import _vendor
from tests.targets._graphs import SIDE, classifier, save


def _ort_missing_ops() -> list[str]:
    """ai.onnx ops with neither an onnxruntime CPU kernel nor a function body (run as its expansion)."""
    import onnxruntime.capi.onnxruntime_pybind11_state as ort_state

    kernels = {k.op_name for k in ort_state.get_all_opkernel_def()
               if k.provider == "CPUExecutionProvider" and k.domain in ("", "ai.onnx")}  # fmt: skip
    schemas = {s.name: s for s in onnx.defs.get_all_schemas() if s.domain == ""}
    return sorted(n for n, s in schemas.items()
                  if n not in kernels and not (s.has_function or s.has_context_dependent_function))  # fmt: skip


@pytest.mark.parametrize("target_id", ["onnxruntime-cpu", "onnxruntime-cuda"])
def test_onnxruntime_deny_list_matches_the_installed_kernels(target_id: str) -> None:
    ops = get_target(target_id).ops
    missing = [op for op in _ort_missing_ops() if op not in ops.folded_by_converter]
    assert sorted(ops.unsupported or []) == missing


@pytest.mark.parametrize(
    "target_id", ["onnxruntime-cpu", pytest.param("openvino-cpu", marks=_vendor.openvino),
                  pytest.param("ncnn", marks=_vendor.ncnn)],
)  # fmt: skip
def test_a_model_at_opset_max_converts_and_runs(tmp_path: Path, target_id: str) -> None:
    spec = get_target(target_id)
    path = save(classifier(opset=spec.opset_max), tmp_path / "top.onnx")
    verifier = get_converter(spec, threads=1)
    files = verifier.convert(path, tmp_path, "fp32")
    logits = verifier.run(tmp_path, files, np.zeros((1, 3, SIDE, SIDE), np.float32))
    assert logits.shape == (1, 10)
    assert np.isfinite(logits).all()
