"""Vendor-target artifacts for ``compare --targets``: exported and verified through
:mod:`edgekit.targets`, then timed with the runner that loads the converted files."""

from __future__ import annotations

from pathlib import Path

from edgekit._versions import package_versions
from edgekit.bench._export import weights_tag
from edgekit.compare._sources import CompareModel
from edgekit.errors import BadInputError
from edgekit.models._source import ModelSource
from edgekit.models._source_spec import slug
from edgekit.paths import cache_dir
from edgekit.runtimes import runtime_packages, target_timing
from edgekit.targets import get_target
from edgekit.targets._converter import timed_targets
from edgekit.targets.export import ExportManifest, export_for_target


def check_targets(targets: list[str]) -> list[str]:
    """Validate ``--targets``: known ids that this machine can convert and time.

    Raises:
        UnknownNameError: not a target id.
        BadInputError: a target whose toolchain cannot run here.
    """
    for target in targets:
        if target_timing(get_target(target)) is None:
            timeable = ", ".join(timed_targets())
            raise BadInputError(f"target {target} cannot be converted and timed here; timeable targets: {timeable}")
    return targets


def row_label(target: str) -> str:
    """The runtime column of a target row, e.g. ``ncnn export``."""
    return f"{target} export"


def runner_for(target: str) -> str:
    """The bench runner that times ``target``'s artifact."""
    return timed_targets()[target][0]


def _tools_tag() -> str:
    return "-".join(f"{tool}{v}" for tool, v in package_versions(runtime_packages()).items() if v is not None)


def target_artifact(model: str | ModelSource, variant: str, target: str,
                    weights: str = "none") -> tuple[Path | None, str | None]:  # fmt: skip
    """The converted, verified artifact ``target`` runs for (model, variant), cached on disk.

    The export goes through :func:`edgekit.targets.export_for_target` (pre-flight, conversion,
    parity against fp32); a failed export raises and is never timed.

    Returns:
        ``(path, None)``, or ``(None, reason)`` when the files converted here are not the
        variant (e.g. ncnn int8 is quantized by the user's own ncnn tools from calibration
        files, so timing the fp32 conversion under the int8 name would mislead).
    """
    key = f"{model}-{weights_tag(weights)}" if isinstance(model, str) else f"{slug(model.name)}-{model.digest()}"
    folder = cache_dir("target-exports") / f"{key}-{variant}-{target}-{_tools_tag()}"
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        export_for_target(model, target, variant, folder, weights=weights)
    manifest = ExportManifest.model_validate_json(manifest_path.read_text())
    converted = manifest.verification.converted_precision
    if converted != manifest.precision:
        return None, f"{target} converts {manifest.precision} on the user's side; only its {converted} parent runs here"
    suffix = timed_targets()[target][1]
    if suffix == ".onnx":
        return folder / manifest.artifact, None
    (loaded,) = [f.path for f in manifest.files if f.path.endswith(suffix)]
    return folder / loaded, None


def resolve_target_rows(
    rows: list[tuple[str, str, str]], targets: list[str], models: dict[str, CompareModel]
) -> tuple[dict[tuple[str, str, str], Path], list[str]]:
    """Export every target row's artifact; returns {row: file} and the rows that cannot be timed, with why."""
    labels = {row_label(t): t for t in targets}
    files, skipped = {}, []
    for model, variant, runtime in rows:
        if runtime not in labels:
            continue
        chosen = models[model]
        exported = chosen.source.name if chosen.registry else chosen.source
        path, reason = target_artifact(exported, variant, labels[runtime], chosen.weights)
        if path is None:
            skipped.append(f"{model}/{variant}/{runtime}: {reason}")
        else:
            files[model, variant, runtime] = path
    return files, skipped
