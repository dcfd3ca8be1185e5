"""`edgekit models`: the registry with published figures."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from edgekit.cli._common import console, guarded, matching, plural, print_json
from edgekit.models import get_model_info, list_models


@guarded
def models(
    pattern: Annotated[
        str | None,
        typer.Argument(
            metavar="[PATTERN]", help="a word to look for (e.g. mobilenet) or an fnmatch pattern ('mobilenet_v3*')"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """List torchvision classifiers with their published params, GMACs, top-1 and size.

    Examples: edgekit models · edgekit models mobilenet · edgekit models 'resnet*' --json
    """
    infos = [get_model_info(name) for name in matching(list_models(), pattern, "model")]
    if as_json:
        print_json(infos)
        return
    table = Table(title="torchvision classifiers — all figures published (torchvision weights.meta)")
    for column in ("model", "params (M)", "GMACs", "top-1 %", "int8 top-1 %", "size MB", "input px"):
        table.add_column(column, justify="left" if column == "model" else "right", no_wrap=column == "model")
    for info in infos:
        int8 = f"{info.top1_int8.value:.2f}" if info.top1_int8 else "—"
        table.add_row(
            info.name, f"{info.params.value / 1e6:.2f}", f"{info.gmacs.value:.3f}",
            f"{info.top1.value:.2f}", int8, f"{info.file_size_mb.value:.1f}", str(info.preprocessing.crop_px),
        )  # fmt: skip
    console.print(table)
    console.print(
        f"{plural(len(infos), 'model')}. int8 top-1: torchvision's quantized weights (PTQ or QAT), not edgekit's."
    )
