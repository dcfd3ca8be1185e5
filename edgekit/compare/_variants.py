"""The variants ``compare`` can time: registered builders (``fp32`` built in) plus every ONNX recipe."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from edgekit._registry import Registry
from edgekit.bench._export import fp32_onnx
from edgekit.compare._artifacts import recipe_onnx
from edgekit.recipes import get_recipe, list_recipes

VariantBuilder = Callable[[str, str], Path]  # (model, weights) → ONNX file of the variant
VARIANTS: Registry[VariantBuilder] = Registry("variant")


def register_variant(name: str) -> Callable[[VariantBuilder], VariantBuilder]:
    """Register a function that builds a variant's ONNX file from (model, weights).

    Raises:
        ValueError: the name is taken.
    """

    def decorate(builder: VariantBuilder) -> VariantBuilder:
        return VARIANTS.register(name, builder)

    return decorate


def list_variants() -> list[str]:
    """Variant names: the registered ones plus every optimization recipe that yields ONNX."""
    recipes = [r for r in list_recipes() if get_recipe(r).output_kind == "onnx"]
    return sorted(set(VARIANTS.names()) | set(recipes))


def variant_builder(name: str) -> VariantBuilder:
    """The builder of a variant: a registered one, else the recipe's verified, cached artifact."""
    if name in VARIANTS:
        return VARIANTS.get(name)
    return lambda model, weights: recipe_onnx(model, name, weights)


@register_variant("fp32")
def _fp32(model: str, weights: str) -> Path:
    return fp32_onnx(model, weights)
