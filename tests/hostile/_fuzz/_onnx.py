"""Fuzzing the loaders: onnx part (see the package docstring)."""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import onnx
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from edgekit.analysis import PREPROCESSING_KEY

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
