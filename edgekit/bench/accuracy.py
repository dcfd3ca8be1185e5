"""``bench --data``: top-1/top-5 of each benchmarked model on a labelled folder, kept in the results store.

A registry model is measured as :func:`~edgekit.evaluate.evaluate_model` does; any other model source
(``arch@checkpoint``, ``module:function``, ``timm:<name>``, an ONNX file) through its fp32 ONNX with its own
input and labels. Each figure is stored like ``optimize``/``compare --data`` store theirs (recipe ``fp32``: the
model as given, the data folder's digest and image count), so ``recommend`` shows it as measured.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from edgekit.accuracy_control import store_accuracy
from edgekit.bench.host import fingerprint, tool_versions
from edgekit.evaluate import Accuracy, AccuracyDrop, evaluate_model, evaluate_source
from edgekit.metrics import Metric
from edgekit.models import get_model_info, parse_weights
from edgekit.models._source import ModelSource, is_registry_name, parse_source

_SOURCE_SUFFIXES = (".onnx",)  # model files that are model sources; other runtimes' files (.xml, .param) are not


class BenchAccuracy(BaseModel):
    """The top-1 figures ``bench`` prints, per model as typed, and what was not measured or stored."""

    model_config = ConfigDict(extra="forbid")

    figures: dict[str, list[Metric]] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)


def bench_accuracy(targets: list[str], data: Path | None, weights: str = "none", limit: int | None = None,
                   per_class: int | None = None, threads: int | None = None,
                   input_px: int | None = None) -> BenchAccuracy:  # fmt: skip
    """Measured top-1/top-5 over ``data`` per target (stored), else the published figure of registry models.

    Raises:
        BadInputError: the class folders do not map to a model's outputs, empty or undecodable folder.
    """
    if data is None:  # published figures describe torchvision's weights, not an own checkpoint
        if parse_weights(weights).kind == "checkpoint":
            return BenchAccuracy()
        return BenchAccuracy(figures={t: [get_model_info(t).top1] for t in targets if is_registry_name(t)})
    result = BenchAccuracy()
    versions = tool_versions(("edgekit", "onnxruntime"))
    for target in targets:
        source = _source_of(target, weights, input_px, data)
        if source is None:
            result.notes.append(f"{target}: accuracy not measured (--data measures model sources and ONNX files)")
            continue
        measured = _measure(source, data, limit, per_class, threads)
        result.figures[target] = measured.metrics(fingerprint().id, versions)
        unstored = store_accuracy(source.record_name(), "fp32", source.weights, AccuracyDrop(reference=measured,
                                  variant=measured))  # fmt: skip
        kept = f"top-1 kept in the results store for recommend (as {source.record_name()} fp32)"
        result.notes.append(f"{target}: {unstored or kept}")
    return result


def _source_of(target: str, weights: str, input_px: int | None, data: Path) -> ModelSource | None:
    path = Path(target)
    if path.is_file() and path.suffix.lower() not in _SOURCE_SUFFIXES:
        return None
    source = parse_source(target, weights=weights, input_size=input_px)
    if source.kind != "torchvision" and source.labels is None:
        source = source.model_copy(update={"labels": data})  # an own model's classes are the class folders
    return source


def _measure(source: ModelSource, data: Path, limit: int | None, per_class: int | None,
             threads: int | None) -> Accuracy:  # fmt: skip
    if source.kind == "torchvision" and source.input_size is None:
        return evaluate_model(source.name, data, source.weights, limit, per_class, threads)
    return evaluate_source(source, data, limit, per_class, threads)
