"""FP16 conversion and onnxruntime dynamic quantization."""

from __future__ import annotations

from collections import Counter

import onnx

from edgekit.passes import get_pass
from edgekit.verify import FP16_MAX_RELATIVE_ERROR, Evaluated, ProbeInputs, random_inputs, structural_check, verify_step
from tests.passes.tiny import TINY_SHAPE, onnx_artifact


def _probe() -> ProbeInputs:
    images = random_inputs(TINY_SHAPE, 8)
    return ProbeInputs(random=random_inputs(TINY_SHAPE), images=images, images_label="random images")


def _elem_type(value: onnx.ValueInfoProto) -> int:
    return value.type.tensor_type.elem_type


def test_fp16_halves_weights_keeps_float32_io_and_is_valid() -> None:
    source = onnx_artifact()
    result = get_pass("fp16").run(source)
    half = result.artifact.model
    assert _elem_type(half.graph.input[0]) == onnx.TensorProto.FLOAT
    assert _elem_type(half.graph.output[0]) == onnx.TensorProto.FLOAT
    weights = [i for i in half.graph.initializer if len(i.dims) > 1]
    assert weights
    assert {i.data_type for i in weights} == {onnx.TensorProto.FLOAT16}
    assert result.report.metric("cast_nodes").value >= 2
    assert structural_check(result.artifact) == "ok"  # Cast nodes re-sorted topologically
    verdict = verify_step("fp16", "fp16", Evaluated(source, _probe()), Evaluated(result.artifact, _probe()))
    assert verdict.status == "passed"
    assert verdict.fidelity.relative_max_error <= FP16_MAX_RELATIVE_ERROR
    assert verdict.fidelity.relative_max_error > 0  # it really is half precision


def test_fp16_io_can_be_float16_when_asked() -> None:
    half = get_pass("fp16").run(onnx_artifact(), {"keep_io_float32": False}).artifact.model
    assert _elem_type(half.graph.input[0]) == onnx.TensorProto.FLOAT16


def test_ort_dynamic_turns_convolutions_into_convinteger() -> None:
    source = onnx_artifact()
    convs = sum(n.op_type == "Conv" for n in source.model.graph.node)
    result = get_pass("ort_dynamic_quant").run(source)
    ops = Counter(n.op_type for n in result.artifact.model.graph.node)
    assert ops["ConvInteger"] == convs == 3
    assert ops["Conv"] == 0
    assert result.report.metric("integer_nodes").value == ops["ConvInteger"] + ops["MatMulInteger"]
    conv_weights = [i for i in result.artifact.model.graph.initializer if len(i.dims) == 4]
    assert {i.data_type for i in conv_weights} == {onnx.TensorProto.INT8}
    verdict = verify_step("ort_dynamic_quant", "int8", Evaluated(source, _probe()),
                          Evaluated(result.artifact, _probe()))  # fmt: skip
    assert verdict.status == "passed"
    assert verdict.fidelity.cosine_mean > 0.99
