"""`edgekit optimize` and `edgekit recipes`: build verified variants, list the recipes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from edgekit import optimize as library  # looked up at call time: tests stand in a tiny model
from edgekit.chain import ExportOptions
from edgekit.cli._common import console, guarded, matching, print_json
from edgekit.cli._progress import Quiet, Steps, Verbose
from edgekit.cli._source import MODEL_HELP, InputSize, Labels, Layout, Mean, Std, triple
from edgekit.errors import BadInputError
from edgekit.passes.export_onnx import MAX_EXPORT_OPSET, MIN_EXPORT_OPSET
from edgekit.recipes import get_recipe, list_recipes


@guarded
def optimize(
    model: Annotated[str, typer.Argument(help=MODEL_HELP)],
    recipe: Annotated[str, typer.Option("--recipe", help="recipe name (see `edgekit recipes`)")] = "fp32",
    calib: Annotated[
        Path | None,
        typer.Option(
            "--calib", help="image folder for int8 calibration and held-out fidelity (default: generated images)"
        ),
    ] = None,  # fmt: skip
    calib_count: Annotated[int | None, typer.Option("--calib-count", min=1, help="calibration images (32)")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="output folder (default ./edgekit-out/MODEL-RECIPE)")
    ] = None,  # fmt: skip
    weights: Annotated[str, typer.Option("--weights", help="imagenet | none | checkpoint path")] = "none",
    opset: Annotated[int | None, typer.Option("--opset", help="ONNX opset of the export (17)")] = None,
    static_batch: Annotated[bool, typer.Option("--static-batch", help="batch fixed at 1, no dynamic axis")] = False,
    no_verify: Annotated[bool, typer.Option("--no-verify", help="skip every check (recorded as unverified)")] = False,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="labelled ImageFolder: measure top-1/top-5 of the fp32 parent and the variant"),
    ] = None,  # fmt: skip
    max_drop: Annotated[
        float | None,
        typer.Option("--max-drop", min=0, help="int8: walk the guard until the measured top-1 drop is <= this (pt)"),
    ] = None,  # fmt: skip
    input_size: InputSize = None,
    mean: Mean = None,
    std: Std = None,
    layout: Layout = None,
    labels: Labels = None,
    quiet: Quiet = False,
    verbose: Verbose = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Export, transform and verify a model by a recipe; writes the artifact and its manifest atomically.

    Examples:

      edgekit optimize mobilenet_v2 --recipe int8 --weights imagenet --calib images/

      edgekit optimize model.onnx --recipe fp16 --out build/fp16
    """
    export = None
    if opset is not None and not MIN_EXPORT_OPSET <= opset <= MAX_EXPORT_OPSET:
        raise BadInputError(f"--opset {opset} is outside {MIN_EXPORT_OPSET}..{MAX_EXPORT_OPSET} (torch's exporter)")
    if opset is not None or static_batch:
        export = ExportOptions(**({"opset": opset} if opset is not None else {}), dynamic_batch=not static_batch)
    with Steps(f"optimize {model} {recipe}", quiet, verbose):
        result = library.optimize(model, recipe, weights, calib, out, calib_count=calib_count, export=export,
                                  verify=not no_verify, data=data, max_drop=max_drop, input_size=input_size,
                                  mean=triple(mean, "mean"), std=triple(std, "std"), layout=layout,
                                  labels=labels)  # fmt: skip
    if as_json:
        print_json(result)
    else:
        for line in result.report:
            console.print(line, highlight=False, markup=False, soft_wrap=True)
    result.require_passed()


@guarded
def recipes(
    pattern: Annotated[
        str | None,
        typer.Argument(metavar="[PATTERN]", help="a word in the recipe name (e.g. pruned) or an fnmatch pattern"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """List the recipes `edgekit optimize --recipe` accepts, with their chains of passes.

    Examples: edgekit recipes · edgekit recipes pruned · edgekit recipes 'int8*' --json
    """
    found = [get_recipe(name) for name in matching(list_recipes(), pattern, "recipe")]
    if as_json:
        print_json([{**r.model_dump(mode="json"), "output_kind": r.output_kind} for r in found])
        return
    table = Table(title="recipes — chains of passes, each verified against its parent")
    for column in ("recipe", "passes", "output", "what it is"):
        table.add_column(column, no_wrap=column == "recipe")
    for r in found:
        output = "ONNX" if r.output_kind == "onnx" else "TorchScript"
        description = f"{r.description}{' [baseline]' if r.baseline else ''}"
        table.add_row(r.name, " → ".join(r.pass_names), output, description)
    console.print(table)
