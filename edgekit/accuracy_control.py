"""Accuracy measured on labelled data for ``optimize --data`` (and ``--max-drop``), and its store records.

:func:`measure_chain` measures the fp32 parent and the variant a chain produced on the same images;
:func:`accuracy_controlled_chain` runs a recipe that ends in static int8 with the int8 step judged by
measured top-1 (:func:`edgekit.verify.guard.accuracy_controlled_int8`); :func:`store_accuracy` keeps
both figures in the results store, where ``recommend`` finds them.
"""

from __future__ import annotations

from pathlib import Path

from edgekit.bench.host import fingerprint, tool_versions
from edgekit.chain import Chain, Overrides, SourceModel, run_chain
from edgekit.errors import BadInputError
from edgekit.evaluate import NOT_MEANINGFUL, Accuracy, AccuracyDrop, LabelledData, artifact_predictor
from edgekit.logits import ONNX_RUNTIME, predict_all
from edgekit.manifest import LineageEntry
from edgekit.metrics import Metric, Provenance
from edgekit.passes import Artifact, StaticInt8, get_pass
from edgekit.recipes import Recipe
from edgekit.store import AccuracyRecord, ResultsStore, keep_accuracy
from edgekit.verify import Evaluated, ProbeInputs
from edgekit.verify.guard import MAX_SENSITIVE_LAYERS, AccuracyTarget, accuracy_controlled_int8

_PCT = 100.0
# Layers are ranked on at most this many of the labelled images (NNCF ranks on a subset too). Fewer rank worse:
# on the EfficientNet-Lite0 photos, 16 of the 30 images ranked layers that never closed the drop, all 30 did.
RANKING_IMAGES = 64
FIDELITY_NOT_GATED = "fidelity reported, not gated: --max-drop decides by measured top-1 on --data"


def load_data(source: SourceModel, root: Artifact, folder: Path, inputs: ProbeInputs) -> LabelledData:
    """The labelled folder as the source's outputs see it (class folders mapped to its output indices).

    Raises:
        BadInputError: the folder does not fit the model's outputs, or holds no readable image.
    """
    num_classes = int(Evaluated(root, inputs).outputs("random").shape[1])
    names = source.labels.names if source.labels is not None else None
    return LabelledData.load(Path(folder), source.preprocessing, num_classes, source.name, names,
                             source.accuracy_meaningful)  # fmt: skip


def require_max_drop(plan: Recipe, max_drop: float | None, data: Path | None, verify: bool) -> None:
    """Refuse a ``--max-drop`` that cannot apply.

    Raises:
        BadInputError: no data, verification off, a negative target, or a recipe not ending in static int8.
    """
    if max_drop is None:
        return
    if data is None:
        raise BadInputError("--max-drop needs --data DIR: the top-1 drop is measured on a labelled image folder")
    if not verify:
        raise BadInputError("--max-drop cannot be combined with --no-verify: it is a verification")
    if max_drop < 0:
        raise BadInputError(f"--max-drop must be at least 0 (top-1 points), got {max_drop:g}")
    if not plan.steps or plan.steps[-1].pass_name != StaticInt8.name:
        raise BadInputError(f"--max-drop applies to recipes that end in static int8 (e.g. int8), not {plan.name}")


def accuracy_controlled_chain(root: Artifact, plan: Recipe, overrides: Overrides, inputs: ProbeInputs,
                              data: LabelledData, reference: Accuracy, max_drop: float,
                              max_float_layers: int = MAX_SENSITIVE_LAYERS) -> Chain:  # fmt: skip
    """Run ``plan`` with its final static int8 step walking the guard by measured top-1 drop."""
    head = run_chain(root, plan.model_copy(update={"steps": plan.steps[:-1]}), overrides, inputs, True)
    if head.verdict == "failed":
        return head
    handler = get_pass(StaticInt8.name)
    config = handler.parse_config(overrides.config_for(plan.steps[-1]))
    ranking = data.images.pixels[:: max(1, len(data.images) // RANKING_IMAGES)][:RANKING_IMAGES]
    reference_logits = predict_all(artifact_predictor(root, data.threads), ranking)
    target = AccuracyTarget(
        judge=lambda model: data.measure_artifact(head.final.artifact.with_model(model)).top1 * _PCT,
        reference_top1_pct=reference.top1 * _PCT, max_drop_pct=max_drop, data=data.label,
        ranking_pixels=ranking, ranking_reference=reference_logits, max_sensitive=max_float_layers,
        threads=data.threads,
    )  # fmt: skip
    result, verdict, guard = accuracy_controlled_int8(head.final, config, target)
    # The user's bound is the contract: measured top-1 decides, passed or not; the fidelity is shown, never gates.
    verdict = verdict.model_copy(update={"status": "reported", "detail": f"{verdict.detail}; {FIDELITY_NOT_GATED}"})
    config = handler.parse_config(guard.final_config)
    entry = LineageEntry(pass_name=handler.name, config=config.model_dump(mode="json"), report=result.report,
                         verification=verdict, guard=guard)  # fmt: skip
    child = Evaluated(result.artifact, inputs)
    return Chain(head.root, child, [*head.lineage, entry], "failed" if verdict.status == "failed" else "passed")


def accuracy_metrics(drop: AccuracyDrop) -> list[Metric]:
    """The variant's measured top-1/top-5, the parent's top-1 and the drop, as manifest metrics."""
    host, versions = fingerprint().id, tool_versions(("edgekit", "onnxruntime"))
    figures = drop.variant.metrics(host, versions)
    note = f"on {drop.reference.data}" + ("" if drop.reference.meaningful else f"; {NOT_MEANINGFUL}")
    prov = Provenance(kind="measured", host=host, runtime=ONNX_RUNTIME, tool_versions=versions,
                      n_samples=drop.reference.n_samples, note=note)  # fmt: skip
    return [*figures, Metric(name="fp32_top1_pct", value=drop.reference.top1 * _PCT, unit="%", provenance=prov),
            Metric(name="top1_drop_pct", value=drop.drop_pct, unit="pt", provenance=prov)]  # fmt: skip


def store_accuracy(model: str, recipe: str, weights: str, drop: AccuracyDrop,
                   store: ResultsStore | None = None) -> str | None:  # fmt: skip
    """Append the variant's and the fp32 parent's records; returns why they were not stored, or None."""
    host, versions = fingerprint().id, tool_versions(("edgekit", "onnxruntime"))
    rows = [(recipe, drop.variant)] + ([("fp32", drop.reference)] if recipe != "fp32" else [])
    records = [AccuracyRecord(
        model=model, recipe=name, weights=weights, top1_pct=measured.top1 * _PCT,
        top5_pct=None if measured.top5 is None else measured.top5 * _PCT,
        reference_top1_pct=drop.reference.top1 * _PCT,
        drop_pct=(drop.reference.top1 - measured.top1) * _PCT, n_images=measured.n_samples,
        data=measured.data, data_sha256=measured.data_sha256, meaningful=measured.meaningful,
        host=host, runtime=ONNX_RUNTIME, tool_versions=versions,
    ) for name, measured in rows]  # fmt: skip
    return keep_accuracy(records, store)
