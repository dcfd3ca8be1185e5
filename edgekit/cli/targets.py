"""`edgekit targets` (what each toolchain accepts, verifiable here or not) and `edgekit export`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from edgekit.cli._common import Wide, console, guarded, matching, plural, print_json, split_csv
from edgekit.cli._progress import Quiet, Steps, Verbose
from edgekit.cli._source import MODEL_HELP, InputSize, Labels, Layout, Mean, Std, source_from
from edgekit.cli._table import Col, print_fitted
from edgekit.devices import resolve_board
from edgekit.devices.verify_on import BoardConverter, check_verifiable_on_board
from edgekit.errors import BadInputError
from edgekit.targets import TargetSpec, get_target, load_targets
from edgekit.targets._converter import get_converter, why_not_verifiable
from edgekit.targets.export import NOT_DEPLOYABLE, ConverterWrapper, ExportManifest, ExportResult, export_for_target
from edgekit.units import format_bytes

# Column importance on a narrow terminal (higher stays longer).
_COLUMNS = [
    Col("target", no_wrap=True),
    Col("units", 80),
    Col("precisions", 90),
    Col("int8", 60),
    Col("opset", 40, no_wrap=True),
    Col("dynamic", 30),
    Col("hand-off", 50),
    Col("here", 95, no_wrap=True),
]


def _row(spec: TargetSpec) -> dict[str, Any]:
    reason = why_not_verifiable(spec)
    quant = spec.quantization
    dtype = {"uint8": "u8", "int8": "i8", "int16": "i16"}
    int8 = "-" if quant is None else (
        f"{'QDQ' if quant.handoff == 'qdq-onnx' else 'own'} {dtype[quant.activation_dtype]}"
        f"{' sym' if quant.activations_symmetric else ''}"
    )  # fmt: skip
    return {
        "id": spec.id, "runtime": spec.runtime, "compute_units": spec.compute_units, "precisions": spec.precisions,
        "int8": int8, "opset": f"{spec.opset_min}-{spec.opset_max}", "dynamic_shapes": spec.dynamic_shapes,
        "tool": spec.handoff.tool, "verifiable_here": reason is None, "why_not": reason,
        "runtime_overhead_mb": spec.runtime_overhead_mb.metric().model_dump(mode="json"),
    }  # fmt: skip


@guarded
def targets(
    pattern: Annotated[
        str | None,
        typer.Argument(metavar="[PATTERN]", help="a word in the target id (e.g. onnxruntime) or an fnmatch pattern"),
    ] = None,
    wide: Wide = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output (full specs)")] = False,
) -> None:
    """Vendor targets: precisions, int8 format, opsets, hand-off tool, and whether they verify here.

    Examples: edgekit targets · edgekit targets onnxruntime · edgekit targets rknn --json
    """
    specs = load_targets()
    chosen = [specs[name] for name in matching(specs, pattern, "target")]
    if as_json:
        rows = [(spec, _row(spec)) for spec in chosen]
        print_json([{**spec.model_dump(mode="json"), "verifiable_here": row["verifiable_here"],
                     "why_not_verifiable": row["why_not"]} for spec, row in rows])  # fmt: skip
        return
    reasons, rows = [], []
    for spec in chosen:
        row = _row(spec)
        if not row["verifiable_here"]:
            reasons.append(f"{spec.id}: {row['why_not']}")
        rows.append([spec.id, ", ".join(spec.compute_units), ", ".join(spec.precisions), row["int8"], row["opset"],
                     "yes" if spec.dynamic_shapes else "no", spec.handoff.tool,
                     "verified" if row["verifiable_here"] else "pre-flight"])  # fmt: skip
    print_fitted(console, _COLUMNS, rows, wide, title="vendor targets (targets/*.yaml)")
    console.print(f"{plural(len(chosen), 'target')}. int8: QDQ = edgekit quantizes, own = the toolchain calibrates "
                  "from files edgekit writes. here: verified = `edgekit export` converts, runs and parity-checks it on "
                  "this machine; pre-flight = checked, with hand-off commands only:")  # fmt: skip
    for line in reasons:
        console.print(f"  {line}", highlight=False)


def _parameters(values: list[str] | None) -> dict[str, str]:
    parsed = {}
    for item in split_csv(values):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise BadInputError(f"--param takes key=value (e.g. target_platform=rk3568), got {item!r}")
        parsed[key.strip()] = value.strip()
    return parsed


@guarded
def export(
    model: Annotated[str, typer.Argument(help=MODEL_HELP)],
    target: Annotated[str, typer.Option("--target", "-t", help="target id (see `edgekit targets`)")],
    recipe: Annotated[
        str | None, typer.Option("--recipe", help="recipe (default fp32; an ONNX file without one goes as it is)")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="output folder")] = None,
    weights: Annotated[str, typer.Option("--weights", help="imagenet | none | checkpoint path")] = "none",
    calib: Annotated[Path | None, typer.Option("--calib", help="calibration image folder")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="images for the parity check")] = None,
    samples: Annotated[int, typer.Option("--samples", help="parity images")] = 8,
    precision: Annotated[str | None, typer.Option("--precision", help="ONNX files: fp32 | fp16 | int8")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", help="hand-off parameter key=value")] = None,
    threads: Annotated[int | None, typer.Option("--threads", min=1, help="threads of the verifying runtime")] = None,
    no_verify: Annotated[bool, typer.Option("--no-verify", help="skip conversion and parity here")] = False,
    verify_on: Annotated[
        str | None, typer.Option("--verify-on", help="run the parity check on a board: ssh://... or a devices.yaml id")
    ] = None,
    input_size: InputSize = None,
    mean: Mean = None,
    std: Std = None,
    layout: Layout = None,
    labels: Labels = None,
    quiet: Quiet = False,
    verbose: Verbose = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Build the artifact a target wants, pre-flight it, convert and verify it here, write the hand-off.

    Examples:

      edgekit export mobilenet_v2 -t openvino-cpu --recipe int8 --weights imagenet --calib images/

      edgekit export model.onnx -t rknn --param target_platform=rk3588
    """
    source = source_from(model, weights, input_size, mean, std, layout, labels)
    with Steps(f"export {model} for {target}", quiet, verbose):
        result = export_for_target(source, target, recipe, out, weights=weights, calib_dir=calib, data_dir=data,
                                   samples=samples, verify=not no_verify, threads=threads,
                                   parameters=_parameters(param), precision=precision,
                                   run_converted=_on_board(verify_on, target, threads))  # fmt: skip
    if as_json:
        print_json({"out_dir": str(result.out_dir), "manifest": result.manifest})
        return
    _print_export(result)


def _on_board(verify_on: str | None, target: str, threads: int | None) -> ConverterWrapper | None:
    """The converter wrapper that runs the parity check on the ``--verify-on`` board (checked before building)."""
    if verify_on is None:
        return None
    board = resolve_board(verify_on, need_profile=False)
    if board is None:  # --verify-on local: the usual check here
        return None
    check_verifiable_on_board(get_converter(get_target(target), threads))
    return lambda converter: BoardConverter(converter, board)


def _print_export(result: ExportResult) -> None:
    m = result.manifest
    # A file name is the user's text: escaped, "[/b]" in it would be a rich markup error, "[b]" would vanish.
    console.print(f"[bold]{escape(m.model)}[/bold] → target {m.target} ({m.toolchain}) · {m.precision} · "
                  f"{m.precision_input}")  # fmt: skip
    console.print(f"  {m.preflight.summary()}", markup=False)
    if m.labels is not None:
        console.print(f"  output {m.output_shape}, labels {m.labels.describe()}", markup=False)
    v = m.verification
    if v.status == "skipped":
        console.print(f"  verification skipped: {v.reason}", markup=False)
    for check in v.checks:
        gate = "gated" if check.gated else "reported"
        console.print(f"  parity {'ok' if check.passed else 'FAIL'} ({gate}, {check.tolerance}): {check.label}: "
                      f"{check.detail}", markup=False)  # fmt: skip
    if m.target_guard is not None:
        console.print(f"  {m.target_guard.summary()}", markup=False)
    if v.inputs:
        console.print(f"  parity inputs: {v.inputs}", markup=False)
    console.print(f"  files: {', '.join(f.path for f in m.files if f.role != 'calibration')}"
                  f"{' + calibration files' if any(f.role == 'calibration' for f in m.files) else ''}",
                  markup=False)  # fmt: skip
    console.print(f"  size: {artifact_size(m)}", markup=False)
    console.print(f"  hand-off ({m.handoff.tool}; needs {m.handoff.install}):", markup=False, highlight=False)
    for command in m.handoff.commands:
        console.print(f"    {command}", markup=False, highlight=False)
    console.print(f"  manifest {result.manifest_path}", markup=False)
    for line in deployability(m):
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def artifact_size(m: ExportManifest) -> str:
    """``mobilenet_v2-int8.onnx 3.5 MB; folder 3.6 MB``: what goes on the device, and everything written."""
    artifact = next((f for f in m.files if f.path == m.artifact), None)
    converted = [f for f in m.files if f.role not in ("onnx", "calibration", "handoff")]
    parts = [f"{m.artifact} {format_bytes(artifact.bytes)}"] if artifact else []
    if converted:
        parts.append(f"converted ({converted[0].role}) {format_bytes(sum(f.bytes for f in converted))}")
    return "; ".join([*parts, f"folder {format_bytes(sum(f.bytes for f in m.files))}"])


def deployability(m: ExportManifest) -> list[str]:
    """The manifest's notes where they are read: ``warning:`` when the artifact is not fit to deploy as it is."""
    return [f"{'warning' if note.startswith(NOT_DEPLOYABLE) else 'note'}: {note}" for note in m.notes]
