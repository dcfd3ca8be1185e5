"""Library entry of ``edgekit optimize``: run a recipe's passes, verify each, write the variant atomically.

``optimize(model_name, recipe, ...)`` builds a registry model; ``optimize_module(module, ...)``
does the same for any classifier module. Callers building target-specific artifacts override
the export (opset, static batch) with :class:`ExportOptions` and the int8 format with
:class:`~edgekit.passes.QuantOptions`, without editing recipes.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import onnx
from pydantic import BaseModel, ConfigDict, Field

from edgekit._callable import callable_module
from edgekit.accuracy_control import (
    accuracy_controlled_chain,
    accuracy_metrics,
    load_data,
    require_max_drop,
    store_accuracy,
)
from edgekit.analysis import ANALYZER, TensorSpec, analyze_onnx
from edgekit.chain import (
    Chain,
    ExportOptions,
    Overrides,
    SourceModel,
    Verdict,
    probe_inputs,
    run_chain,
)
from edgekit.errors import BadInputError, VerificationError
from edgekit.evaluate import AccuracyDrop
from edgekit.fidelity import Fidelity, fidelity
from edgekit.fileio import atomic_dir, atomic_path, sha256_file, write_json_atomic
from edgekit.manifest import (
    MANIFEST_NAME,
    ArtifactRecord,
    Manifest,
    artifact_metadata,
    labels_record,
    stamp_onnx,
    tool_versions,
    torchscript_bytes,
)
from edgekit.metrics import Metric, computed
from edgekit.models import WeightsPolicy, parse_weights
from edgekit.models._source import ModelSource, is_registry_name, parse_source
from edgekit.onnx_io import INPUT_NAME, OUTPUT_NAME, save_onnx
from edgekit.passes import Artifact, get_pass
from edgekit.passes._torch_util import example_input
from edgekit.passes.quantize_static import QuantOptions
from edgekit.recipes import Recipe, get_recipe
from edgekit.verify import ProbeInputs, tolerance_for
from edgekit.verify.final import FinalCheck, check_written
from edgekit.verify.guard import MAX_SENSITIVE_LAYERS, GuardOutcome
from edgekit.vocab import DEFAULT_OUT_ROOT

log = logging.getLogger(__name__)  # steps for the CLI's progress line (edgekit.cli._progress)


class OptimizeResult(BaseModel):
    """What ``optimize`` wrote and how it was judged."""

    model_config = ConfigDict(extra="forbid")

    out_dir: Path
    artifact_path: Path | None = Field(description="None when verification failed (nothing shippable written)")
    manifest_path: Path
    verdict: Verdict
    manifest: Manifest
    report: list[str] = Field(description="the one-screen report, line by line")
    accuracy: AccuracyDrop | None = Field(None, description="measured on --data: the fp32 parent and the variant")
    decided_by: Literal["fidelity", "accuracy", "none"] = Field(
        "fidelity", description="the gate: fidelity vs the parent; accuracy = --max-drop on measured top-1; none = "
        "--no-verify"
    )  # fmt: skip

    def require_passed(self) -> None:
        """Raise unless the variant passed (or was explicitly left unverified) and met ``--max-drop``.

        Raises:
            VerificationError: the variant failed verification, or its measured top-1 drop exceeds --max-drop.
        """
        if self.verdict != "failed" and self.accuracy is not None and self.accuracy.met is False:
            raise VerificationError(
                f"{self.manifest.model} {self.manifest.recipe}: no int8 step kept the top-1 drop within "
                f"{self.accuracy.max_drop_pct:g} pt (best {self.accuracy.drop_pct:.2f} pt, kept at "
                f"{self.artifact_path}); see {self.manifest_path}"
            )
        if self.verdict == "failed":
            lineage = self.manifest.lineage
            failed = [e.pass_name for e in lineage if e.verification and e.verification.status == "failed"]
            where = f" at {', '.join(failed)}" if failed else f" ({self.manifest.final_check.detail})"
            raise VerificationError(
                f"{self.manifest.model} {self.manifest.recipe} failed verification{where}; see {self.manifest_path}"
            )


def optimize(
    model_name: str | ModelSource,
    recipe: str = "fp32",
    weights: WeightsPolicy | str = "none",
    calib_dir: Path | None = None,
    out_dir: Path | None = None,
    *,
    calib_count: int | None = None,
    export: ExportOptions | None = None,
    quant: QuantOptions | None = None,
    verify: bool = True,
    data: Path | None = None,
    max_drop: float | None = None,
    input_size: int | None = None,
    mean: tuple[float, float, float] | None = None,
    std: tuple[float, float, float] | None = None,
    layout: str | None = None,
    labels: Path | None = None,
) -> OptimizeResult:
    """Build ``model_name`` and produce the ``recipe`` variant in ``out_dir``.

    Args:
        model_name: a model source: a registry name, ``arch@checkpoint``, ``module:function``, ``timm:<name>``,
            an ONNX file (see :func:`~edgekit.models._source.parse_source`), or a parsed ``ModelSource``.
        recipe: a recipe name (see ``edgekit recipes``).
        weights: ``imagenet``, ``none`` (seeded random init: fidelity only) or a checkpoint path.
        calib_dir: images for int8 calibration and held-out fidelity; None = generated images.
        out_dir: output folder (default ``./edgekit-out/<model>-<recipe>``), replaced atomically.
        calib_count: calibration images (default 32).
        export: opset / static-batch overrides for the export step.
        quant: int8 format overrides (activation/weight types, symmetry, per-channel, calibrator).
        verify: False skips every check; the manifest then says ``unverified``.
        data: a labelled image folder: top-1/top-5 of the fp32 parent and of the variant are measured on it,
            reported with the drop, kept in the manifest and the results store.
        max_drop: with ``data`` and an int8 recipe, walk the int8 guard until the measured top-1 drop is at
            most this many points (:func:`~edgekit.verify.guard.accuracy_controlled_int8`).
        input_size, mean, std, layout, labels: the source's input and class names (see
            :func:`~edgekit.models._source.parse_source`; defaults: the model's own, else ImageNet's, stated).

    Raises:
        UnknownNameError: unknown model or recipe.
        BadInputError: the output path is a file, the calibration folder has no readable image.
        WeightsUnavailableError: ImageNet weights requested offline.
    """
    plan = get_recipe(recipe)
    policy = parse_weights(weights) if isinstance(weights, str) else weights
    if labels is None and data is not None and not (isinstance(model_name, str) and is_registry_name(model_name)):
        labels = data  # an own model's classes are the labelled folder's class folders, unless --labels says
    parsed = parse_source(model_name, weights=str(policy), input_size=input_size, mean=mean, std=std, layout=layout,
                          labels=labels)  # fmt: skip
    overrides = Overrides(export, quant, Path(calib_dir) if calib_dir else None, calib_count)
    source = SourceModel.from_source(parsed)
    plan = source.applicable(plan)  # an ONNX source refuses torch-only recipes before anything is written
    target = resolve_out_dir(out_dir, source.name, plan.name)
    inputs = probe_inputs(source.preprocessing, source.input_shape, overrides)  # a bad --calib fails here
    return _optimize(source, plan, target, overrides, inputs, verify, data, max_drop)


def optimize_module(
    source: SourceModel,
    recipe: str | Recipe,
    out_dir: Path,
    *,
    overrides: Overrides | None = None,
    verify: bool = True,
    data: Path | None = None,
    max_drop: float | None = None,
    max_float_layers: int = MAX_SENSITIVE_LAYERS,
) -> OptimizeResult:
    """Produce a recipe variant of any float classifier module (same checks as :func:`optimize`).

    ``max_float_layers`` bounds the sensitive layers ``max_drop`` may keep float (default 8).
    """
    plan = source.applicable(get_recipe(recipe) if isinstance(recipe, str) else recipe)
    overrides = overrides or Overrides()
    target = resolve_out_dir(out_dir, source.name, plan.name)
    inputs = probe_inputs(source.preprocessing, source.input_shape, overrides)
    return _optimize(source, plan, target, overrides, inputs, verify, data, max_drop, max_float_layers)


def _optimize(source: SourceModel, plan: Recipe, target: Path, overrides: Overrides, inputs: ProbeInputs,
              verify: bool, data: Path | None = None, max_drop: float | None = None,
              max_float_layers: int = MAX_SENSITIVE_LAYERS) -> OptimizeResult:  # fmt: skip
    require_max_drop(plan, max_drop, data, verify)
    log.info("exporting %s to ONNX", source.name)
    root = source.root()
    if data is None:
        chain = run_chain(root, plan, overrides, inputs, verify)
        return write_variant(source, plan, chain, target, inputs, created_at=datetime.now(timezone.utc))
    labelled = load_data(source, root, data, inputs)  # a bad --data fails before any pass runs
    log.info("measuring the fp32 parent's top-1 on %s", data)
    reference = labelled.measure_artifact(root)
    if max_drop is None:
        chain = run_chain(root, plan, overrides, inputs, verify)
    else:
        chain = accuracy_controlled_chain(root, plan, overrides, inputs, labelled, reference, max_drop,
                                          max_float_layers)  # fmt: skip
    drop = None
    if chain.verdict != "failed":
        log.info("measuring the variant's top-1 on %s", data)
        drop = AccuracyDrop(reference=reference, variant=labelled.measure_artifact(chain.final.artifact),
                            max_drop_pct=max_drop)  # fmt: skip
    result = write_variant(source, plan, chain, target, inputs, created_at=datetime.now(timezone.utc), accuracy=drop)
    if drop is not None and result.artifact_path is not None:
        stored = store_accuracy(source.record_name or source.name, plan.name, source.weights, drop)
        result.report[-1:-1] = [stored] if stored else []
    return result


def resolve_out_dir(out_dir: Path | str | None, model: str, recipe: str) -> Path:
    """The output folder, refusing paths that would clobber a file or someone else's folder.

    Raises:
        BadInputError: the path (or a parent) is a file, or a non-empty folder without a manifest.
    """
    target = Path(out_dir) if out_dir else DEFAULT_OUT_ROOT / f"{model}-{recipe}"
    for path in (target, *target.parents):
        if path.exists() and not path.is_dir():
            raise BadInputError(f"output path {target} is not usable: {path} is a file; give a folder")
    if target.is_dir() and any(target.iterdir()) and not (target / MANIFEST_NAME).is_file():
        raise BadInputError(
            f"output folder {target} is not empty and holds no edgekit {MANIFEST_NAME}; refusing to replace it"
        )
    return target


_PRECISION_ORDER = ("fp32", "fp16", "int8")  # parity kinds from strict to loose ("lossy" is not a tolerance)


def write_variant(source: SourceModel, plan: Recipe, chain: Chain, target: Path, inputs: ProbeInputs,
                  created_at: datetime | None = None,
                  accuracy: AccuracyDrop | None = None) -> OptimizeResult:  # fmt: skip
    """Serialize the chain's artifact with its metadata, check the written file, write the manifest.

    Everything goes into a temporary folder first, swapped into ``target`` only when complete.
    A variant that failed verification gets a manifest but no artifact file.
    """
    artifact = chain.final.artifact
    labels = source.labels or labels_record(None, int(chain.root.outputs("images").shape[1]), "class indices")
    lineage_meta = [{"pass": e.pass_name, "config": e.config} for e in chain.lineage]
    metadata = artifact_metadata(source.preprocessing, labels, lineage_meta,
                                 {"model": source.name, "recipe": plan.name, "weights": source.weights})  # fmt: skip
    file_format: Literal["onnx", "torchscript"] = "onnx" if artifact.kind == "onnx" else "torchscript"
    name = f"{source.name}-{plan.name}{'.onnx' if file_format == 'onnx' else '.pt'}"
    record, metrics, final = None, [], FinalCheck(status="skipped", detail="not written: verification failed")
    with atomic_dir(target) as folder:
        if chain.verdict != "failed":
            path = folder / name
            _write_artifact(artifact, path, metadata)
            record = ArtifactRecord(file=name, format=file_format, sha256=sha256_file(path), bytes=path.stat().st_size)
            final = _final_check(chain, path, file_format, inputs, plan)
            metrics = _file_metrics(path, file_format) + (accuracy_metrics(accuracy) if accuracy else [])
            if final.status == "failed":
                path.unlink()
                record = None
        manifest = Manifest(
            model=source.name, recipe=plan.name, weights=source.weights,
            accuracy_meaningful=source.accuracy_meaningful,
            verdict="failed" if final.status == "failed" else chain.verdict, artifact=record,
            input=_spec(artifact, "input"), output=_spec(artifact, "output", labels.count),
            preprocessing=source.preprocessing, labels=labels, lineage=chain.lineage,
            verification_inputs={"random": inputs.random_label, "images": inputs.images_label},
            end_to_end=_end_to_end(chain), final_check=final, metrics=metrics,
            notes=_notes(source, chain), tool_versions=tool_versions(), created_at=created_at,
        )  # fmt: skip
        write_json_atomic(folder / MANIFEST_NAME, manifest.model_dump(mode="json"))
    return OptimizeResult(
        out_dir=target, artifact_path=target / name if record else None, manifest_path=target / MANIFEST_NAME,
        verdict=manifest.verdict, manifest=manifest, report=render_report(manifest, target, accuracy),
        accuracy=accuracy, decided_by=_gate(manifest, accuracy),
    )  # fmt: skip


def _gate(manifest: Manifest, accuracy: AccuracyDrop | None) -> Literal["fidelity", "accuracy", "none"]:
    if manifest.verdict == "unverified":
        return "none"
    by_accuracy = accuracy is not None and accuracy.max_drop_pct is not None and manifest.verdict != "failed"
    return "accuracy" if by_accuracy else "fidelity"


def _write_artifact(artifact: Artifact, path: Path, metadata: dict[str, str]) -> None:
    if artifact.kind == "onnx":
        save_onnx(stamp_onnx(artifact.model, metadata), path)
        return
    data = torchscript_bytes(artifact.model, example_input(artifact.input_shape), metadata)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def _final_check(chain: Chain, path: Path, file_format: Literal["onnx", "torchscript"],
                 inputs: ProbeInputs, plan: Recipe) -> FinalCheck:  # fmt: skip
    if chain.verdict == "unverified":
        return FinalCheck(status="skipped", detail="verification skipped (--no-verify)")
    kinds = [get_pass(name).capabilities.parity for name in plan.pass_names]
    loosest = max((k for k in kinds if k in _PRECISION_ORDER), key=_PRECISION_ORDER.index, default="fp32")
    return check_written(path, file_format, inputs.images, chain.final.outputs("images"), tolerance_for(loosest))


def _file_metrics(path: Path, file_format: str) -> list[Metric]:
    method = f"{ANALYZER} over sha256:{sha256_file(path)[:12]} ({path.name})"
    size = computed("file_mb", path.stat().st_size / 2**20, "MiB", method)
    if file_format != "onnx":
        return [size]
    return [*analyze_onnx(path, source=path.name).metrics(), size]


def _spec(artifact: Artifact, which: Literal["input", "output"], classes: int = 0) -> TensorSpec:
    if artifact.kind == "onnx":
        value = (artifact.model.graph.input if which == "input" else artifact.model.graph.output)[0]
        dims = value.type.tensor_type.shape.dim
        shape: list[int | str] = [d.dim_value if d.HasField("dim_value") else d.dim_param or "?" for d in dims]
        dtype = onnx.TensorProto.DataType.Name(value.type.tensor_type.elem_type).lower()
        return TensorSpec(name=value.name, shape=shape, dtype=dtype)
    shape = ["batch", *artifact.input_shape[1:]] if which == "input" else ["batch", classes]
    return TensorSpec(name=INPUT_NAME if which == "input" else OUTPUT_NAME, shape=shape, dtype="float")


def _end_to_end(chain: Chain) -> Fidelity | None:
    if chain.verdict == "unverified":
        return None
    return fidelity(chain.root.outputs("images"), chain.final.outputs("images"))


def _notes(source: SourceModel, chain: Chain) -> list[str]:
    notes = list(source.notes) if source.accuracy_meaningful else [*source.notes,
        f"weights {source.weights}: random init, so no accuracy is meaningful; fidelity figures compare "
        "outputs with the parent model on the listed inputs only"
    ]  # fmt: skip
    return notes + [f"{e.pass_name}: {note}" for e in chain.lineage for note in e.report.notes]


def render_report(manifest: Manifest, out_dir: Path, accuracy: AccuracyDrop | None = None) -> list[str]:
    """The one-screen plain-text report of a manifest (and of the accuracy measured with ``--data``)."""
    lines = [f"{manifest.model} · recipe {manifest.recipe} · weights {manifest.weights}"]
    if manifest.artifact:
        lines.append(f"artifact  {out_dir / manifest.artifact.file}  {manifest.artifact.bytes / 2**20:.2f} MiB  "
                     f"sha256 {manifest.artifact.sha256[:16]}")  # fmt: skip
    figures = {m.name: m for m in manifest.metrics}
    if "macs_giga" in figures:
        params, gmacs, peak = (figures[k].value for k in ("params", "macs_giga", "peak_activation_mb"))
        lines.append(f"graph     {params / 1e6:.3f} M params · {gmacs:.3f} GMAC · peak activations {peak:.2f} MiB "
                     "(computed)")  # fmt: skip
    lines.append(f"labels    {manifest.labels.describe()}")
    lines.append("steps")
    for entry in manifest.lineage:
        verdict = entry.verification
        status = verdict.status if verdict else "unverified"
        detail = f"{verdict.detail} [{verdict.tolerance.name}]" if verdict else ""
        lines.append(f"  {entry.pass_name:<20} {status:<10} {detail}")
        if entry.guard:
            lines.append(f"  {'':<20} {'':<10} {entry.guard.summary()}")
            lines += _accuracy_walk(entry.guard)
    lines += [f"  · {note}" for note in manifest.notes]
    for key, label in manifest.verification_inputs.items():
        lines.append(f"inputs    {key}: {label}")
    if manifest.end_to_end:
        e2e = manifest.end_to_end
        lines.append(f"vs float  top-1 agreement {e2e.top1_agreement:.3f}, cosine {e2e.cosine_mean:.4f} "
                     f"(images above; fidelity, not accuracy)")  # fmt: skip
    lines += accuracy.lines(manifest.recipe) if accuracy else []
    lines.append(f"deployed  {manifest.final_check.status}: {manifest.final_check.detail}")
    lines.append(f"verdict   {_verdict(manifest, accuracy)}   manifest {out_dir / MANIFEST_NAME}")
    return lines


def _verdict(manifest: Manifest, accuracy: AccuracyDrop | None) -> str:
    """The verdict and, with --max-drop, that the accuracy bound decided it (the fidelity only reported)."""
    if accuracy is None or _gate(manifest, accuracy) != "accuracy":
        return manifest.verdict.upper()
    met = "PASSED" if accuracy.met else "FAILED"
    sign = "<=" if accuracy.met else ">"
    return (f"{met} by the accuracy bound: measured top-1 drop {accuracy.drop_pct:.2f} pt {sign} --max-drop "
            f"{accuracy.max_drop_pct:g} pt (int8 fidelity reported, not gated)")  # fmt: skip


def _accuracy_walk(guard: GuardOutcome) -> list[str]:
    """One line per rung of an accuracy-controlled int8 walk: its change and measured drop."""
    if guard.max_drop_pct is None:
        return []
    lines = []
    for attempt in guard.attempts:
        change = ", ".join(f"{k}={_short(v)}" for k, v in attempt.changes.items()) or "as configured"
        if attempt.drop_pct is None:
            lines.append(f"  {'':<20} {'':<10} · {attempt.step:<20} {attempt.status} ({attempt.detail})")
            continue
        kept = " ← kept" if attempt.step == guard.kept_step else ""
        lines.append(f"  {'':<20} {'':<10} · {attempt.step:<20} top-1 {attempt.top1_pct:.2f} % drop "
                     f"{attempt.drop_pct:.2f} pt ({change}){kept}")  # fmt: skip
    return lines


def _short(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return f"{len(value)} nodes (…{value[-1]})" if value else "none"
    return str(value)


callable_module(__name__, "edgekit.optimize:optimize")  # edgekit.optimize("mobilenet_v2", "int8")
