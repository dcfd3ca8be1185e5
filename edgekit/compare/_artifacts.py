"""Verified ONNX artifacts of optimization recipes for ``compare``, cached on disk."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

from edgekit.bench._export import weights_tag
from edgekit.errors import BadInputError
from edgekit.manifest import Manifest
from edgekit.optimize import optimize
from edgekit.paths import cache_dir
from edgekit.recipes import get_recipe


def recipe_onnx(name: str, recipe: str, weights: str = "none") -> Path:
    """Return the cached, verified ONNX artifact of an optimization recipe for a registry model.

    Built once through :func:`edgekit.optimize.optimize` (verification on) into
    ``cache/variants``; the key holds model, weights, recipe and the versions of the tools that
    shape the artifact, so an upgrade rebuilds it.

    Raises:
        VerificationError: the variant failed verification (it is never timed silently).
        BadInputError: the recipe yields a torch-only artifact that ONNX runtimes cannot load.
    """
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
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        return None
    manifest = Manifest.model_validate_json(manifest_path.read_text())
    if manifest.verdict != "passed" or manifest.artifact is None:
        return None
    path = folder / Path(manifest.artifact.file).name
    return path if path.is_file() else None
