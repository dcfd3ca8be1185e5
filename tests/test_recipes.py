"""The recipe registry: names, chains, validation, errors."""

from __future__ import annotations

import pytest

from edgekit.errors import UnknownNameError
from edgekit.recipes import Recipe, RecipeStep, get_recipe, list_recipes, register_recipe

REQUIRED = {"fp32", "fp16", "int8", "seed-dynamic", "seed-l1", "pruned30", "pruned30-int8"}


def test_the_issue_recipes_exist_and_chain() -> None:
    assert set(list_recipes()) >= REQUIRED
    assert list_recipes("pruned*") == ["pruned30", "pruned30-int8", "pruned50"]
    assert get_recipe("int8").pass_names == ["export_onnx", "simplify", "static_int8"]
    assert get_recipe("pruned30-int8").pass_names == ["prune_channels", "export_onnx", "simplify", "static_int8"]
    assert get_recipe("pruned30").steps[0].config == {"ratio": 0.3}
    assert get_recipe("seed-l1").pass_names[0] == "prune_l1"


def test_output_kinds_and_baselines() -> None:
    assert get_recipe("seed-dynamic").output_kind == "torch"
    assert {name for name in list_recipes() if get_recipe(name).output_kind == "torch"} == {"seed-dynamic"}
    assert {name for name in list_recipes() if get_recipe(name).baseline} == {"seed-dynamic", "seed-l1", "ort-dynamic"}


def test_unknown_recipe_suggests_close_names() -> None:
    with pytest.raises(UnknownNameError, match=r"unknown recipe 'int9'; did you mean int8"):
        get_recipe("int9")
    with pytest.raises(UnknownNameError, match=r"unknown recipe 'zzz'; see `edgekit recipes` for the list"):
        get_recipe("zzz")


def test_registration_validates_names_configs_and_chains() -> None:
    with pytest.raises(ValueError, match="duplicate recipe name 'fp32'"):
        register_recipe(Recipe(name="fp32", description="x", steps=(RecipeStep(pass_name="export_onnx"),)))
    with pytest.raises(ValueError, match=r"recipe 'bad': pass simplify takes onnx, the chain gives torch"):
        register_recipe(Recipe(name="bad", description="x", steps=(RecipeStep(pass_name="simplify"),)))
    with pytest.raises(ValueError, match="invalid config for pass prune_channels: ratio"):
        register_recipe(Recipe(name="bad", description="x",
                               steps=(RecipeStep(pass_name="prune_channels", config={"ratio": 2}),)))  # fmt: skip
    with pytest.raises(UnknownNameError, match="unknown pass 'quantize'"):
        register_recipe(Recipe(name="bad", description="x", steps=(RecipeStep(pass_name="quantize"),)))
    assert "bad" not in list_recipes()
