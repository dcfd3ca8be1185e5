"""Verified ONNX artifacts of optimization recipes for ``compare``, cached on disk."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

from edgekit.bench._export import weights_tag
from edgekit.errors import BadInputError
from edgekit.manifest import Manifest
from edgekit.models._source import ModelSource
from edgekit.models._source_spec import slug
from edgekit.optimize import OptimizeResult, optimize
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
    return _cached(f"{name}-{weights_tag(weights)}", recipe, lambda out: optimize(name, recipe, weights, out_dir=out))


def source_recipe_onnx(source: ModelSource, recipe: str) -> Path:
    """The cached, verified ONNX artifact of a recipe for an own model source (see :func:`recipe_onnx`).

    The key holds the source's digest (its files and input flags) instead of a registry name.

    Raises:
        VerificationError, BadInputError: as :func:`recipe_onnx`; a torch-only recipe on an ONNX file.
    """
    key = f"{slug(source.name)}-{source.kind}-{source.digest()}"
    return _cached(key, recipe, lambda out: optimize(source, recipe, out_dir=out))


def _cached(key: str, recipe: str, build: Callable[[Path], OptimizeResult]) -> Path:
    if get_recipe(recipe).output_kind != "onnx":
        raise BadInputError(f"recipe {recipe} yields a torch-only artifact; ONNX runtimes cannot time it")
    tools = f"torch{version('torch')}-ort{version('onnxruntime')}"
    folder = cache_dir("variants") / f"{key}-{recipe}-{tools}"
    return _passed_artifact(folder) or _built(build(folder))


def _built(result: OptimizeResult) -> Path:
    result.require_passed()
    assert result.artifact_path is not None  # require_passed guarantees it
    return result.artifact_path


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
