"""fp32 ONNX exports of registry models for the file-based runners, cached on disk."""

from __future__ import annotations

import logging
from importlib.metadata import version
from pathlib import Path

from edgekit.fileio import sha256_file
from edgekit.models import build_model, get_model_info, parse_weights
from edgekit.models._source import ModelSource
from edgekit.models._source_spec import LoadedModel
from edgekit.onnx_io import DEFAULT_OPSET, save_onnx, torch_to_onnx
from edgekit.paths import cache_dir

log = logging.getLogger(__name__)  # steps for the CLI's progress line (edgekit.cli._progress)

_DIGEST_CHARS = 12


def weights_tag(weights: str) -> str:
    """A cache-key tag for a weights policy (a checkpoint by its digest)."""
    policy = parse_weights(weights)
    if policy.kind == "checkpoint":
        assert policy.path is not None
        return f"ckpt-{sha256_file(policy.path)[:_DIGEST_CHARS]}"
    return policy.kind


def fp32_onnx(name: str, weights: str = "none", input_px: int | None = None) -> Path:
    """Return the cached fp32 ONNX export of a registry model (dynamic batch, BN folded).

    The cache key holds the model, weights (a checkpoint by its digest), input size, opset
    and torch version, so a changed input never reuses a stale file.

    Raises:
        UnknownNameError, WeightsUnavailableError, BadInputError: from building the model.
    """
    px = input_px or get_model_info(name).preprocessing.crop_px
    key = f"{name}-{weights_tag(weights)}-{px}px-opset{DEFAULT_OPSET}-torch{version('torch')}.onnx"
    path = cache_dir("bench-onnx") / key
    if not path.is_file():
        log.info("exporting %s to ONNX at %d px", name, px)
        graph = torch_to_onnx(build_model(name, weights), (1, 3, px, px), opset=DEFAULT_OPSET)
        save_onnx(graph, path)
    return path


def source_fp32_onnx(source: ModelSource, input_px: int | None = None, loaded: LoadedModel | None = None) -> Path:
    """The cached fp32 ONNX of any model source: a registry export, an own torch model's export, or the
    canonical NCHW form of an ONNX file (one input, an NHWC input transposed inside).

    The key holds the source's digest (its files and flags), the input size, opset and torch version. ``loaded``:
    the source already loaded by the caller (not loaded again on a cache miss).

    Raises:
        BadInputError, WeightsUnavailableError, MissingDependencyError: from loading the source.
    """
    if source.kind in ("torchvision", "checkpoint") and source.input_size is None and source.mean is None:
        return fp32_onnx(source.name, source.weights, input_px)
    if input_px is not None:
        source = source.model_copy(update={"input_size": input_px})
    key = f"{source.kind}-{source.name}-{source.digest()}-opset{DEFAULT_OPSET}-torch{version('torch')}.onnx"
    path = cache_dir("bench-onnx") / key
    if not path.is_file():
        log.info("loading %s and exporting it to ONNX", source.name)
        if loaded is None or input_px is not None:
            loaded = source.load()
        graph = loaded.model if loaded.kind == "onnx" else torch_to_onnx(loaded.model, loaded.input_shape)
        save_onnx(graph, path)
    return path
