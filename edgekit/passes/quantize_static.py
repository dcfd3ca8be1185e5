"""Static INT8 post-training quantization with onnxruntime (QDQ by default).

The graph is first prepared with ``quant_pre_process`` (shape inference + fusions), then
calibrated on images. The format is chosen per target through :class:`QuantOptions`: for
onnxruntime on x86, uint8 activations and int8 per-channel weights select its u8s8 kernels
(DESIGN.md: resnet18 4.9 ms vs 13.8 ms fp32).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path
from typing import Any, Literal

import onnx
from pydantic import Field, model_validator

from edgekit.errors import BadInputError, CalibrationError, summarize_exception
from edgekit.passes._base import Artifact, Capabilities, Pass, PassConfig, PassReport, PassResult, method_of
from edgekit.passes._calibration import CALIBRATION_SEED, calibration_set, data_reader
from edgekit.passes._quiet import quiet

CalibrationMethodName = Literal["minmax", "entropy", "percentile"]
# Per-channel QuantizeLinear/DequantizeLinear (the axis attribute) arrived in opset 13.
PER_CHANNEL_MIN_OPSET = 13
# Ops whose weights are quantized: the first/last layer and depthwise fallbacks look at these.
_WEIGHTED_OPS = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul"})
# Default calibration size: ORT's examples use tens of images; 32 keeps calibration ~seconds on CPU.
DEFAULT_CALIBRATION_COUNT = 32


class QuantOptions(PassConfig):
    """The int8 format, chosen per target (the targets side overrides these)."""

    quant_format: Literal["qdq", "qoperator"] = Field("qdq", description="QDQ is what ORT, OpenVINO, TensorRT read")
    activation_type: Literal["uint8", "int8"] = Field("uint8", description="uint8 for onnxruntime on x86")
    weight_type: Literal["int8", "uint8"] = "int8"
    activation_symmetric: bool = Field(False, description="zero point at the range centre (TensorRT wants True)")
    weight_symmetric: bool = True
    per_channel: bool = Field(True, description="one weight scale per output channel")
    reduce_range: bool = Field(False, description="7-bit weights for CPUs without VNNI that saturate int16 sums")
    calibration_method: CalibrationMethodName = "minmax"
    percentile: float = Field(99.999, gt=90.0, le=100.0, description="kept share of values (percentile method)")

    @model_validator(mode="after")
    def _supported_pair(self) -> QuantOptions:
        if self.activation_type == "int8" and self.weight_type == "uint8":
            raise ValueError("int8 activations with uint8 weights are not supported by onnxruntime's quantizer")
        return self


class StaticInt8Config(QuantOptions):
    """QuantOptions plus where calibration images come from and which layers stay float."""

    calibration_dir: Path | None = Field(None, description="image folder; None = generated images")
    calibration_count: int = Field(DEFAULT_CALIBRATION_COUNT, ge=1, le=10_000)
    calibration_seed: int = Field(CALIBRATION_SEED, description="seed of generated calibration images")
    pre_process: bool = Field(True, description="run onnxruntime's quant_pre_process first")
    exclude_first_last: bool = Field(False, description="keep the first and last weighted layers float")
    exclude_depthwise: bool = Field(False, description="keep depthwise convolutions float")
    exclude_nodes: tuple[str, ...] = Field((), description="named nodes kept float (e.g. the most sensitive layers)")


class StaticInt8(Pass):
    """Calibrate and quantize a float ONNX graph to int8."""

    name = "static_int8"
    config_class = StaticInt8Config
    capabilities = Capabilities(
        input_kind="onnx", output_kind="onnx", precision="int8", parity="int8",
        needs_calibration=True, dependencies=("onnxruntime",),
    )  # fmt: skip
    description = "static int8 PTQ (QDQ, calibrated; per-target activation/weight types)"

    def _apply(self, artifact: Artifact, config: StaticInt8Config) -> PassResult:
        source: onnx.ModelProto = artifact.model
        _check_opset(source, config)
        calibration = calibration_set(
            artifact.preprocessing, config.calibration_dir, config.calibration_count, config.calibration_seed
        )
        report = PassReport(pass_name=self.name)
        with tempfile.TemporaryDirectory(prefix="edgekit-ptq-") as folder, quiet():
            prepared = _prepare(source, Path(folder), config.pre_process, report)
            excluded = excluded_nodes(onnx.load(str(prepared)), config)
            target = Path(folder) / "int8.onnx"
            _quantize(prepared, target, calibration.pixels, source.graph.input[0].name, config, excluded)
            quantized = onnx.load(str(target))
        _fill_report(report, source, quantized, calibration.source, excluded, config)
        return PassResult(artifact=artifact.with_model(quantized), report=report)


def _check_opset(model: onnx.ModelProto, config: StaticInt8Config) -> None:
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if config.per_channel and opset < PER_CHANNEL_MIN_OPSET:
        raise BadInputError(
            f"per-channel int8 needs ONNX opset >= {PER_CHANNEL_MIN_OPSET}, the model has {opset}; "
            "export with a higher opset or use per_channel=False"
        )


def _prepare(model: onnx.ModelProto, folder: Path, pre_process: bool, report: PassReport) -> Path:
    """Save the float model, pre-processed when asked (falling back to the raw graph if that fails)."""
    from onnxruntime.quantization import quant_pre_process

    raw, prepared = folder / "fp32.onnx", folder / "prepared.onnx"
    onnx.save_model(model, str(raw))
    if not pre_process:
        return raw
    try:
        quant_pre_process(str(raw), str(prepared))
    except Exception as exc:  # shape inference / optimizer errors vary by graph; the raw model still quantizes
        report.notes.append(f"quant_pre_process failed ({exc.__class__.__name__}); quantized the raw graph")
        return raw
    return prepared


def excluded_nodes(model: onnx.ModelProto, config: StaticInt8Config) -> list[str]:
    """Names of the weighted nodes kept float by ``exclude_first_last`` / ``exclude_depthwise`` / ``exclude_nodes``.

    Raises:
        BadInputError: ``exclude_nodes`` names a node the graph does not have.
    """
    weighted = [n for n in model.graph.node if n.op_type in _WEIGHTED_OPS]
    excluded: list[str] = []
    if config.exclude_first_last and weighted:
        excluded += [weighted[0].name, weighted[-1].name]
    if config.exclude_depthwise:
        shapes = {init.name: list(init.dims) for init in model.graph.initializer}
        excluded += [n.name for n in weighted if _is_depthwise(n, shapes)]
    names = {n.name for n in model.graph.node}
    unknown = [name for name in config.exclude_nodes if name not in names]
    if unknown:
        raise BadInputError(f"exclude_nodes names {len(unknown)} node(s) the graph lacks, e.g. {unknown[0]!r}")
    return sorted(set(excluded) | set(config.exclude_nodes))


def _is_depthwise(node: onnx.NodeProto, shapes: dict[str, list[int]]) -> bool:
    group = next((a.i for a in node.attribute if a.name == "group"), 1)
    weight = shapes.get(node.input[1]) if node.op_type == "Conv" and len(node.input) > 1 else None
    return bool(weight) and group > 1 and weight[1] == 1


def _quantize(source: Path, target: Path, pixels: Any, input_name: str,
              config: StaticInt8Config, excluded: list[str]) -> None:  # fmt: skip
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    types = {"uint8": QuantType.QUInt8, "int8": QuantType.QInt8}
    methods = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
               "percentile": CalibrationMethod.Percentile}  # fmt: skip
    extra = {"ActivationSymmetric": config.activation_symmetric, "WeightSymmetric": config.weight_symmetric}
    if config.calibration_method == "percentile":
        extra["CalibPercentile"] = config.percentile
    try:
        quantize_static(
            source, target, data_reader(pixels, input_name),
            quant_format=QuantFormat.QDQ if config.quant_format == "qdq" else QuantFormat.QOperator,
            per_channel=config.per_channel, reduce_range=config.reduce_range,
            activation_type=types[config.activation_type], weight_type=types[config.weight_type],
            nodes_to_exclude=excluded or None, calibrate_method=methods[config.calibration_method],
            extra_options=extra,
        )  # fmt: skip
    except ValueError as exc:
        if "bins" not in str(exc):  # numpy's histogram of a tensor whose range is too small for its bins
            raise
        raise CalibrationError(
            f"the {config.calibration_method} calibrator cannot histogram the activations "
            f"(a near-constant tensor): {summarize_exception(exc)}"
        ) from exc


def _fill_report(report: PassReport, source: onnx.ModelProto, quantized: onnx.ModelProto,
                 calibration: str, excluded: list[str], config: StaticInt8Config) -> None:  # fmt: skip
    ops = Counter(n.op_type for n in quantized.graph.node)
    method = method_of(StaticInt8.name)
    report.add("bytes_before", source.ByteSize(), "B", method)
    report.add("bytes_after", quantized.ByteSize(), "B", method)
    report.add("quantize_nodes", ops["QuantizeLinear"] + ops["QLinearConv"], "count", method)
    report.add("float_weighted_nodes", len(excluded), "count", method)
    granularity = "per-channel" if config.per_channel else "per-tensor"
    report.notes.append(
        f"{config.quant_format.upper()}, activations {config.activation_type}"
        f"{' symmetric' if config.activation_symmetric else ''}, weights {config.weight_type} {granularity}, "
        f"{config.calibration_method} calibration on {calibration}"
    )
    if excluded:
        report.notes.append(f"kept float: {', '.join(excluded)}")
