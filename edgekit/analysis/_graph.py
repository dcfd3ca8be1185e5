"""Static facts about an ONNX graph: topological order, constants, tensor shapes."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import helper, numpy_helper

from edgekit.errors import BadInputError

# Byte widths of element types numpy does not know (bfloat16, float8, int4 families).
_EXTRA_ITEMSIZE: dict[int, float] = {
    onnx.TensorProto.BFLOAT16: 2,
    onnx.TensorProto.FLOAT8E4M3FN: 1,
    onnx.TensorProto.FLOAT8E4M3FNUZ: 1,
    onnx.TensorProto.FLOAT8E5M2: 1,
    onnx.TensorProto.FLOAT8E5M2FNUZ: 1,
    onnx.TensorProto.INT4: 0.5,
    onnx.TensorProto.UINT4: 0.5,
}


@dataclass(frozen=True)
class TensorInfo:
    """Static shape and element type of one tensor (batch fixed to 1)."""

    shape: tuple[int, ...]
    elem_type: int

    @property
    def numel(self) -> int:
        """Number of elements."""
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        """Size in bytes."""
        return math.ceil(self.numel * itemsize(self.elem_type))

    @property
    def dtype_name(self) -> str:
        """ONNX element type name in lower case, e.g. ``float`` or ``int8``."""
        return element_type_name(self.elem_type)


def element_type_name(elem_type: int) -> str:
    """ONNX element type name in lower case, e.g. ``float`` or ``int8``.

    Raises:
        BadInputError: the number is not an ONNX element type.
    """
    try:
        return onnx.TensorProto.DataType.Name(elem_type).lower()
    except ValueError as exc:  # protobuf: "Enum DataType has no name defined for value 999"
        raise BadInputError(f"a tensor has element type {elem_type}, which is not an ONNX element type") from exc


def itemsize(elem_type: int) -> float:
    """Bytes per element of an ONNX element type.

    Raises:
        BadInputError: the type is UNDEFINED (0) or not an ONNX element type at all.
    """
    if elem_type in _EXTRA_ITEMSIZE:
        return _EXTRA_ITEMSIZE[elem_type]
    try:
        return float(np.dtype(helper.tensor_dtype_to_np_dtype(elem_type)).itemsize)
    except (KeyError, TypeError, ValueError) as exc:  # onnx's mapping has no entry for it
        raise BadInputError(f"a tensor has element type {elem_type}, which is not a sized ONNX element type") from exc


def topological_nodes(graph: onnx.GraphProto) -> list[onnx.NodeProto]:
    """Return the graph's nodes in a topological order (stable w.r.t. file order).

    Raises:
        BadInputError: the graph has a cycle or consumes a tensor nobody produces.
    """
    available = {i.name for i in graph.input} | {i.name for i in graph.initializer} | {""}
    producers = {out: idx for idx, node in enumerate(graph.node) for out in node.output}
    waiting = [0] * len(graph.node)
    dependents: dict[int, list[int]] = {}
    for idx, node in enumerate(graph.node):
        for name in set(node.input) - available:
            if name not in producers:
                raise BadInputError(f"node {node.name or node.op_type} reads {name!r}, which nothing produces")
            waiting[idx] += 1
            dependents.setdefault(producers[name], []).append(idx)
    ready = deque(i for i, n in enumerate(waiting) if n == 0)
    order: list[int] = []
    while ready:
        idx = ready.popleft()
        order.append(idx)
        for dep in dependents.get(idx, []):
            waiting[dep] -= 1
            if waiting[dep] == 0:
                ready.append(dep)
    if len(order) != len(graph.node):
        raise BadInputError("the ONNX graph has a cycle")
    return [graph.node[i] for i in order]


def constant_tensors(graph: onnx.GraphProto, order: list[onnx.NodeProto]) -> set[str]:
    """Names of tensors whose value is known before inference (weights and what folds from them)."""
    constants = {i.name for i in graph.initializer} - {i.name for i in graph.input}
    for node in order:
        inputs = [name for name in node.input if name]
        if node.op_type == "Constant" or (inputs and all(name in constants for name in inputs)):
            constants.update(node.output)
    return constants


def constant_value(node: onnx.NodeProto) -> np.ndarray | None:
    """The tensor a ``Constant`` node holds, or None if it is not a plain tensor constant."""
    for attr in node.attribute:
        if attr.name == "value":
            return numpy_helper.to_array(attr.t)
    return None
