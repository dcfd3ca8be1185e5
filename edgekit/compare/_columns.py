"""The non-latency columns of ``compare``: size, GMACs, params, top-1, fidelity against fp32."""

from __future__ import annotations

from pathlib import Path

from edgekit.analysis import analyze_model, analyze_onnx
from edgekit.bench.host import fingerprint, tool_versions
from edgekit.compare._config import CompareConfig
from edgekit.compare._sources import CompareModel
from edgekit.evaluate import (
    accuracy,
    check_class_count,
    data_digest,
    default_per_class,
    load_eval_images,
    selection_label,
)
from edgekit.fidelity import onnx_fidelity
from edgekit.images import ImageBatch, generated_images
from edgekit.logits import onnx_predictor
from edgekit.metrics import Metric, Provenance, computed
from edgekit.store import AccuracyRecord, ResultsStore, keep_accuracy

FIDELITY_IMAGES = 32  # generated images for variant-vs-fp32 fidelity when no data is given
_EVAL_RUNTIME = "onnxruntime-cpu"
_PCT = 100.0


def load_data(config: CompareConfig, models: dict[str, CompareModel]) -> dict[str, tuple[ImageBatch, str]]:
    """Load the labelled images once per model (its own preprocessing), checking class counts first.

    Returns ``{model: (images, selection label)}``; empty without ``config.data``.

    Raises:
        BadInputError: class count mismatch, empty or undecodable folder.
    """
    if config.data is None:
        return {}
    for text, model in models.items():
        check_class_count(config.data, model.num_classes, text, model.labels)
    limit, per_class = config.limit, default_per_class(config.data, config.limit, config.per_class)
    loaded = {}
    for text, model in models.items():
        images = load_eval_images(config.data, model.preprocessing, model.num_classes, text, limit, per_class,
                                  model.labels)  # fmt: skip
        loaded[text] = (images, selection_label(config.data, limit, per_class, len(images)))
    return loaded


def _measured(name: str, value: float, unit: str, n_samples: int, note: str) -> Metric:
    prov = Provenance(kind="measured", host=fingerprint().id, runtime=_EVAL_RUNTIME, n_samples=n_samples,
                      tool_versions=tool_versions(("edgekit", "onnxruntime")), note=note)  # fmt: skip
    return Metric(name=name, value=value, unit=unit, provenance=prov)


def _graph_cells(model: CompareModel, variant: str, path: Path) -> dict[str, Metric]:
    # fp32 of a registry model: the registry analysis (BN unfolded, so params equal the PyTorch module's count).
    analysis = analyze_model(model.source.name) if variant == "fp32" and model.registry else analyze_onnx(path)
    by_name = {m.name: m for m in analysis.metrics()}
    params = by_name["params"]
    return {
        "macs_giga": by_name["macs_giga"],
        "params_millions": computed("params_millions", params.value / 1e6, "M", params.provenance.method or ""),
        "size_mb": computed("size_mb", path.stat().st_size / 2**20, "MB", f"file size of {path.name}"),
    }


def _accuracy_cells(model: CompareModel, variant: str, path: Path, config: CompareConfig,
                    data: dict[str, tuple[ImageBatch, str]]) -> dict[str, Metric]:  # fmt: skip
    if model.text not in data:
        published = model.published_top1 if model.registry and variant == "fp32" else None
        return {"top1_pct": published} if published else {}
    images, label = data[model.text]
    result = accuracy(onnx_predictor(path, config.threads), images, model.num_classes, label, model.meaningful)
    return {m.name: m for m in result.metrics(fingerprint().id, tool_versions(("edgekit", "onnxruntime")))}


def _fidelity_cells(model: CompareModel, path: Path, reference: Path, config: CompareConfig,
                    data: dict[str, tuple[ImageBatch, str]]) -> dict[str, Metric]:  # fmt: skip
    if model.text in data:
        images, label = data[model.text]
    else:
        images = generated_images(FIDELITY_IMAGES, model.preprocessing)
        label = f"{len(images)} generated images"
    fid = onnx_fidelity(reference, path, images, config.threads)
    note = f"vs fp32 on {label}"
    return {
        "top1_agreement_pct": _measured("top1_agreement_pct", fid.top1_agreement * _PCT, "%", fid.n_samples, note),
        "cosine_mean": _measured("cosine_mean", fid.cosine_mean, "1", fid.n_samples, note),
    }


def static_cells(config: CompareConfig, models: dict[str, CompareModel], artifacts: dict[tuple[str, str], Path],
                 data: dict[str, tuple[ImageBatch, str]]) -> dict[tuple[str, str], dict[str, Metric]]:  # fmt: skip
    """Per (model, variant): computed graph/file facts, top-1, and fidelity for non-fp32 variants."""
    cells = {}
    for (text, variant), path in artifacts.items():
        model = models[text]
        row = _graph_cells(model, variant, path) | _accuracy_cells(model, variant, path, config, data)
        if variant != "fp32":
            reference = artifacts.get((text, "fp32")) or model.variant_onnx("fp32")
            row |= _fidelity_cells(model, path, reference, config, data)
        cells[text, variant] = row
    _drop_cells(cells, data)
    return cells


def _drop_cells(cells: dict[tuple[str, str], dict[str, Metric]], data: dict[str, tuple[ImageBatch, str]]) -> None:
    """Add ``top1_drop_pct`` (fp32 top-1 minus the variant's, same images) to every measured variant row."""
    for (model, variant), row in cells.items():
        parent = cells.get((model, "fp32"), {}).get("top1_pct")
        if variant == "fp32" or model not in data or parent is None or "top1_pct" not in row:
            continue
        drop = parent.value - row["top1_pct"].value
        row["top1_drop_pct"] = _measured("top1_drop_pct", drop, "pt", row["top1_pct"].provenance.n_samples or 0,
                                         f"fp32 top-1 minus {variant} top-1 on {data[model][1]}")  # fmt: skip


def store_accuracy(models: dict[str, CompareModel], cells: dict[tuple[str, str], dict[str, Metric]],
                   data: dict[str, tuple[ImageBatch, str]],
                   store: ResultsStore | None = None) -> str | None:  # fmt: skip
    """Keep every measured top-1 in the results store (``recommend`` reads it); returns why not, or None.

    An own model's records go under its :meth:`~edgekit.models._source.ModelSource.record_name`.
    """
    digests = {text: data_digest(images) for text, (images, _) in data.items()}  # each folder read once
    records = []
    for (text, variant), row in cells.items():
        if text not in data or "top1_pct" not in row:
            continue
        model, (images, label) = models[text], data[text]
        parent = cells.get((text, "fp32"), {}).get("top1_pct")
        top1, prov = row["top1_pct"].value, row["top1_pct"].provenance
        records.append(AccuracyRecord(
            model=model.source.record_name(), recipe=variant, weights=model.weights, top1_pct=top1,
            top5_pct=row["top5_pct"].value if "top5_pct" in row else None,
            reference_top1_pct=parent.value if parent else None,
            drop_pct=parent.value - top1 if parent else None, n_images=len(images), data=label,
            data_sha256=digests[text], meaningful=model.meaningful, host=prov.host or fingerprint().id,
            runtime=_EVAL_RUNTIME, tool_versions=prov.tool_versions or {},
        ))  # fmt: skip
    return keep_accuracy(records, store)


def kept_note(models: dict[str, CompareModel], data: dict[str, tuple[ImageBatch, str]]) -> list[str]:
    """Where the measured top-1 went: the results store, under each model's record name (recommend's key)."""
    names = [models[text].source.record_name() for text in data]
    return [f"measured top-1 kept in the results store for recommend (as {', '.join(names)})"] if names else []


def notes(config: CompareConfig, models: dict[str, CompareModel], data: dict[str, tuple[ImageBatch, str]]) -> list[str]:
    """Footnotes that say where the accuracy and latency figures come from."""
    weights = sorted({"the ONNX file's own" if m.source.kind == "onnx" else m.weights for m in models.values()})
    lines = [f"weights: {', '.join(weights)}" + (" (random init)" if weights == ["none"] else "")]
    own = [t for t, m in models.items() if not m.registry]
    if not data:
        if len(own) < len(models):
            lines.append("top-1: published ImageNet-1K figures of torchvision's weights (not measured here)")
        if own:
            lines.append(f"top-1 of own models ({', '.join(own)}): none published; measure it with --data DIR")
    else:
        label = next(iter(data.values()))[1]
        lines.append(f"top-1/top-5: measured with {_EVAL_RUNTIME} on {label}; drop = fp32 top-1 minus the variant's")
        if not all(m.meaningful for m in models.values()):
            lines.append("measured accuracy is NOT meaningful: the weights are random init")
    labelled = [f"{t}: {', '.join(m.labels)}" for t, m in models.items() if m.labels and not m.registry]
    lines += [f"classes of {line}" for line in labelled]
    lines.append("latency: p50 per image; torch rows time the PyTorch module, other rows the variant's ONNX file")
    if config.variants != ["fp32"]:
        lines.append(
            "variants other than fp32 are edgekit recipes, built and verified by `edgekit optimize`; "
            "their agreement/cosine are fidelity against fp32 on the same images, not accuracy"
        )
    if config.targets:
        lines.append("'<target> export' rows time the files that target's toolchain converted and verified here")
    return lines
