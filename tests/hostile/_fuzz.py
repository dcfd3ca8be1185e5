"""Fuzzing the ONNX and YAML loaders: hypothesis strategies, the properties, and a tallying runner.

Shared by ``tests/hostile/test_fuzz_loaders.py`` (a bounded, derandomized pass in ``make test``) and
``benchmarks/fuzz_loaders.py`` (a longer seeded pass that writes ``benchmarks/results/fuzz_loaders.md``).

The property, for every input: the loader either returns a valid result or raises an
:class:`edgekit.errors.EdgekitError` whose message is one line. Anything else — another exception
type, a multi-line message, an invalid result (a negative count, a NaN or Infinity that ``--json`` would
print), a YAML tag that ran code, or, through the CLI, an exit code outside 0/1/2, a traceback in the output,
more than one ``error:`` line on exit 2 or non-strict JSON — is a *crash*. The runner does not stop
at the first crash: it counts every case and keeps one traceback per distinct crash site.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import tempfile
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from edgekit.analysis import PREPROCESSING_KEY, analyze_onnx
from edgekit.errors import EdgekitError
from edgekit.paths import HOME_ENV, bundled_data_dir
from edgekit.profiles import load_profile_file, load_profiles
from edgekit.targets import load_target_file, load_targets

CLI_EXIT_CODES = frozenset({0, 1, 2})  # success, nothing fits / verification failed, bad input
TRACEBACK_MARK = "Traceback (most recent call last)"
# A YAML tag that would create this file if a loader ever constructed Python objects; it must never appear.
SENTINEL = Path(tempfile.gettempdir()) / "edgekit-fuzz-yaml-tag-ran"
USER_ID_PREFIX = "fuzz-"  # user-folder copies get this id prefix so they never collide with bundled ids


# --------------------------------------------------------------------------------------------------------
# Seed ONNX models: tiny, valid, built with onnx.helper
# --------------------------------------------------------------------------------------------------------


def _init(name: str, shape: tuple[int, ...], dtype: str = "float32", scale: float = 0.1) -> onnx.TensorProto:
    rng = np.random.default_rng(len(name) + sum(shape))
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(dtype), name)


def _model(nodes: list, inputs: list, outputs: list, inits: list, opset: int = 17) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "seed", inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def _classifier() -> onnx.ModelProto:
    """Conv → Relu → GlobalAveragePool → Flatten → Gemm, with edgekit's preprocessing metadata."""
    nodes = [
        helper.make_node("Conv", ["input", "w", "b"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("GlobalAveragePool", ["r"], ["p"], name="pool"),
        helper.make_node("Flatten", ["p"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["logits"], name="fc", transB=1),
    ]
    model = _model(
        nodes,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 5])],
        [_init("w", (4, 3, 3, 3)), _init("b", (4,)), _init("fc_w", (5, 4)), _init("fc_b", (5,))],
    )
    preprocessing = {"resize_px": 9, "crop_px": 8, "interpolation": "bilinear", "mean": [0.5] * 3, "std": [0.25] * 3}
    helper.set_model_props(model, {PREPROCESSING_KEY: json.dumps(preprocessing)})
    return model


def _matmul() -> onnx.ModelProto:
    """MatMul → Add → Softmax on a rank-2 input, with a Constant node."""
    nodes = [
        helper.make_node("Constant", [], ["k"], name="k", value=numpy_helper.from_array(np.ones((6,), "float32"))),
        helper.make_node("MatMul", ["x", "w"], ["m"], name="mm"),
        helper.make_node("Add", ["m", "k"], ["a"], name="add"),
        helper.make_node("Softmax", ["a"], ["y"], name="soft", axis=-1),
    ]
    return _model(
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6])],
        [_init("w", (4, 6))],
    )


def _qdq() -> onnx.ModelProto:
    """QuantizeLinear/DequantizeLinear around a depthwise Conv, two inputs joined by Add."""
    scale, zero = (
        numpy_helper.from_array(np.array(0.05, "float32"), "s"),
        numpy_helper.from_array(np.array(0, "int8"), "z"),
    )
    weight_q = numpy_helper.from_array(np.arange(-9, 9, dtype="int8").reshape(2, 1, 3, 3), "wq")
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"], name="q"),
        helper.make_node("DequantizeLinear", ["xq", "s", "z"], ["xd"], name="dq"),
        helper.make_node("DequantizeLinear", ["wq", "s", "z"], ["wd"], name="wdq"),
        helper.make_node("Conv", ["xd", "wd"], ["c"], name="dw", group=2, kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c", "x2"], ["y"], name="join"),
    ]
    return _model(
        nodes,
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 6, 6]),
            helper.make_tensor_value_info("x2", TensorProto.FLOAT, [1, 2, 6, 6]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 6, 6])],
        [scale, zero, weight_q],
        opset=13,
    )


EXTERNAL_DATA_NAME = "weights.bin"  # written beside every fuzzed .onnx: the external data of the "external" seed


@cache
def _external_seed() -> tuple[bytes, bytes]:
    """The classifier with its weights in ``weights.bin``: (the .onnx bytes, the data file's bytes)."""
    model = _classifier()
    with tempfile.TemporaryDirectory(prefix="edgekit-fuzz-seed-") as folder:
        path = Path(folder) / "model.onnx"
        onnx.save_model(model, str(path), save_as_external_data=True, location=EXTERNAL_DATA_NAME, size_threshold=0)
        return path.read_bytes(), (Path(folder) / EXTERNAL_DATA_NAME).read_bytes()


def external_data() -> bytes:
    """The bytes of ``weights.bin`` that the ``external`` seed model points into."""
    return _external_seed()[1]


@cache
def seed_models() -> dict[str, bytes]:
    """Serialized bytes of the valid seed models, by name (each analyses cleanly; ``external`` with ``weights.bin``)."""
    builders = {"classifier": _classifier, "matmul": _matmul, "qdq": _qdq}
    return {**{name: build().SerializeToString() for name, build in builders.items()}, "external": _external_seed()[0]}


# --------------------------------------------------------------------------------------------------------
# (a) mutated bytes of valid ONNX files
# --------------------------------------------------------------------------------------------------------

_MUTATIONS = ("flip", "set", "truncate", "splice", "insert", "delete", "duplicate", "varint")
_INTERESTING_BYTES = (0x00, 0x01, 0x7F, 0x80, 0xFF, 0x08, 0x12, 0x1A, 0x22, 0x3A)


@st.composite
def mutated_onnx_bytes(draw: st.DrawFn) -> bytes:
    """A seed model's bytes after 1–4 mutations: bit flips, byte sets, truncation, splices, inserts."""
    seeds = seed_models()
    data = bytearray(seeds[draw(st.sampled_from(sorted(seeds)))])
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        op = draw(st.sampled_from(_MUTATIONS))
        at = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[at] = draw(st.sampled_from(_INTERESTING_BYTES) | st.integers(0, 255))
        elif op == "truncate":
            del data[at:]
        elif op == "splice":
            other = seeds[draw(st.sampled_from(sorted(seeds)))]
            data = data[:at] + other[draw(st.integers(0, len(other) - 1)) :]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif op == "duplicate":
            data[at:at] = data[at : at + draw(st.integers(1, 256))]
        else:  # a huge length prefix (ten continuation bytes) where a varint was
            data[at : at + 1] = b"\xff" * draw(st.integers(1, 10)) + b"\x01"
    return bytes(data)


# --------------------------------------------------------------------------------------------------------
# (b) structurally valid, semantically hostile ONNX protos
# --------------------------------------------------------------------------------------------------------

_NAMES = ("input", "x", "x", "w", "y", "logits", "", "a b", "input.1", "x$(touch owned)", "ü", "0")
_ELEM_TYPES = (*sorted(TensorProto.DataType.values()), 999)  # every declared type, UNDEFINED (0) and an unknown one
_SMALL_DIMS = (1, 1, 2, 3, 4, 8, 16)
_ABSURD_DIMS = (2**31, 2**40, 2**62, 2**63 - 1)
# op type → (min inputs, max inputs); unknown ops and custom domains are drawn on top of these.
_OPS: dict[str, tuple[int, int]] = {
    "Relu": (1, 1), "Add": (2, 2), "MatMul": (2, 2), "Gemm": (2, 3), "Conv": (2, 3), "ConvTranspose": (2, 3),
    "Identity": (1, 1), "Flatten": (1, 1), "Reshape": (2, 2), "Concat": (1, 3), "GlobalAveragePool": (1, 1),
    "Constant": (0, 0), "ConstantOfShape": (1, 1), "QuantizeLinear": (2, 3), "DequantizeLinear": (2, 3),
    "QLinearConv": (8, 9), "BatchNormalization": (5, 5), "Softmax": (1, 1), "Cast": (1, 1), "Shape": (1, 1),
    "Gather": (2, 2), "If": (1, 1), "NoSuchOp": (0, 3),
}  # fmt: skip
# Preprocessing metadata that parses (json.loads takes NaN and Infinity) but describes no real preprocessing.
_PREPROCESSING = tuple(
    json.dumps({"resize_px": resize, "crop_px": crop, "mean": [mean, 0.5, 0.5], "std": [std, 0.25, 0.25]})
    for resize, crop, mean, std in ((9, 8, 0.5, 0.25), (9, 8, math.nan, 0.25), (9, 8, 0.5, 0.0), (-1, 0, 0.5, -1.0),
                                    (9, 8, math.inf, math.inf), (10**12, 8, 0.5, 0.25))
)  # fmt: skip
_DOMAINS = ("", "", "", "", "ai.onnx", "com.microsoft", "ai.onnx.ml", "custom.fuzz")


def _dims() -> st.SearchStrategy[onnx.TensorShapeProto.Dimension]:
    def make(kind: str, value: int | str) -> onnx.TensorShapeProto.Dimension:
        dim = onnx.TensorShapeProto.Dimension()
        if kind == "value":
            dim.dim_value = int(value)
        elif kind == "param":
            dim.dim_param = str(value)
        return dim  # "empty": neither field set

    values = st.sampled_from(_SMALL_DIMS) | st.sampled_from((0, -1, -7)) | st.sampled_from(_ABSURD_DIMS)
    return st.one_of(
        st.builds(make, st.just("value"), values),
        st.builds(make, st.just("param"), st.sampled_from(("batch", "N", "", "h"))),
        st.builds(make, st.just("empty"), st.just(0)),
    )


@st.composite
def _value_info(draw: st.DrawFn, name: str) -> onnx.ValueInfoProto:
    value = onnx.ValueInfoProto(name=name)
    if draw(st.integers(0, 9)) == 0:
        return value  # no type at all
    tensor_type = value.type.tensor_type
    tensor_type.elem_type = draw(st.sampled_from(_ELEM_TYPES) | st.just(TensorProto.FLOAT))
    if draw(st.integers(0, 9)) > 0:
        tensor_type.shape.dim.extend(draw(st.lists(_dims(), max_size=5)))
    return value


@st.composite
def _initializer(draw: st.DrawFn, name: str) -> onnx.TensorProto:
    dims = draw(st.lists(st.sampled_from(_SMALL_DIMS) | st.sampled_from((0, -1, 2**40)), max_size=4))
    tensor = onnx.TensorProto(name=name, dims=dims)
    tensor.data_type = draw(
        st.sampled_from((TensorProto.FLOAT, TensorProto.INT64, TensorProto.INT8)) | st.sampled_from(_ELEM_TYPES)
    )
    numel = math.prod(dims) if all(0 <= d <= 64 for d in dims) else 3
    payload = draw(st.sampled_from(("raw", "raw-short", "raw-long", "float_data", "int64_data", "none", "external")))
    if payload == "raw":
        tensor.raw_data = bytes(4 * numel)
    elif payload == "raw-short":
        tensor.raw_data = bytes(max(numel - 1, 0))
    elif payload == "raw-long":
        tensor.raw_data = bytes(8 * numel + 3)
    elif payload == "float_data":
        tensor.float_data.extend(draw(st.lists(st.floats(allow_nan=True, width=32), max_size=8)))
    elif payload == "int64_data":
        tensor.int64_data.extend(draw(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=8)))
    elif payload == "external":
        tensor.data_location = TensorProto.EXTERNAL
        location = draw(st.sampled_from(("weights.bin", "../../etc/passwd", "/etc/passwd", "model.onnx", "")))
        entries = {
            "location": location,
            "offset": str(draw(st.integers(-5, 2**40))),
            "length": str(draw(st.integers(-5, 64))),
        }
        for key, text in entries.items():
            if draw(st.booleans()) or key == "location":
                tensor.external_data.add(key=key, value=text)
    return tensor


def _attributes(draw: st.DrawFn, op: str) -> list[onnx.AttributeProto]:
    ints = st.lists(st.integers(-3, 5) | st.just(2**40), max_size=4)
    attrs: list[onnx.AttributeProto] = []
    if op in ("Conv", "ConvTranspose", "QLinearConv"):
        for key in ("kernel_shape", "strides", "pads", "dilations"):
            if draw(st.booleans()):
                attrs.append(helper.make_attribute(key, draw(ints), attr_type=onnx.AttributeProto.INTS))
        if draw(st.booleans()):
            attrs.append(helper.make_attribute("group", draw(st.integers(-1, 4))))
    elif op in ("Gemm",):
        attrs.append(helper.make_attribute("transA", draw(st.integers(0, 1))))
    elif op in ("Concat", "Softmax", "Flatten", "Gather"):
        attrs.append(helper.make_attribute("axis", draw(st.integers(-6, 6))))
    elif op == "Cast":
        attrs.append(helper.make_attribute("to", draw(st.sampled_from(_ELEM_TYPES))))
    elif op == "Constant" and draw(st.integers(0, 4)) > 0:
        shape = tuple(draw(st.lists(st.sampled_from(_SMALL_DIMS), max_size=3)))
        dtype = draw(st.sampled_from(("float32", "int64", "int8", "float16")))
        attrs.append(helper.make_attribute("value", numpy_helper.from_array(np.zeros(shape, dtype))))
    elif op == "If" and draw(st.booleans()):  # branches without graphs, or with an empty one
        attrs.append(helper.make_attribute("then_branch", helper.make_graph([], "empty", [], [])))
    return attrs


def _chain_nodes(draw: st.DrawFn, channels: int) -> tuple[list[onnx.NodeProto], list[onnx.TensorProto], str]:
    """A plausible classifier chain from ``input`` (conv-like ops, then flatten and a dense layer)."""
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []
    current, flat = "input", False
    for index in range(draw(st.integers(1, 5))):
        out = f"t{index}"
        op = draw(
            st.sampled_from(
                ("Relu", "Add", "Identity", "Softmax")
                if flat
                else ("Conv", "Conv", "Relu", "BatchNormalization", "Add", "Concat", "QDQ")
            )
        )
        if op == "Conv":
            width = draw(st.sampled_from((1, 2, 4)))
            group = channels if draw(st.booleans()) and width % channels == 0 else 1
            inits.append(_init(f"w{index}", (width, channels // group, 3, 3)))
            nodes.append(
                helper.make_node(
                    "Conv", [current, f"w{index}"], [out], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=group
                )
            )
            channels = width
        elif op == "BatchNormalization":
            inits.extend(_init(f"bn{index}_{k}", (channels,)) for k in range(4))
            nodes.append(helper.make_node(op, [current, *(f"bn{index}_{k}" for k in range(4))], [out]))
        elif op == "Add":
            inits.append(_init(f"b{index}", (1,)))
            nodes.append(helper.make_node(op, [current, f"b{index}"], [out]))
        elif op == "Concat":
            nodes.append(helper.make_node(op, [current, current], [out], axis=1))
            channels *= 2
        elif op == "QDQ":
            inits.extend(
                [
                    numpy_helper.from_array(np.array(0.1, "float32"), f"s{index}"),
                    numpy_helper.from_array(np.array(0, "uint8"), f"z{index}"),
                ]
            )
            nodes.append(helper.make_node("QuantizeLinear", [current, f"s{index}", f"z{index}"], [f"q{index}"]))
            nodes.append(helper.make_node("DequantizeLinear", [f"q{index}", f"s{index}", f"z{index}"], [out]))
        else:
            nodes.append(helper.make_node(op, [current], [out]))
        current = out
    if not flat:
        nodes.append(helper.make_node("GlobalAveragePool", [current], ["pooled"]))
        nodes.append(helper.make_node("Flatten", ["pooled"], ["flat"]))
        inits.append(_init("fc", (3, channels)))
        nodes.append(helper.make_node("Gemm", ["flat", "fc"], ["logits"], transB=1))
    return nodes, inits, "logits"


def _edit_dims(draw: st.DrawFn, graph: onnx.GraphProto) -> None:
    graph.input[0].type.tensor_type.shape.dim[draw(st.integers(0, 3))].CopyFrom(draw(_dims()))


def _edit_init_dims(draw: st.DrawFn, graph: onnx.GraphProto) -> None:
    tensor = graph.initializer[draw(st.integers(0, len(graph.initializer) - 1))]
    tensor.dims[:] = draw(st.lists(st.sampled_from((0, -1, 1, 3, 2**40, 2**62)), max_size=4))


def _edit_init_data(draw: st.DrawFn, graph: onnx.GraphProto) -> None:
    tensor = graph.initializer[draw(st.integers(0, len(graph.initializer) - 1))]
    tensor.raw_data = tensor.raw_data[: draw(st.integers(0, max(len(tensor.raw_data) - 1, 0)))]


def _edit_dtype(draw: st.DrawFn, graph: onnx.GraphProto) -> None:
    graph.input[0].type.tensor_type.elem_type = draw(st.sampled_from(_ELEM_TYPES))


def _edit_dup_output(draw: st.DrawFn, graph: onnx.GraphProto) -> None:
    graph.node[-1].output[0] = graph.node[0].output[0]


def _edit_cycle(draw: st.DrawFn, graph: onnx.GraphProto) -> None:
    graph.node[0].input[0] = graph.node[draw(st.integers(0, len(graph.node) - 1))].output[0]


def _edit_second_input(draw: st.DrawFn, graph: onnx.GraphProto) -> None:
    graph.input.append(draw(_value_info(draw(st.sampled_from(("input", "extra", ""))))))


def _edit_name(draw: st.DrawFn, graph: onnx.GraphProto) -> None:
    hostile = draw(st.sampled_from(_NAMES))
    graph.input[0].name = hostile
    for node in graph.node:
        node.input[:] = [hostile if n == "input" else n for n in node.input]


def _edit_dangling(draw: st.DrawFn, graph: onnx.GraphProto) -> None:
    graph.node[draw(st.integers(0, len(graph.node) - 1))].input.append("ghost")


def _edit_no_output(draw: st.DrawFn, graph: onnx.GraphProto) -> None:
    del graph.output[:]


def _edit_extra_output(draw: st.DrawFn, graph: onnx.GraphProto) -> None:
    """An output nothing produces, or a second declaration of one."""
    graph.output.append(draw(_value_info(draw(st.sampled_from(("extra", "logits", graph.node[0].output[0]))))))


_EDITS: dict[str, Callable[[st.DrawFn, onnx.GraphProto], None]] = {
    "dims": _edit_dims, "init-dims": _edit_init_dims, "init-data": _edit_init_data, "dtype": _edit_dtype,
    "dup-output": _edit_dup_output, "cycle": _edit_cycle, "second-input": _edit_second_input, "name": _edit_name,
    "dangling": _edit_dangling, "no-output": _edit_no_output, "extra-output": _edit_extra_output,
}  # fmt: skip


def _perturb(draw: st.DrawFn, model: onnx.ModelProto) -> None:
    """Zero to two hostile edits to an otherwise valid chain (which always has an initializer and a node)."""
    for _ in range(draw(st.integers(0, 2))):
        _EDITS[draw(st.sampled_from(sorted(_EDITS)))](draw, model.graph)


@st.composite
def hostile_onnx_protos(draw: st.DrawFn) -> bytes:
    """A serialized model that decodes as ONNX but is hostile: odd shapes, types, names, cycles, missing data.

    A quarter are a plausible classifier chain with zero to two hostile edits (so analysis runs deep), a
    quarter one op over the input and an initializer of any dims and payload, half random graphs (random
    ops, wiring, types, shapes, initializers, opsets and metadata).
    """
    mode = draw(st.sampled_from(("chain", "single", "random", "random")))
    if mode == "single":  # one op over the input and one initializer of any dims and payload
        op = draw(st.sampled_from(("Add", "Mul", "MatMul", "Conv", "Gemm", "Concat")))
        shape = draw(st.lists(st.sampled_from(_SMALL_DIMS), min_size=1, max_size=4))
        weight = draw(_initializer("w"))
        if draw(st.integers(0, 3)):  # mostly the input's type, so that the hostile dims or payload are what is tested
            weight.data_type = TensorProto.FLOAT
        node = helper.make_node(op, ["x", "w"], ["y"], name="op")
        graph = helper.make_graph(
            [node], "single", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, draw(st.sampled_from((None, shape))))],
            initializer=[weight],
        )  # fmt: skip
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8).SerializeToString()
    if mode == "chain":
        channels = draw(st.sampled_from((1, 2, 3)))
        side = draw(st.sampled_from((1, 4, 8)))
        nodes, inits, output = _chain_nodes(draw, channels)
        batch = draw(st.sampled_from(("batch", 1)))
        graph = helper.make_graph(
            nodes, "chain", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, channels, side, side])],
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, [batch, 3])], initializer=inits,
        )  # fmt: skip
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", draw(st.sampled_from((13, 17, 21))))])
        model.ir_version = 8
        _perturb(draw, model)
        if draw(st.integers(0, 3)) == 0:
            model.metadata_props.add(key=PREPROCESSING_KEY, value=draw(st.sampled_from(_PREPROCESSING)))
        return model.SerializeToString()
    names = list(_NAMES) + [f"t{i}" for i in range(8)]
    inputs = [draw(_value_info(draw(st.sampled_from(names)))) for _ in range(draw(st.integers(0, 3)))]
    inits = [draw(_initializer(draw(st.sampled_from(names)))) for _ in range(draw(st.integers(0, 3)))]
    node_count = draw(st.integers(0, 6))
    outputs_of = [[f"t{i}"] if draw(st.integers(0, 5)) else [draw(st.sampled_from(names))] for i in range(node_count)]
    pool = [v.name for v in inputs] + [t.name for t in inits] + [o for outs in outputs_of for o in outs] + ["", "ghost"]
    nodes = []
    for index in range(node_count):
        op = draw(st.sampled_from(sorted(_OPS)))
        low, high = _OPS[op]
        node_inputs = [draw(st.sampled_from(pool)) for _ in range(draw(st.integers(low, high)))]
        node = helper.make_node(op, node_inputs, outputs_of[index], name=draw(st.sampled_from(("", f"n{index}", "n0"))))
        node.domain = draw(st.sampled_from(_DOMAINS))
        node.attribute.extend(_attributes(draw, op))
        nodes.append(node)
    graph_outputs = [draw(_value_info(draw(st.sampled_from(pool)))) for _ in range(draw(st.integers(0, 2)))]
    graph = helper.make_graph(nodes, draw(st.sampled_from(("g", "", "a/b"))), inputs, graph_outputs, initializer=inits)
    if draw(st.booleans()):  # value_info entries that disagree with the graph
        graph.value_info.extend(draw(_value_info(draw(st.sampled_from(pool)))) for _ in range(draw(st.integers(1, 2))))
    model = onnx.ModelProto(graph=graph, ir_version=draw(st.sampled_from((8, 8, 0, 3, 10, 99))))
    for domain, version in draw(
        st.lists(
            st.tuples(st.sampled_from(_DOMAINS), st.sampled_from((17, 17, 13, 1, 7, 21, 0, 99))),
            max_size=2,
            unique_by=lambda x: x[0],
        )
    ) or [("", 17)]:
        model.opset_import.add(domain=domain, version=version)
    metadata = draw(
        st.sampled_from((None, "{", "[]", '{"resize_px": -1}', '{"resize_px": 256}', "null", '"x"', *_PREPROCESSING))
    )
    if metadata is not None:
        model.metadata_props.add(key=PREPROCESSING_KEY, value=metadata)
    return model.SerializeToString()


# --------------------------------------------------------------------------------------------------------
# (c) mutated YAML profiles and targets
# --------------------------------------------------------------------------------------------------------

YAML_KINDS = ("profile", "target")
_FOLDER = {"profile": "profiles", "target": "targets"}
_TAG_VALUES = (
    f'!!python/object/apply:os.system ["touch {SENTINEL}"]',
    f"!!python/object/apply:subprocess.check_output [[touch, {SENTINEL}]]",
    "!!python/name:os.system",
    "!!python/tuple [1, 2]",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!timestamp 2001-12-14t21:59:43.10-05:00",
    "!!timestamp not-a-date",
    "!!int x",
    "!!bool maybe",
    "!!float 1:2:x",
    "{[1]: 2}",
    "!!float .inf",
    "!!int 0x7fffffffffffffffffff",
    "!custom {a: 1}",
    "*undefined_alias",
    "&anchor [1, 2]",
)
_KEYS = ("value", "kind", "source", "note", "id", "count", "max_ghz", "targets", "ops", "handoff", "extra_key", "")


def _scalars() -> st.SearchStrategy[Any]:
    floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
        (math.inf, -math.inf, math.nan, 1e308, -0.0, 0.0)
    )
    return st.one_of(
        st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.sampled_from((0, -1, 1, 2**63)), floats,
        st.text(max_size=12), st.sampled_from(("", "published", "estimated", "fp32", "onnxruntime", "{stem}", "{")),
    )  # fmt: skip


def _values() -> st.SearchStrategy[Any]:
    return st.recursive(
        _scalars(),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=6), inner, max_size=3)
        ),
        max_leaves=6,
    )


def _paths(tree: Any, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            yield from _paths(value, (*prefix, index))


def _mutate_tree(draw: st.DrawFn, tree: Any, tags: list[str]) -> Any:
    path = draw(st.sampled_from(list(_paths(tree))))
    if not path:
        return draw(_values()) if draw(st.integers(0, 19)) == 0 else tree  # rarely: the whole document replaced
    parent = tree
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    op = draw(st.sampled_from(("replace", "replace", "delete", "add", "duplicate", "tag")))
    if op == "replace":
        parent[last] = draw(_values())
    elif op == "delete":
        del parent[last]
    elif op == "add" and isinstance(parent, dict):
        parent[draw(st.sampled_from(_KEYS) | st.text(max_size=8))] = draw(_values())
    elif op == "duplicate" and isinstance(parent, list):
        parent.insert(last, parent[last])
    elif op == "tag":
        marker = f"__fuzz_tag_{len(tags)}__"
        tags.append(draw(st.sampled_from(_TAG_VALUES)))
        parent[last] = marker
    return tree


@cache
def bundled_yaml(kind: str) -> dict[str, str]:
    """The bundled data files of one kind: id → YAML text."""
    return {p.stem: p.read_text() for p in sorted(bundled_data_dir(_FOLDER[kind]).glob("*.yaml"))}


@cache
def _bundled_tree(kind: str, item_id: str) -> Any:
    return yaml.load(bundled_yaml(kind)[item_id], Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass(frozen=True)
class YamlCase:
    """One mutated data file: its kind, the file name it is saved as, and its bytes."""

    kind: str
    file_name: str
    data: bytes
    entry: str = "file"  # or "directory" / "dangling-link": what the user folder holds under that name

    def __repr__(self) -> str:
        return f"YamlCase({self.kind}, {self.file_name}, {self.entry}, {self.data[:2000]!r})"

    def place(self, folder: Path) -> Path:
        """Put the case into ``folder`` (a user ``profiles``/``targets`` folder) and return its path."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / self.file_name
        if self.entry == "directory":
            path.mkdir()
        elif self.entry == "dangling-link":
            path.symlink_to(folder / "missing.yaml")
        else:
            path.write_bytes(self.data)
        return path


def _text_mutation(draw: st.DrawFn, text: str) -> bytes:
    op = draw(
        st.sampled_from(
            ("none", "none", "none", "truncate", "flip", "bom", "latin1", "nul", "tab", "deep", "laughs", "dupkey")
        )
    )
    data = text.encode()
    if op == "truncate":
        return data[: draw(st.integers(0, len(data)))]
    if op == "flip":
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        return data[:at] + bytes([data[at] ^ (1 << draw(st.integers(0, 7)))]) + data[at + 1 :] if data else data
    if op == "bom":
        return b"\xef\xbb\xbf" + data
    if op == "latin1":  # not UTF-8
        return data.replace(b"e", b"\xe9", 1)
    if op == "nul":
        return data.replace(b"\n", b"\n\x00", 1)
    if op == "tab":
        return data.replace(b"\n  ", b"\n\t", 1)
    if op == "deep":
        depth = draw(st.sampled_from((50, 500, 5000)))
        return data + b"\nnotes: " + b"[" * depth + b"]" * depth + b"\n"
    if op == "laughs":  # nested aliases: a few hundred thousand references
        lines = ['a0: &a0 ["lol"]'] + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 7)]
        return data + ("\n" + "\n".join(lines) + "\nnotes: *a6\n").encode()
    if op == "dupkey":
        return data + b"\nid: duplicated-key\n"
    return data


@st.composite
def mutated_yaml(draw: st.DrawFn, kind: str | None = None) -> YamlCase:
    """A bundled profile or target, its id renamed ``fuzz-<id>``, with 1–4 tree mutations and maybe a text one."""
    kind = kind or draw(st.sampled_from(YAML_KINDS))
    files = bundled_yaml(kind)
    base = draw(st.sampled_from(sorted(files)))
    tree = copy.deepcopy(_bundled_tree(kind, base))
    tree["id"] = USER_ID_PREFIX + base
    tags: list[str] = []
    for _ in range(draw(st.integers(0, 4))):
        tree = _mutate_tree(draw, tree, tags)
    text = yaml.dump(tree, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=200)
    for index, tag in enumerate(tags):
        text = text.replace(f"__fuzz_tag_{index}__", tag)
    entry = draw(st.sampled_from(("file",) * 48 + ("directory", "dangling-link")))
    return YamlCase(kind, f"{USER_ID_PREFIX}{base}.yaml", _text_mutation(draw, text), entry)


# --------------------------------------------------------------------------------------------------------
# The properties
# --------------------------------------------------------------------------------------------------------


class PropertyError(AssertionError):
    """The property failed: a loader or command did something other than succeed or refuse in one line."""


def _refusal(exc: EdgekitError) -> str:
    message = str(exc)
    if "\n" in message or not message.strip():
        raise PropertyError(f"{type(exc).__name__} with a message that is not one line: {message[:300]!r}")
    return "refused"


@contextlib.contextmanager
def _home(folder: Path) -> Iterator[Path]:
    """Point ``$EDGEKIT_HOME`` at ``folder`` for the duration."""
    previous = os.environ.get(HOME_ENV)
    os.environ[HOME_ENV] = str(folder)
    try:
        yield folder
    finally:
        if previous is None:
            os.environ.pop(HOME_ENV, None)
        else:
            os.environ[HOME_ENV] = previous


def _check_analysis(analysis: Any) -> str:
    per_node = ("macs", "weight_bytes", "input_bytes", "output_bytes")
    figures = {
        "params": analysis.params, "macs": analysis.macs, "peak_activation_bytes": analysis.peak_activation_bytes,
        **{f"weight_bytes[{k}]": v for k, v in analysis.weight_bytes_by_dtype.items()},
        **{f"{n.name}.{key}": getattr(n, key) for n in analysis.nodes for key in per_node},
    }  # fmt: skip
    negative = {k: v for k, v in figures.items() if v < 0}
    if negative:
        raise PropertyError(f"analysis returned negative figures: {dict(list(negative.items())[:4])}")
    _require_strict_json(analysis, "the analysis")
    return "ok"


def _require_strict_json(item: Any, what: str) -> None:
    """A loaded result must serialize as JSON (what ``--json`` prints): no NaN or Infinity anywhere."""
    try:
        json.dumps(item.model_dump(mode="json"), allow_nan=False)
    except ValueError as exc:
        raise PropertyError(f"{what} holds a non-finite number ({exc})") from None


def check_onnx(data: bytes, folder: Path) -> str:
    """Property (a)/(b): ``analyze_onnx`` on a file of these bytes returns a sane analysis or refuses in one line."""
    path = folder / "model.onnx"
    path.write_bytes(data)
    (folder / EXTERNAL_DATA_NAME).write_bytes(external_data())
    try:
        analysis = analyze_onnx(path)
    except EdgekitError as exc:
        return _refusal(exc)
    return _check_analysis(analysis)


def check_yaml(case: YamlCase, folder: Path) -> str:
    """Property (c): the file loader and the registry (user folder) load the file or refuse in one line; no tag runs."""
    loader = load_profile_file if case.kind == "profile" else load_target_file
    registry = load_profiles if case.kind == "profile" else load_targets
    path = case.place(folder / "home" / _FOLDER[case.kind])
    with _home(folder / "home"):
        try:
            item = loader(path)
            outcome = "ok"
        except EdgekitError as exc:
            outcome = _refusal(exc)
        else:
            _require_strict_json(item, f"the loaded {case.kind}")
        if SENTINEL.exists():
            raise PropertyError(f"a YAML tag ran code: {SENTINEL} was created")
        # The registry over bundled + user folder: a refused file is refused there the same way, but a folder
        # entry that is not a file is listed by the registry's own glob.
        if outcome == "ok" or case.entry != "file":
            try:
                loaded = registry()
            except EdgekitError as exc:  # e.g. the mutated id now equals a bundled one
                return f"{outcome}, registry " + _refusal(exc)
            if outcome == "ok" and Path(case.file_name).stem not in loaded:
                raise PropertyError(f"{case.file_name} loads alone but is missing from the registry")
    return outcome


@dataclass(frozen=True)
class CliCase:
    """One CLI sample: an ONNX file (bytes) or a user data file, and the commands run over it."""

    onnx: bytes | None = None
    yaml: YamlCase | None = None

    def __repr__(self) -> str:
        return f"CliCase(onnx={self.onnx[:2000]!r})" if self.onnx is not None else f"CliCase({self.yaml!r})"


def cli_cases() -> st.SearchStrategy[CliCase]:
    """ONNX files of both kinds and mutated data files, for the in-process CLI check."""
    return st.one_of(
        st.builds(CliCase, onnx=mutated_onnx_bytes() | hostile_onnx_protos()),
        st.builds(CliCase, yaml=mutated_yaml()),
    )


def _commands(case: CliCase, folder: Path) -> list[list[str]]:
    if case.onnx is not None:
        path = folder / "model.onnx"
        path.write_bytes(case.onnx)
        (folder / EXTERNAL_DATA_NAME).write_bytes(external_data())
        return [["analyze", str(path)], ["analyze", str(path), "--json"]]
    assert case.yaml is not None
    case.yaml.place(folder / "home" / _FOLDER[case.yaml.kind])
    item_id = Path(case.yaml.file_name).stem
    if case.yaml.kind == "target":
        return [["targets"], ["targets", "--json"]]
    return [["profiles", item_id], ["profiles", "--json"], ["predict", "mobilenet_v2", "--profile", item_id, "--json"]]


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def check_cli(case: CliCase, folder: Path) -> str:
    """Property (CLI): each command exits 0, 1 or 2, prints no traceback, and a refusal is one ``error:`` line."""
    from typer.testing import CliRunner

    from edgekit.cli.main import app

    runner = CliRunner()
    codes = []
    for args in _commands(case, folder):
        with warnings.catch_warnings():
            warnings.simplefilter("always")  # as in a fresh process: a warning shows on every run, not only once
            result = runner.invoke(app, args, env={HOME_ENV: str(folder / "home"), "COLUMNS": "200"})
        shown = " ".join(args[:1] + [Path(a).name if "/" in a else a for a in args[1:]])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise PropertyError(
                f"`edgekit {shown}` raised {type(result.exception).__name__}: {result.exception}"
            ) from result.exception
        if result.exit_code not in CLI_EXIT_CODES:
            raise PropertyError(f"`edgekit {shown}` exited {result.exit_code}")
        if TRACEBACK_MARK in result.stdout or TRACEBACK_MARK in result.stderr:
            raise PropertyError(f"`edgekit {shown}` printed a traceback")
        if result.exit_code == 2:
            lines = result.stderr.strip().splitlines()
            if len(lines) != 1 or not lines[0].startswith("error: "):
                raise PropertyError(f"`edgekit {shown}` exit 2 without one error line: {result.stderr[:300]!r}")
        if SENTINEL.exists():
            raise PropertyError(f"`edgekit {shown}`: a YAML tag ran code ({SENTINEL} was created)")
        if result.exit_code == 0 and "--json" in args:
            try:
                json.loads(result.stdout, parse_constant=_reject_constant)
            except ValueError as exc:
                raise PropertyError(f"`edgekit {shown}` printed invalid JSON ({exc})") from None
        codes.append(result.exit_code)
    return "exit " + "/".join(map(str, codes))


# --------------------------------------------------------------------------------------------------------
# The runner
# --------------------------------------------------------------------------------------------------------


@dataclass
class CrashRecord:
    """One distinct crash site: the first failing input, its traceback, and how many cases hit it."""

    signature: str
    message: str
    traceback: str
    example: str
    hits: int = 1


@dataclass
class Tally:
    """What one property run did: cases, outcomes, crashes by site, tracebacks."""

    name: str
    cases: int = 0
    outcomes: Counter = field(default_factory=Counter)
    crashes: dict[str, CrashRecord] = field(default_factory=dict)
    crashed_cases: int = 0
    tracebacks: int = 0  # cases whose failure would have reached the user as a Python traceback

    def record(self, case: Any, check: Callable[[Any, Path], str]) -> None:
        self.cases += 1
        with tempfile.TemporaryDirectory(prefix="edgekit-fuzz-") as folder:
            try:
                self.outcomes[check(case, Path(folder))] += 1
                return
            except PropertyError as exc:
                cause = exc.__cause__ or exc
                escaped = exc.__cause__ is not None  # an exception reached the CLI's caller unhandled
                message = str(exc)
            except Exception as exc:  # the property itself: anything but a typed refusal is a crash
                cause, escaped, message = exc, True, f"{type(exc).__name__}: {exc}"
        self.crashed_cases += 1
        self.tracebacks += escaped
        frames = traceback.extract_tb(cause.__traceback__)
        site = next((f for f in reversed(frames) if "/edgekit/" in f.filename), frames[-1] if frames else None)
        where = f"{Path(site.filename).name}:{site.lineno}" if site else "?"
        signature = f"{type(cause).__name__} at {where}" if escaped else message.split(":")[0][:120]
        if signature in self.crashes:
            self.crashes[signature].hits += 1
            return
        text = "".join(traceback.format_exception(cause)) if escaped else message
        self.crashes[signature] = CrashRecord(signature, message[:500], text[-4000:], repr(case)[:600])

    def summary(self) -> str:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items()))
        return (
            f"{self.name}: {self.cases} cases ({outcomes}); crashes {self.crashed_cases}; tracebacks {self.tracebacks}"
        )


def run_property(
    name: str,
    strategy: st.SearchStrategy[Any],
    check: Callable[[Any, Path], str],
    cases: int,
    seed: int | None = None,
) -> Tally:
    """Run ``check`` over ``cases`` inputs drawn from ``strategy`` and tally them (it never stops at a crash).

    ``seed=None`` derandomizes (the same inputs every run, for the test suite); an integer seeds hypothesis.
    """
    tally = Tally(name)

    @settings(
        max_examples=cases, deadline=None, database=None, derandomize=seed is None, phases=[Phase.generate],
        suppress_health_check=list(HealthCheck), print_blob=False,
    )  # fmt: skip
    @given(strategy)
    def body(case: Any) -> None:
        tally.record(case, check)

    if seed is not None:
        body = hypothesis_seed(seed)(body)
    body()
    return tally


PROPERTIES: dict[str, tuple[Callable[[], st.SearchStrategy[Any]], Callable[[Any, Path], str]]] = {
    "onnx-bytes": (mutated_onnx_bytes, check_onnx),
    "onnx-protos": (hostile_onnx_protos, check_onnx),
    "yaml-profiles": (lambda: mutated_yaml("profile"), check_yaml),
    "yaml-targets": (lambda: mutated_yaml("target"), check_yaml),
    "cli": (cli_cases, check_cli),
}
