"""fp32 ONNX exports of registry models for the file-based runners, cached on disk."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

from edgekit.errors import BadInputError
from edgekit.fileio import sha256_file
from edgekit.models import parse_weights
from edgekit.onnx_io import DEFAULT_OPSET, save_onnx, torch_to_onnx
from edgekit.paths import cache_dir

_DIGEST_CHARS = 12


def weights_tag(weights: str) -> str:
    """A cache-key tag for a weights policy (a checkpoint by its digest)."""
    policy = parse_weights(weights)
    if policy.kind == "checkpoint":
        assert policy.path is not None
        return f"ckpt-{sha256_file(policy.path)[:_DIGEST_CHARS]}"
    return policy.kind


def recipe_onnx(name: str, recipe: str, weights: str = "none") -> Path:
    """Return the cached, verified ONNX artifact of an optimization recipe for a registry model.

    Built once through :func:`edgekit.optimize.optimize` (verification on) into
    ``cache/variants``; the key holds model, weights, recipe and the versions of the tools that
    shape the artifact, so an upgrade rebuilds it.

    Raises:
        VerificationError: the variant failed verification (it is never timed silently).
        BadInputError: the recipe yields a torch-only artifact that ONNX runtimes cannot load.
    """
    from edgekit.optimize import optimize
    from edgekit.recipes import get_recipe

    if get_recipe(recipe).output_kind != "onnx":
        raise BadInputError(f"recipe {recipe} yields a torch-only artifact; ONNX runtimes cannot time it")
    tools = f"torch{version('torch')}-ort{version('onnxruntime')}"
    folder = cache_dir("variants") / f"{name}-{weights_tag(weights)}-{recipe}-{tools}"
    artifact = _passed_artifact(folder)
    if artifact is None:
        result = optimize(name, recipe, weights, out_dir=folder)
        result.require_passed()
        assert result.artifact_path is not None  # require_passed guarantees it
        artifact = result.artifact_path
    return artifact


def _passed_artifact(folder: Path) -> Path | None:
    """The artifact of a cached variant folder whose manifest says it passed, else None."""
    from edgekit.manifest import Manifest

    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        return None
    manifest = Manifest.model_validate_json(manifest_path.read_text())
    if manifest.verdict != "passed" or manifest.artifact is None:
        return None
    path = folder / Path(manifest.artifact.file).name
    return path if path.is_file() else None


def fp32_onnx(name: str, weights: str = "none", input_px: int | None = None) -> Path:
    """Return the cached fp32 ONNX export of a registry model (dynamic batch, BN folded).

    The cache key holds the model, weights (a checkpoint by its digest), input size, opset
    and torch version, so a changed input never reuses a stale file.

    Raises:
        UnknownNameError, WeightsUnavailableError, BadInputError: from building the model.
    """
    from edgekit.models import build_model, get_model_info

    px = input_px or get_model_info(name).preprocessing.crop_px
    key = f"{name}-{weights_tag(weights)}-{px}px-opset{DEFAULT_OPSET}-torch{version('torch')}.onnx"
    path = cache_dir("bench-onnx") / key
    if not path.is_file():
        graph = torch_to_onnx(build_model(name, weights), (1, 3, px, px), opset=DEFAULT_OPSET)
        save_onnx(graph, path)
    return path
