"""Reading, writing and exporting ONNX models, with clear errors for bad files."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import onnx

from edgekit.errors import BadInputError
from edgekit.fileio import atomic_path

if TYPE_CHECKING:
    import torch

DEFAULT_OPSET = 17  # widest support across ORT, OpenVINO, TensorRT 8.6+, onnx2tf and pnnx
INPUT_NAME = "input"
OUTPUT_NAME = "logits"
# ONNX protobufs cannot exceed 2 GiB; larger models must use external data.
PROTOBUF_LIMIT_BYTES = 2**31 - 1


def load_onnx(path: Path | str, load_weights: bool = True) -> onnx.ModelProto:
    """Load an ONNX file, turning any decoding failure into one clear error.

    Raises:
        BadInputError: the path does not exist, is not ONNX, or is truncated.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInputError(f"no such ONNX file: {path}")
    try:
        model = onnx.load(str(path), load_external_data=load_weights)
    except Exception as exc:  # protobuf raises DecodeError/RuntimeError variants for bad bytes
        raise BadInputError(f"{path} is not a readable ONNX model ({exc.__class__.__name__})") from exc
    if not model.graph.node or not model.graph.input:
        raise BadInputError(f"{path} is not a usable ONNX model: it has no graph nodes or inputs")
    return model


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
