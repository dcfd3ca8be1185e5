"""`edgekit analyze`: exact graph facts for registry models or ONNX files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from edgekit.analysis import GraphAnalysis, analyze_model, analyze_onnx
from edgekit.bench._export import source_fp32_onnx
from edgekit.cli._common import console, guarded, print_json
from edgekit.cli._progress import Quiet, Steps, Verbose
from edgekit.cli._source import MODEL_HELP
from edgekit.models._source import is_registry_name, parse_source
from edgekit.units import format_bytes

_TOP_OPS = 6  # op histogram entries shown in the table


def analyze_target(target: str, input_px: int | None) -> GraphAnalysis:
    """Analyse a registry model name, an ONNX file when ``target`` is a path, or another model source's export."""
    if target.endswith(".onnx") or Path(target).exists():
        return analyze_onnx(Path(target), input_px=input_px)
    if is_registry_name(target):
        return analyze_model(target, input_px)
    return analyze_onnx(source_fp32_onnx(parse_source(target, input_size=input_px)), source=target)


@guarded
def analyze(
    targets: Annotated[list[str], typer.Argument(metavar="MODEL...", help=f"models: {MODEL_HELP}")],
    input_size: Annotated[int | None, typer.Option("--input-size", min=16, help="input side in px")] = None,
    quiet: Quiet = False,
    verbose: Verbose = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Params, weight bytes, MACs, peak activation memory and op histogram (all computed).

    Examples: edgekit analyze mobilenet_v2 resnet18 · edgekit analyze model.onnx --input-size 160 --json
    """
    with Steps("analyze", quiet, verbose):
        results = [analyze_target(t, input_size) for t in targets]
    if as_json:
        print_json(results)
        return
    console.print(_summary_table(results))
    for result in results:
        _print_details(result)


def _summary_table(results: list[GraphAnalysis]) -> Table:
    table = Table(title="graph analysis — computed from the ONNX graph at batch 1")
    for column in ("model", "params (M)", "weights", "GMACs", "peak activations", "nodes", "opset"):
        table.add_column(column, justify="left" if column == "model" else "right", no_wrap=column == "model")
    for r in results:
        table.add_row(
            Path(r.source).name, f"{r.params / 1e6:.3f}", format_bytes(r.weight_bytes), f"{r.macs / 1e9:.3f}",
            format_bytes(r.peak_activation_bytes), str(len(r.nodes)), str(r.opset),
        )  # fmt: skip
    return table


def _print_details(r: GraphAnalysis) -> None:
    ops = sorted(r.op_histogram.items(), key=lambda kv: -kv[1])[:_TOP_OPS]
    dtypes = ", ".join(f"{k} {format_bytes(v)}" for k, v in r.weight_bytes_by_dtype.items())
    analysed = {i.name: i.shape for i in r.analysed_inputs}
    inputs = ", ".join(f"{i.name} {i.dtype}{i.shape}{_analysed_at(i.shape, analysed.get(i.name))}" for i in r.inputs)
    console.print(f"[bold]{Path(r.source).name}[/bold]  input {inputs}; weights by dtype: {dtypes}")
    console.print(f"  ops: {', '.join(f'{op}×{n}' for op, n in ops)}; peak at {r.peak_activation_node}")
    if r.preprocessing:
        p = r.preprocessing
        console.print(
            f"  preprocess: resize {p.resize_px} → crop {p.crop_px} ({p.interpolation}), mean {p.mean}, std {p.std}"
        )


def _analysed_at(shape: list[int | str], analysed: list[int | str] | None) -> str:
    """`` (analysed at [1, 3, 160, 160])`` when a symbolic height/width was given a size."""
    return f" (analysed at {analysed})" if analysed and analysed[1:] != shape[1:] else ""
