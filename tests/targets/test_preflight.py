"""Pre-flight names the op, opset, shape, precision or int8-format rule an artifact breaks, and the target."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from onnx import helper

from edgekit.errors import BadInputError
from edgekit.targets.preflight import detect_precision, preflight, require_preflight
from tests.targets._graphs import classifier, quantized, save


def test_clean_classifier_passes_onnxruntime() -> None:
    report = preflight(classifier(), "onnxruntime-cpu")
    assert report.passed
    assert report.precision == "fp32"
    assert report.opset == 17
    assert report.op_counts == {"Conv": 1, "Flatten": 1, "Gemm": 1, "GlobalAveragePool": 1, "Relu": 1}
    assert report.input_shapes == {"input": [1, 3, 32, 32]}


def test_operator_the_target_lacks_is_named_with_the_target() -> None:
    report = preflight(classifier("Erf"), "rknn", "fp16")
    assert [(i.check, i.op_type, i.count) for i in report.issues] == [("op", "Erf", 1)]
    assert report.issues[0].message.startswith(
        "operator Erf (1 node, e.g. erf0) is not supported by target rknn (rknn-toolkit2; list: https://"
    )
    with pytest.raises(BadInputError, match=r"^pre-flight failed for target rknn: operator Erf \(1 node"):
        require_preflight(classifier("Erf"), "rknn", "fp16")


def test_deny_list_targets_reject_listed_ops_only() -> None:
    assert preflight(classifier("Erf"), "tensorrt").passed
    assert [i.op_type for i in preflight(classifier("Det"), "tensorrt").issues] == ["Det"]


def test_custom_domain_ops_need_the_domain() -> None:
    model = classifier("FusedGelu", domain="com.microsoft")
    assert preflight(model, "onnxruntime-cpu").passed
    assert [i.op_type for i in preflight(model, "openvino-cpu").issues] == ["com.microsoft::FusedGelu"]


def test_ops_inside_subgraphs_are_checked() -> None:
    inner = helper.make_graph([helper.make_node("Erf", ["act"], ["y"], name="inner_erf")], "branch", [],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)])  # fmt: skip
    model = classifier()
    condition = helper.make_tensor("c", onnx.TensorProto.BOOL, [], [True])
    model.graph.node.append(helper.make_node("Constant", [], ["cond"], value=condition))  # a valid graph defines it
    model.graph.node.append(helper.make_node("If", ["cond"], ["z"], then_branch=inner, else_branch=inner))
    report = preflight(model, "esp-dl", "int8")
    assert {(i.op_type, i.count) for i in report.issues} == {("If", 1), ("Erf", 2)}


def test_opset_outside_the_range_is_reported() -> None:
    report = preflight(classifier(opset=20), "rknn", "fp16")
    assert [i.check for i in report.issues] == ["opset"]
    assert report.issues[0].message == "opset 20 is outside target rknn's range 7-19 (edgekit exports opset 12 for it)"


def test_dynamic_batch_fails_static_shape_targets_only() -> None:
    model = classifier(batch="batch")
    assert preflight(model, "onnxruntime-cpu").passed
    (issue,) = preflight(model, "ncnn").issues
    assert issue.check == "static-shape"
    assert issue.message.startswith("input input has dynamic dims ['batch'] (shape ['batch', 3, 32, 32]); target ncnn")


def test_unsupported_precision_lists_the_supported_ones() -> None:
    (issue,) = preflight(classifier(), "esp-dl").issues
    assert issue.message == "target esp-dl accepts precisions int8; not fp32"


def test_self_calibrating_target_refuses_a_qdq_file(tmp_path: Path) -> None:
    qdq = quantized(save(classifier(), tmp_path / "f.onnx"), tmp_path / "q.onnx")
    (issue,) = preflight(qdq, "rknn", "int8").issues
    assert issue.message == ("target rknn takes a fp32-onnx+calibration for int8, but the model is int8 "
                             "(it quantizes by itself from calibration data)")  # fmt: skip


def test_int8_format_is_checked_against_the_target(tmp_path: Path) -> None:
    float_path = save(classifier(), tmp_path / "f.onnx")
    asymmetric_u8 = quantized(float_path, tmp_path / "u8.onnx")
    assert preflight(asymmetric_u8, "onnxruntime-cpu").passed
    messages = [i.message for i in preflight(asymmetric_u8, "tensorrt").issues]
    assert messages == [
        "int8 format for target tensorrt: activations are uint8, target wants int8",
        "int8 format for target tensorrt: activation zero points must all be 0 (symmetric)",
    ]
    symmetric_i8 = quantized(float_path, tmp_path / "i8.onnx", symmetric=True, activation="int8")
    assert preflight(symmetric_i8, "tensorrt").passed
    per_tensor = quantized(float_path, tmp_path / "pt.onnx", per_channel=False)
    assert [i.message for i in preflight(per_tensor, "onnxruntime-cpu").issues] == [
        "int8 format for target onnxruntime-cpu: 2 of 2 weights are per-tensor, target wants per-channel"
    ]


def test_dynamic_quantization_is_not_qdq(tmp_path: Path) -> None:
    from onnxruntime.quantization import quantize_dynamic

    float_path = save(classifier(), tmp_path / "f.onnx")
    quantize_dynamic(str(float_path), str(tmp_path / "d.onnx"))
    (issue,) = [i for i in preflight(tmp_path / "d.onnx", "openvino-cpu", "int8").issues if i.check == "precision"]
    assert "takes int8 as QDQ (QuantizeLinear/DequantizeLinear); the model uses integer operators" in issue.message


def test_detect_precision(tmp_path: Path) -> None:
    from onnx import numpy_helper

    model = classifier()
    assert detect_precision(model) == "fp32"
    for index, tensor in enumerate(model.graph.initializer):
        model.graph.initializer[index].CopyFrom(numpy_helper.from_array(numpy_helper.to_array(tensor).astype("float16"),
                                                                        tensor.name))  # fmt: skip
    assert detect_precision(model) == "fp16"
    qdq = quantized(save(classifier(), tmp_path / "f.onnx"), tmp_path / "q.onnx")
    assert detect_precision(onnx.load(str(qdq))) == "int8"


def test_unreadable_file_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "x.onnx").write_bytes(b"not onnx")
    with pytest.raises(BadInputError, match=r"is not a readable ONNX model"):
        preflight(tmp_path / "x.onnx", "onnxruntime-cpu")
