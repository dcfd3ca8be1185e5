"""Benchmark inputs: shapes resolved from the model or the file, seeded random pixels."""

from __future__ import annotations

from pathlib import Path

from edgekit.bench._pixels import BENCH_INPUT_SEED, random_pixels
from edgekit.errors import BadInputError
from edgekit.models import get_model_info
from edgekit.onnx_io import load_onnx

_NCHW_RANK = 4
__all__ = ["BENCH_INPUT_SEED", "model_input_shape", "onnx_input_shape", "random_pixels", "resolve_shape"]


def model_input_shape(name: str, batch: int, input_px: int | None) -> tuple[int, int, int, int]:
    """NCHW shape of a registry model at ``batch`` (its own crop size unless ``input_px``)."""
    side = input_px or get_model_info(name).preprocessing.crop_px
    return (batch, 3, side, side)


def resolve_shape(dims: list[int | str | None], batch: int, input_px: int | None, where: str) -> tuple[int, ...]:
    """Fill a file's input dims: the batch dim gets ``batch``; symbolic H/W get ``input_px``.

    Raises:
        BadInputError: not 4-D, a static batch other than ``batch``, or symbolic H/W without ``input_px``.
    """
    if len(dims) != _NCHW_RANK:
        raise BadInputError(f"{where}: expected one NCHW image input, found rank {len(dims)} ({dims})")
    first = dims[0]
    if isinstance(first, int) and first > 0 and first != batch:
        raise BadInputError(f"{where} has a static batch of {first}; cannot run batch {batch} (export it dynamic)")
    shape = [batch]
    for dim in dims[1:]:
        if isinstance(dim, int) and dim > 0:
            shape.append(dim)
        elif input_px:
            shape.append(input_px)
        else:
            raise BadInputError(f"{where} has a symbolic spatial size {dim!r}; pass --input-size")
    return tuple(shape)


def onnx_input_shape(path: Path, batch: int, input_px: int | None) -> tuple[int, ...]:
    """Input shape of an ONNX file at ``batch`` (reads the graph without loading weights).

    Raises:
        BadInputError: unreadable file, several image inputs, or an unusable input shape.
    """
    graph = load_onnx(path, load_weights=False).graph
    initializers = {init.name for init in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise BadInputError(f"{path.name}: expected one input, found {len(inputs)}")
    dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
            for d in inputs[0].type.tensor_type.shape.dim]  # fmt: skip
    return resolve_shape(dims, batch, input_px, path.name)
