"""The models of a comparison, whatever their source: each one parsed once into what the columns need.

A torchvision name keeps the registry path (published figures, the registry's own export and analysis, torch
eager rows). An own model — ``arch@checkpoint``, ``module:function``, ``timm:<name>``, an ONNX file — is
timed as its fp32 ONNX export and the recipes built from it through ``optimize`` (:mod:`._artifacts`); its
measured accuracy is stored under :meth:`~edgekit.models._source.ModelSource.record_name`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgekit.bench._export import source_fp32_onnx
from edgekit.bench.runners import ModelSource as BuiltModel
from edgekit.chain import onnx_applicable
from edgekit.compare._artifacts import source_recipe_onnx
from edgekit.compare._config import CompareConfig
from edgekit.compare._variants import VARIANTS, variant_builder
from edgekit.errors import BadInputError
from edgekit.metrics import Metric
from edgekit.models import Preprocessing, get_model_info
from edgekit.models._source import ModelSource, parse_source
from edgekit.recipes import get_recipe


@dataclass(frozen=True)
class CompareModel:
    """One model of the table: its source and what the accuracy and fidelity columns need to know."""

    text: str  # as the user typed it: the row's model column
    source: ModelSource
    preprocessing: Preprocessing
    num_classes: int
    labels: tuple[str, ...] | None
    meaningful: bool  # False for seeded random init

    @property
    def registry(self) -> bool:
        """A torchvision model as published (no checkpoint, no input flags): the registry's own path."""
        return self.source.kind == "torchvision" and self.source.input_size is None and self.source.mean is None

    @property
    def published_top1(self) -> Metric | None:
        """torchvision's published top-1; None for an own model (its head or weights are not torchvision's)."""
        return get_model_info(self.source.name).top1 if self.source.kind == "torchvision" else None

    @property
    def weights(self) -> str:
        """The weights policy the rows are built with."""
        return self.source.weights

    def torch_source(self) -> BuiltModel | None:
        """What a torch eager runner builds for this model; None when it cannot (factory, timm, ONNX file)."""
        if self.source.kind not in ("torchvision", "checkpoint"):
            return None
        return BuiltModel(name=self.source.name, weights=self.source.weights, input_px=self.source.input_size)

    def variant_onnx(self, variant: str) -> Path:
        """The verified ONNX file of ``variant`` (fp32: the export; a recipe: built through ``optimize``)."""
        if self.registry:
            return variant_builder(variant)(self.source.name, self.source.weights)
        if variant == "fp32":
            return source_fp32_onnx(self.source)
        return source_recipe_onnx(self.source, variant)


def resolve_models(config: CompareConfig) -> dict[str, CompareModel]:
    """Parse every model of ``config`` once, refusing variants that cannot apply before anything is built.

    Raises:
        UnknownNameError: not a model source.
        BadInputError: a bad flag or file, a recipe that needs the torch module on an ONNX file, a registered
            variant (other than fp32) for an own model.
    """
    resolved = {}
    for text in config.models:
        source = _parse(text, config)
        model = _describe(text, source)
        if not model.registry:
            _check_variants(model, config.variants)
        resolved[text] = model
    return resolved


def _parse(text: str, config: CompareConfig) -> ModelSource:
    probe = parse_source(text, weights=config.weights, input_size=config.input_size, mean=config.mean,
                         std=config.std, layout=config.layout)  # fmt: skip
    labels = config.labels
    if labels is None and config.data is not None and probe.kind != "torchvision":
        labels = config.data  # an own model's classes are the labelled folder's class folders, unless --labels says
    return probe if labels is None else probe.model_copy(update={"labels": labels})


def _describe(text: str, source: ModelSource) -> CompareModel:
    if source.kind == "torchvision" and source.labels is None and source.mean is None and source.std is None:
        info = get_model_info(source.name)  # no build needed: the registry knows its input and classes
        prep = info.preprocessing.at_size(source.input_size) if source.input_size else info.preprocessing
        return CompareModel(text, source, prep, info.num_classes, None, source.accuracy_meaningful)
    loaded = source.load()
    labels = tuple(loaded.labels) if loaded.labels else None
    return CompareModel(text, source, loaded.preprocessing, loaded.num_classes, labels, loaded.accuracy_meaningful)


def _check_variants(model: CompareModel, variants: list[str]) -> None:
    for variant in variants:
        if variant == "fp32":
            continue
        if variant in VARIANTS:
            raise BadInputError(f"variant {variant} is a registered builder of registry models; {model.text} is an "
                                "own model: compare it with fp32 or a recipe")  # fmt: skip
        if model.source.kind == "onnx":
            onnx_applicable(get_recipe(variant), model.source.name)
