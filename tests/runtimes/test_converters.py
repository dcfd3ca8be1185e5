"""Runtime converters convert and run real artifacts here; toolchain failures name the op and the target."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgekit.errors import BadInputError, MissingDependencyError
from edgekit.fidelity import fidelity
from edgekit.ort import make_session, run_batches
from edgekit.targets import get_target
from edgekit.targets._converter import get_converter, why_not_verifiable
from edgekit.verify import FP32_MAX_RELATIVE_ERROR
from tests.targets import _vendor
from tests.targets._graphs import SIDE, classifier, save

PIXELS = np.random.default_rng(3).standard_normal((4, 3, SIDE, SIDE)).astype(np.float32)


def _reference(path: Path) -> np.ndarray:
    return run_batches(make_session(path, optimize=False), PIXELS)


@pytest.mark.parametrize(
    "target_id", [pytest.param("onnxruntime-cpu"), pytest.param("openvino-cpu", marks=_vendor.openvino),
                  pytest.param("ncnn", marks=_vendor.ncnn)],
)  # fmt: skip
def test_fp32_conversion_matches_the_parent(tmp_path: Path, target_id: str) -> None:
    path = save(classifier(), tmp_path / "tiny.onnx")
    verifier = get_converter(get_target(target_id), threads=1)
    files = verifier.convert(path, tmp_path, "fp32")
    assert all((tmp_path / f).is_file() for f in files)
    logits = verifier.run(tmp_path, files, PIXELS)
    result = fidelity(_reference(path), logits)
    assert logits.shape == (4, 10)
    assert result.relative_max_error <= FP32_MAX_RELATIVE_ERROR
    assert result.top1_agreement == 1.0


@_vendor.requires_openvino
def test_openvino_writes_ir_and_fp16_compresses_weights(tmp_path: Path) -> None:
    path = save(classifier(), tmp_path / "tiny.onnx")
    verifier = get_converter(get_target("openvino-cpu"))
    assert verifier.convert(path, tmp_path / "a", "fp32") == [Path("openvino/tiny.xml"), Path("openvino/tiny.bin")]
    verifier.convert(path, tmp_path / "b", "fp16")
    fp32_bytes = (tmp_path / "a/openvino/tiny.bin").stat().st_size
    assert (tmp_path / "b/openvino/tiny.bin").stat().st_size < 0.6 * fp32_bytes


@_vendor.requires_openvino
def test_openvino_names_the_op_it_cannot_convert(tmp_path: Path) -> None:
    path = save(classifier("Foo", domain="com.example"), tmp_path / "foo.onnx")
    expected = r"^target openvino-cpu: OpenVINO \S+ cannot convert operator\(s\) com.example::Foo$"
    with pytest.raises(BadInputError, match=expected):
        get_converter(get_target("openvino-cpu")).convert(path, tmp_path, "fp32")


@_vendor.requires_ncnn
def test_ncnn_names_the_layer_it_lacks(tmp_path: Path) -> None:
    path = save(classifier("Softsign"), tmp_path / "soft.onnx")
    with pytest.raises(BadInputError, match=r"^target ncnn: ncnn has no layer for Softsign \(pnnx could not lower"):
        get_converter(get_target("ncnn")).convert(path, tmp_path, "fp32")


@_vendor.requires_ncnn
def test_ncnn_needs_a_static_shape(tmp_path: Path) -> None:
    path = save(classifier(batch="batch"), tmp_path / "dyn.onnx")
    expected = r"target ncnn needs a static input shape for pnnx, got \['batch', 3, 32, 32\]"
    with pytest.raises(BadInputError, match=expected):
        get_converter(get_target("ncnn")).convert(path, tmp_path, "fp32")


def test_vendor_sdk_targets_say_why_they_are_not_verifiable() -> None:
    assert why_not_verifiable(get_target("tensorrt")).startswith("not verifiable on a host without an NVIDIA GPU")
    with pytest.raises(MissingDependencyError, match=r"^target rknn cannot be verified here: rknn-toolkit2"):
        get_converter(get_target("rknn"))


def test_cuda_target_without_the_cuda_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    import onnxruntime

    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ["CPUExecutionProvider"])
    assert why_not_verifiable(get_target("onnxruntime-cuda")) == (
        "needs onnxruntime-gpu with the CUDA provider and an NVIDIA GPU"
    )
    both = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: both)
    assert why_not_verifiable(get_target("onnxruntime-cuda")) is None  # CUDA path logic, tested without a GPU


def test_missing_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "openvino" else real(name, *a))
    assert why_not_verifiable(get_target("openvino-cpu")) == "needs openvino (pip install edgekit[openvino])"
