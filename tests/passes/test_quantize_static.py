"""Static int8 PTQ: format options, calibration sources, float fallbacks, bad input."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import onnx
import pytest
from onnx import numpy_helper

from edgekit.errors import BadInputError
from edgekit.passes import QuantOptions, StaticInt8Config, get_pass
from edgekit.passes.quantize_static import excluded_nodes
from tests.passes.tiny import onnx_artifact

FAST = {"calibration_count": 4}  # calibration size does not matter for structure tests


def _initializers(model: onnx.ModelProto) -> dict[str, onnx.TensorProto]:
    return {i.name: i for i in model.graph.initializer}


def _activation_zero_point_types(model: onnx.ModelProto) -> set[int]:
    inits = _initializers(model)
    return {inits[n.input[2]].data_type for n in model.graph.node if n.op_type == "QuantizeLinear"}


def _conv_weight_scales(model: onnx.ModelProto) -> list[int]:
    """Element counts of the scales dequantizing each conv's weight."""
    inits = _initializers(model)
    producers = {n.output[0]: n for n in model.graph.node}
    sizes = []
    for conv in (n for n in model.graph.node if n.op_type == "Conv"):
        dequant = producers[conv.input[1]]
        sizes.append(int(numpy_helper.to_array(inits[dequant.input[1]]).size))
    return sizes


def test_default_is_qdq_uint8_activations_int8_per_channel_weights() -> None:
    result = get_pass("static_int8").run(onnx_artifact(), FAST)
    model = result.artifact.model
    ops = Counter(n.op_type for n in model.graph.node)
    assert ops["QuantizeLinear"] > 0
    assert ops["DequantizeLinear"] > ops["QuantizeLinear"]  # weights are dequantized without a Quantize
    assert _activation_zero_point_types(model) == {onnx.TensorProto.UINT8}
    assert _conv_weight_scales(model) == [16, 16, 32]  # one scale per output channel
    conv_weights = [i for i in model.graph.initializer if len(i.dims) == 4]
    assert {i.data_type for i in conv_weights} == {onnx.TensorProto.INT8}
    assert (
        "activations uint8, weights int8 per-channel, minmax calibration on 4 generated images (seed 0)"
        in (result.report.notes[0])
    )


def test_target_overrides_int8_symmetric_activations_and_per_tensor() -> None:
    options = QuantOptions(activation_type="int8", activation_symmetric=True, per_channel=False)
    config = StaticInt8Config(**options.model_dump(), calibration_count=4)
    model = get_pass("static_int8").run(onnx_artifact(), config).artifact.model
    assert _activation_zero_point_types(model) == {onnx.TensorProto.INT8}
    inits = _initializers(model)
    zero_points = [numpy_helper.to_array(inits[n.input[2]]) for n in model.graph.node if n.op_type == "QuantizeLinear"]
    assert all(int(z) == 0 for z in zero_points)  # symmetric: zero point at 0
    assert _conv_weight_scales(model) == [1, 1, 1]


def test_calibration_from_a_folder_is_named_in_the_report(image_folder: Path) -> None:
    result = get_pass("static_int8").run(onnx_artifact(), {"calibration_dir": image_folder, "calibration_count": 5})
    assert f"calibration on 5 images from {image_folder}" in result.report.notes[0]


def test_folder_without_readable_images_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    with pytest.raises(BadInputError, match=r"no readable images in .* \(1 image files tried\)"):
        get_pass("static_int8").run(onnx_artifact(), {"calibration_dir": tmp_path})


def test_first_last_and_depthwise_layers_can_stay_float() -> None:
    model = onnx_artifact().model
    names = [n.name for n in model.graph.node if n.op_type in ("Conv", "Gemm")]
    first_last = excluded_nodes(model, StaticInt8Config(exclude_first_last=True))
    depthwise = excluded_nodes(model, StaticInt8Config(exclude_depthwise=True))
    assert first_last == sorted([names[0], names[-1]])
    assert depthwise == [names[1]]  # the groups=16 convolution
    result = get_pass("static_int8").run(onnx_artifact(), {**FAST, "exclude_depthwise": True})
    assert result.report.metric("float_weighted_nodes").value == 1
    assert result.report.notes[1].startswith("kept float: ")


def test_per_channel_needs_opset_13() -> None:
    with pytest.raises(BadInputError, match=r"per-channel int8 needs ONNX opset >= 13, the model has 11"):
        get_pass("static_int8").run(onnx_artifact(opset=11), FAST)
    result = get_pass("static_int8").run(onnx_artifact(opset=11), {**FAST, "per_channel": False})
    assert result.report.metric("quantize_nodes").value > 0


def test_unsupported_type_pair_is_rejected() -> None:
    with pytest.raises(BadInputError, match="int8 activations with uint8 weights are not supported"):
        get_pass("static_int8").parse_config({"activation_type": "int8", "weight_type": "uint8"})


def test_static_int8_is_deterministic() -> None:
    first = get_pass("static_int8").run(onnx_artifact(), FAST).artifact.model.SerializeToString()
    second = get_pass("static_int8").run(onnx_artifact(), FAST).artifact.model.SerializeToString()
    assert first == second
