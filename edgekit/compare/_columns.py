"""The non-latency columns of ``compare``: size, GMACs, params, top-1, fidelity against fp32."""

from __future__ import annotations

from pathlib import Path

from edgekit.analysis import analyze_model, analyze_onnx
from edgekit.bench._export import fp32_onnx
from edgekit.bench.host import fingerprint, tool_versions
from edgekit.compare._config import CompareConfig
from edgekit.errors import StoreError
from edgekit.evaluate import accuracy, check_class_count, data_digest, load_eval_images, selection_label
from edgekit.fidelity import onnx_fidelity
from edgekit.images import IMAGE_SUFFIXES, ImageBatch, generated_images
from edgekit.logits import onnx_predictor
from edgekit.metrics import Metric, Provenance, computed
from edgekit.models import get_model_info, parse_weights
from edgekit.store import AccuracyRecord, ResultsStore

# Without --limit/--per-class, a folder larger than this is sampled per class (all of it would
# not fit in memory: 50,000 ImageNet-val images are 30 GB as float32 tensors).
DEFAULT_MAX_EVAL_IMAGES = 2000
FIDELITY_IMAGES = 32  # generated images for variant-vs-fp32 fidelity when no data is given
_EVAL_RUNTIME = "onnxruntime-cpu"
_PCT = 100.0


def _count_images(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def load_data(config: CompareConfig) -> dict[str, tuple[ImageBatch, str]]:
    """Load the labelled images once per model (its own preprocessing), checking class counts first.

    Returns ``{model: (images, selection label)}``; empty without ``config.data``.

    Raises:
        BadInputError: class count mismatch, empty or undecodable folder.
    """
    if config.data is None:
        return {}
    for model in config.models:
        check_class_count(config.data, get_model_info(model).num_classes, model)
    limit, per_class = config.limit, config.per_class
    if limit is None and per_class is None and _count_images(config.data) > DEFAULT_MAX_EVAL_IMAGES:
        per_class = max(1, DEFAULT_MAX_EVAL_IMAGES // get_model_info(config.models[0]).num_classes)
    loaded = {}
    for model in config.models:
        info = get_model_info(model)
        images = load_eval_images(config.data, info.preprocessing, info.num_classes, model, limit, per_class)
        loaded[model] = (images, selection_label(config.data, limit, per_class, len(images)))
    return loaded


def _measured(name: str, value: float, unit: str, n_samples: int, note: str) -> Metric:
    prov = Provenance(kind="measured", host=fingerprint().id, runtime=_EVAL_RUNTIME, n_samples=n_samples,
                      tool_versions=tool_versions(("edgekit", "onnxruntime")), note=note)  # fmt: skip
    return Metric(name=name, value=value, unit=unit, provenance=prov)


def _graph_cells(model: str, variant: str, path: Path) -> dict[str, Metric]:
    # fp32: the registry analysis (BN unfolded, so params equal the PyTorch module's count).
    analysis = analyze_model(model) if variant == "fp32" else analyze_onnx(path)
    by_name = {m.name: m for m in analysis.metrics()}
    params = by_name["params"]
    return {
        "macs_giga": by_name["macs_giga"],
        "params_millions": computed("params_millions", params.value / 1e6, "M", params.provenance.method or ""),
        "size_mb": computed("size_mb", path.stat().st_size / 2**20, "MB", f"file size of {path.name}"),
    }


def _accuracy_cells(model: str, variant: str, path: Path, config: CompareConfig,
                    data: dict[str, tuple[ImageBatch, str]]) -> dict[str, Metric]:  # fmt: skip
    info = get_model_info(model)
    if model not in data:
        return {"top1_pct": info.top1} if variant == "fp32" else {}
    images, label = data[model]
    meaningful = parse_weights(config.weights).accuracy_meaningful
    result = accuracy(onnx_predictor(path, config.threads), images, info.num_classes, label, meaningful)
    return {m.name: m for m in result.metrics(fingerprint().id, tool_versions(("edgekit", "onnxruntime")))}


def _fidelity_cells(model: str, path: Path, reference: Path, config: CompareConfig,
                    data: dict[str, tuple[ImageBatch, str]]) -> dict[str, Metric]:  # fmt: skip
    if model in data:
        images, label = data[model]
    else:
        images = generated_images(FIDELITY_IMAGES, get_model_info(model).preprocessing)
        label = f"{len(images)} generated images"
    fid = onnx_fidelity(reference, path, images, config.threads)
    note = f"vs fp32 on {label}"
    return {
        "top1_agreement_pct": _measured("top1_agreement_pct", fid.top1_agreement * _PCT, "%", fid.n_samples, note),
        "cosine_mean": _measured("cosine_mean", fid.cosine_mean, "1", fid.n_samples, note),
    }


def static_cells(config: CompareConfig, artifacts: dict[tuple[str, str], Path],
                 data: dict[str, tuple[ImageBatch, str]]) -> dict[tuple[str, str], dict[str, Metric]]:  # fmt: skip
    """Per (model, variant): computed graph/file facts, top-1, and fidelity for non-fp32 variants."""
    cells = {}
    for (model, variant), path in artifacts.items():
        row = _graph_cells(model, variant, path) | _accuracy_cells(model, variant, path, config, data)
        if variant != "fp32":
            reference = artifacts.get((model, "fp32")) or _fp32_reference(model, config)
            row |= _fidelity_cells(model, path, reference, config, data)
        cells[model, variant] = row
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


def store_accuracy(config: CompareConfig, cells: dict[tuple[str, str], dict[str, Metric]],
                   data: dict[str, tuple[ImageBatch, str]],
                   store: ResultsStore | None = None) -> str | None:  # fmt: skip
    """Keep every measured top-1 in the results store (``recommend`` reads it); returns why not, or None."""
    meaningful = parse_weights(config.weights).accuracy_meaningful
    try:
        target = store or ResultsStore()
        for (model, variant), row in cells.items():
            if model not in data or "top1_pct" not in row:
                continue
            images, label = data[model]
            parent = cells.get((model, "fp32"), {}).get("top1_pct")
            top1, prov = row["top1_pct"].value, row["top1_pct"].provenance
            target.put_accuracy(AccuracyRecord(
                model=model, recipe=variant, weights=config.weights, top1_pct=top1,
                top5_pct=row["top5_pct"].value if "top5_pct" in row else None,
                reference_top1_pct=parent.value if parent else None,
                drop_pct=parent.value - top1 if parent else None, n_images=len(images), data=label,
                data_sha256=data_digest(images), meaningful=meaningful, host=prov.host or fingerprint().id,
                runtime=_EVAL_RUNTIME, tool_versions=prov.tool_versions or {},
            ))  # fmt: skip
    except StoreError as exc:
        return f"accuracy not stored: {exc}"
    return None


def _fp32_reference(model: str, config: CompareConfig) -> Path:
    return fp32_onnx(model, config.weights)


def notes(config: CompareConfig, data: dict[str, tuple[ImageBatch, str]]) -> list[str]:
    """Footnotes that say where the accuracy and latency figures come from."""
    lines = [f"weights: {config.weights}" + (" (random init)" if config.weights == "none" else "")]
    if not data:
        lines.append("top-1: published ImageNet-1K figures of torchvision's weights (not measured here)")
    else:
        label = next(iter(data.values()))[1]
        lines.append(f"top-1/top-5: measured with {_EVAL_RUNTIME} on {label}")
        if not parse_weights(config.weights).accuracy_meaningful:
            lines.append("measured accuracy is NOT meaningful: the weights are random init")
    lines.append("latency: p50 per image; torch rows time the PyTorch module, other rows the variant's ONNX file")
    if config.variants != ["fp32"]:
        lines.append(
            "variants other than fp32 are edgekit recipes, built and verified by `edgekit optimize`; "
            "their agreement/cosine are fidelity against fp32 on the same images, not accuracy"
        )
    if config.targets:
        lines.append("'<target> export' rows time the files that target's toolchain converted and verified here")
    return lines
