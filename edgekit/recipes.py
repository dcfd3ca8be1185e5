"""Named chains of passes: the variants ``edgekit optimize --recipe NAME`` builds.

Every recipe starts from the float torch module. The seed's recipes (``seed-dynamic``,
``seed-l1``) stay available as honest baselines next to the ones that pay off on CPUs
(``int8``, ``pruned30``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from edgekit._registry import Registry
from edgekit.passes import ArtifactKind, get_pass


class RecipeStep(BaseModel):
    """One pass and its config (defaults for omitted fields)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pass_name: str
    config: dict[str, Any] = Field(default_factory=dict)


class Recipe(BaseModel):
    """A named, validated chain of passes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str
    steps: tuple[RecipeStep, ...]
    baseline: bool = Field(False, description="a seed recipe kept to show why the better ones win")

    @property
    def output_kind(self) -> ArtifactKind:
        """``onnx`` or ``torch`` (torch-runtime-only variants)."""
        return get_pass(self.steps[-1].pass_name).capabilities.output_kind

    @property
    def pass_names(self) -> list[str]:
        """The chain as pass names."""
        return [step.pass_name for step in self.steps]


RECIPES: Registry[Recipe] = Registry("recipe")


def register_recipe(recipe: Recipe) -> Recipe:
    """Validate and register a recipe.

    Raises:
        ValueError: duplicate name, unknown pass, invalid config, or passes that do not chain.
    """
    if recipe.name in RECIPES:
        RECIPES.register(recipe.name, recipe)  # raises: the name is taken
    kind: ArtifactKind = "torch"
    for step in recipe.steps:
        handler = get_pass(step.pass_name)
        handler.parse_config(step.config)
        if handler.capabilities.input_kind != kind:
            raise ValueError(
                f"recipe {recipe.name!r}: pass {step.pass_name} takes {handler.capabilities.input_kind}, "
                f"the chain gives {kind}"
            )
        kind = handler.capabilities.output_kind
    return RECIPES.register(recipe.name, recipe)


def list_recipes(pattern: str | None = None) -> list[str]:
    """Recipe names, optionally filtered by an fnmatch pattern."""
    return RECIPES.names(pattern)


def get_recipe(name: str) -> Recipe:
    """Return the recipe called ``name``.

    Raises:
        UnknownNameError: no such recipe (lists close matches).
    """
    return RECIPES.get(name)


def _steps(*items: str | tuple[str, dict[str, Any]]) -> tuple[RecipeStep, ...]:
    return tuple(
        RecipeStep(pass_name=item) if isinstance(item, str) else RecipeStep(pass_name=item[0], config=item[1])
        for item in items
    )


_EXPORT = ("export_onnx", "simplify")
for _recipe in (
    Recipe(name="fp32", description="ONNX fp32, simplified: the reference every variant is compared with",
           steps=_steps(*_EXPORT)),
    Recipe(name="fp16", description="ONNX fp16 weights and activations, float32 I/O",
           steps=_steps(*_EXPORT, "fp16")),
    Recipe(name="int8", description="static int8 PTQ, QDQ (uint8 activations, int8 per-channel weights), guarded",
           steps=_steps(*_EXPORT, "static_int8")),
    Recipe(name="ort-dynamic", description="onnxruntime dynamic int8 (ConvInteger): shows its cost on CNNs",
           steps=_steps(*_EXPORT, "ort_dynamic_quant"), baseline=True),
    Recipe(name="seed-dynamic", description="seed: torch quantize_dynamic of Linear layers (torch runtime only)",
           steps=_steps("torch_dynamic_quant"), baseline=True),
    Recipe(name="seed-l1", description="seed: 20% global L1 unstructured zeros, made permanent (dense cost)",
           steps=_steps("prune_l1", *_EXPORT), baseline=True),
    Recipe(name="pruned30", description="30% of channels removed (Torch-Pruning), not fine-tuned",
           steps=_steps(("prune_channels", {"ratio": 0.3}), *_EXPORT)),
    Recipe(name="pruned50", description="50% of channels removed (Torch-Pruning), not fine-tuned",
           steps=_steps(("prune_channels", {"ratio": 0.5}), *_EXPORT)),
    Recipe(name="pruned30-int8", description="30% of channels removed, then static int8 PTQ (guarded)",
           steps=_steps(("prune_channels", {"ratio": 0.3}), *_EXPORT, "static_int8")),
):  # fmt: skip
    register_recipe(_recipe)
