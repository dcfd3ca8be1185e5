"""Reading, writing and exporting ONNX models, with clear errors for bad files."""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

import onnx
from google.protobuf.message import Message
from onnx.external_data_helper import ExternalDataInfo, load_external_data_for_model, uses_external_data

from edgekit.errors import BadInputError
from edgekit.fileio import atomic_path

if TYPE_CHECKING:
    import torch

DEFAULT_OPSET = 17  # widest support across ORT, OpenVINO, TensorRT 8.6+, onnx2tf and pnnx
INPUT_NAME = "input"
OUTPUT_NAME = "logits"
# ONNX protobufs cannot exceed 2 GiB; larger models must use external data.
PROTOBUF_LIMIT_BYTES = 2**31 - 1
_MESSAGE_CHARS = 300  # checker messages are cut to this so an error stays one readable line
_EXAMPLE_NODES = 3  # node names quoted in a cycle message


def load_onnx(path: Path | str, load_weights: bool = True) -> onnx.ModelProto:
    """Load an ONNX file, turning any decoding failure into one clear error.

    External data is read only from regular files inside the model's folder (no ``..``, no
    absolute path, no symbolic link), and is inlined into the returned model.

    Raises:
        BadInputError: the path does not exist, is not ONNX, is truncated, or names external data it may not read.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInputError(f"no such ONNX file: {path}")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises DecodeError/RuntimeError variants for bad bytes
        raise BadInputError(f"{path} is not a readable ONNX model ({exc.__class__.__name__})") from exc
    not_text = _first_non_utf8_field(model)
    if not_text:
        raise BadInputError(f"{path} is not a readable ONNX model: its {not_text} is not UTF-8 text")
    if not model.graph.node or not model.graph.input:
        raise BadInputError(f"{path} is not a usable ONNX model: it has no graph nodes or inputs")
    if load_weights:
        _load_external_data(model, path)
    return model


def _first_non_utf8_field(message: Message, prefix: str = "") -> str | None:
    """The path (``graph.node.name``) of the first string field whose bytes are not UTF-8, or None.

    protobuf hands such a field back as ``bytes`` instead of ``str`` (ONNX is proto2: nothing checks on decode).
    """
    for field, value in message.ListFields():
        repeated = getattr(field, "is_repeated", None)
        repeated = field.label == field.LABEL_REPEATED if repeated is None else repeated  # protobuf < 5
        values = value if repeated else [value]
        where = f"{prefix}{field.name}"
        if field.type == field.TYPE_STRING and any(isinstance(v, bytes) for v in values):
            return where
        if field.type == field.TYPE_MESSAGE:
            found = next((f for f in (_first_non_utf8_field(v, f"{where}.") for v in values) if f), None)
            if found:
                return found
    return None


def _graph_tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield from (sparse.values, sparse.indices)
    for node in graph.node:
        for attribute in node.attribute:
            yield from ([attribute.t] if attribute.HasField("t") else [])
            yield from attribute.tensors
            for subgraph in [attribute.g] if attribute.HasField("g") else []:
                yield from _graph_tensors(subgraph)
            for subgraph in attribute.graphs:
                yield from _graph_tensors(subgraph)


def external_tensors(model: onnx.ModelProto) -> list[onnx.TensorProto]:
    """Tensors of the model (sub-graphs included) whose data lives in another file."""
    return [t for t in _graph_tensors(model.graph) if uses_external_data(t)]


_EXTERNAL_DATA_KEYS = frozenset({"location", "offset", "length", "checksum", "basepath"})  # onnx's ExternalDataInfo


def external_data_file(tensor: onnx.TensorProto, model_path: Path) -> Path:
    """The file holding ``tensor``'s data, checked to be a regular file inside the model's folder.

    Raises:
        BadInputError: the location is absolute, climbs out with ``..``, passes a symbolic link,
            is missing, or is shorter than the tensor's offset and length say; or an entry has an unknown key.
    """
    unknown = sorted({entry.key for entry in tensor.external_data} - _EXTERNAL_DATA_KEYS)
    if unknown:  # onnx would warn (raw, on stderr) and ignore them: a misspelt "offset" reads from byte 0
        raise BadInputError(f"{model_path.name}: tensor {tensor.name!r} has unknown external data keys {unknown}")
    try:
        info = ExternalDataInfo(tensor)
    except ValueError as exc:  # offset or length that is not an integer
        raise BadInputError(f"{model_path.name}: tensor {tensor.name!r} has malformed external data ({exc})") from exc
    where = f"{model_path.name}: tensor {tensor.name!r} keeps its data in {info.location!r}"
    if (info.offset or 0) < 0 or (info.length or 0) < 0:
        raise BadInputError(f"{where} at a negative offset or length")
    parts = PurePath(info.location).parts
    if not info.location or Path(info.location).is_absolute() or ".." in parts or "\\" in info.location:
        raise BadInputError(f"{where}; edgekit reads external data only from files inside the model's folder")
    folder = model_path.parent
    current = folder
    for part in parts:
        current = current / part
        if current.is_symlink():
            raise BadInputError(f"{where}, which is a symbolic link; edgekit reads external data only from "
                                "regular files inside the model's folder")  # fmt: skip
    if not current.is_file():
        raise BadInputError(f"{where}, which is missing (keep it beside the .onnx file)")
    end = (info.offset or 0) + (info.length or 0)
    if end > current.stat().st_size:
        raise BadInputError(f"{where}, which holds {current.stat().st_size} bytes; the tensor needs bytes up to {end}")
    return current


def _load_external_data(model: onnx.ModelProto, path: Path) -> None:
    tensors = external_tensors(model)
    for tensor in tensors:
        external_data_file(tensor, path)
    if not tensors:
        return
    try:
        load_external_data_for_model(model, str(path.parent))
    except Exception as exc:  # onnx raises ValidationError/OSError/ValueError variants
        raise BadInputError(f"{path}: cannot read its external data: {_one_line(exc)}") from exc


def copy_onnx(source: Path, target: Path) -> Path:
    """Copy an ONNX file and the external data files it names (same relative locations) to ``target``."""
    shutil.copyfile(source, target)
    for tensor in external_tensors(load_onnx(source, load_weights=False)):
        data = external_data_file(tensor, source)
        destination = target.parent / data.relative_to(source.parent)
        if destination != target:  # a location naming the model file itself must not overwrite it
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(data, destination)
    return target


def structure_problem(model: onnx.ModelProto, path: Path | None = None) -> str | None:
    """Why the graph is not a valid ONNX model (onnx.checker, tensor sizes, cycles), or None when it is.

    ``model`` must have its weights loaded (see :func:`load_onnx`) unless ``path`` is given, in
    which case the checker reads the file (models past the 2 GiB protobuf limit need that).
    """
    cycle = _cycle_nodes(model.graph)
    if cycle:
        names = ", ".join(cycle[:_EXAMPLE_NODES]) + (", ..." if len(cycle) > _EXAMPLE_NODES else "")
        return f"the graph has a cycle through {len(cycle)} node{'s' if len(cycle) > 1 else ''} ({names})"
    by_path = path is not None and (external_tensors(model) or model.ByteSize() > PROTOBUF_LIMIT_BYTES)
    try:
        onnx.checker.check_model(str(path) if by_path else model)
    except Exception as exc:  # ValidationError, plus ValueError/RuntimeError from the C++ side
        return _one_line(exc)
    return None


def check_structure(model: onnx.ModelProto, path: Path | None = None) -> None:
    """Raise when :func:`structure_problem` finds one.

    Raises:
        BadInputError: ``<file> is not a valid ONNX model: <reason>``.
    """
    problem = structure_problem(model, path)
    if problem:
        raise BadInputError(f"{path.name if path else 'the model'} is not a valid ONNX model: {problem}")


def _cycle_nodes(graph: onnx.GraphProto) -> list[str]:
    """Names of the nodes on a cycle (empty when the graph is acyclic), as a run of Kahn's algorithm leaves them."""
    producers = {out: i for i, node in enumerate(graph.node) for out in node.output if out}
    reads = [{producers[n] for n in node.input if n in producers} for node in graph.node]
    left = _unsorted(reads, range(len(reads)))
    # Drop what merely hangs below a cycle: keep nodes a remaining node reads from, until nothing changes.
    readers = [{j for j in left if i in reads[j]} for i in range(len(reads))]
    left = _unsorted(readers, left)
    return [graph.node[i].name or f"{graph.node[i].op_type}#{i}" for i in sorted(left)]


def _unsorted(edges: list[set[int]], nodes: Iterable[int]) -> list[int]:
    """Nodes Kahn's algorithm cannot order, given ``edges[i]``: the nodes ``i`` waits for."""
    nodes = list(nodes)
    members = set(nodes)
    waiting = {i: len(edges[i] & members) for i in nodes}
    dependents: dict[int, list[int]] = {}
    for i in nodes:
        for j in edges[i] & members:
            dependents.setdefault(j, []).append(i)
    ready = deque(i for i in nodes if waiting[i] == 0)
    while ready:
        for k in dependents.get(ready.popleft(), []):
            waiting[k] -= 1
            if waiting[k] == 0:
                ready.append(k)
    return [i for i in nodes if waiting[i] > 0]


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 1] + "…"


def save_onnx(model: onnx.ModelProto, path: Path) -> None:
    """Save a model atomically as one file (external data only past the 2 GiB protobuf limit)."""
    external = model.ByteSize() > PROTOBUF_LIMIT_BYTES
    with atomic_path(path) as tmp:
        onnx.save_model(
            model, str(tmp), save_as_external_data=external, location=f"{path.name}.data" if external else None
        )


def torch_to_onnx(
    model: torch.nn.Module,
    input_shape: tuple[int, ...],
    opset: int = DEFAULT_OPSET,
    dynamic_batch: bool = True,
    fold_constants: bool = True,
) -> onnx.ModelProto:
    """Export a module with the TorchScript-based exporter and return the ModelProto.

    The legacy exporter is used on purpose: it is deterministic (same bytes for the same
    weights), fast on CPU, and writes a single file; ``fold_constants=False`` keeps
    BatchNormalization nodes so that parameter counts match the PyTorch module.
    """
    import torch

    sample = torch.zeros(input_shape)
    axes = {INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}} if dynamic_batch else None
    with tempfile.TemporaryDirectory(prefix="edgekit-export-") as folder:
        target = Path(folder) / "model.onnx"  # a file, not a buffer: >2 GiB models need one
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model, (sample,), str(target), dynamo=False, opset_version=opset,
                do_constant_folding=fold_constants, input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME], dynamic_axes=axes,
            )  # fmt: skip
        return onnx.load(str(target))
