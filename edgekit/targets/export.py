"""``export_for_target``: the artifact a vendor toolchain wants, pre-flighted, converted, verified.

Steps, all inside a temporary folder that becomes ``out_dir`` only when every step succeeded:

1. build the ONNX for the target (opset, static batch, int8 format) from a registry model
   and recipe (through ``edgekit.optimize``) or take an ONNX file;
2. pre-flight it (ops, opset, static shapes, precision, int8 format): a failure is a
   BadInputError naming the op and the target, and nothing is written;
3. write calibration files when the toolchain quantizes by itself;
4. convert with the vendor toolchain where it is installed here, run it on sample inputs and
   judge parity against the fp32 parent (a failure is a VerificationError);
5. render the hand-off commands (``handoff.sh``) and write ``manifest.json``.
"""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from pydantic import BaseModel, ConfigDict, Field

from edgekit.errors import BadInputError, EdgekitError, VerificationError, summarize_exception
from edgekit.fileio import atomic_dir, current_umask, sha256_file, write_json_atomic
from edgekit.images import generated_images, load_images
from edgekit.manifest import LabelsRecord, tool_versions
from edgekit.models import Preprocessing
from edgekit.models._source import ModelSource, parse_source
from edgekit.onnx_io import copy_onnx, load_onnx
from edgekit.optimize import resolve_out_dir
from edgekit.runtimes import list_runtimes
from edgekit.targets._build import Built, build_onnx_file, build_registry_model, is_onnx_file, recipe_precision
from edgekit.targets._converter import ToolchainConverter, get_converter, why_not_verifiable
from edgekit.targets._parity import ParityVerdict, verify_conversion
from edgekit.targets._registry import get_target
from edgekit.targets._schema import TargetSpec
from edgekit.targets._target_guard import TargetGuard, guard_on_target
from edgekit.targets.calibration import CALIBRATION_DIR, CALIBRATION_PATHS, write_calibration
from edgekit.targets.handoff import (
    HANDOFF_SCRIPT,
    RenderedHandoff,
    check_overrides,
    check_text,
    handoff_context,
    render_handoff,
)
from edgekit.targets.preflight import PreflightReport, graph_inputs, require_preflight
from edgekit.vocab import DEFAULT_OUT_ROOT

log = logging.getLogger(__name__)  # steps for the CLI's progress line (edgekit.cli._progress)
# Wraps a target's converter so that its converted files run elsewhere (a board); see export_for_target.
ConverterWrapper = Callable[[ToolchainConverter], Any]

EXPORT_SCHEMA_VERSION = 1
MANIFEST_NAME = "manifest.json"  # same name as optimize's, so re-exports may replace the folder
# Parity inputs: 8 generated images keep a vendor run to seconds on 2 cores (resnet18: ~1.3 s).
DEFAULT_SAMPLES = 8
# Generated parity images use the held-out seed (calibration uses 0), as edgekit.optimize does.
PARITY_SEED = 1
CALIBRATION_SEED = 0
CALIBRATION_COUNT = 32  # images written for toolchains that calibrate themselves (same as the QDQ pass)
# Notes that say the artifact is not yet fit to deploy (`edgekit export` prints them as warnings).
RANDOM_WEIGHTS_NOTE = "random-init weights (--weights none)"
GENERATED_CALIBRATION_NOTE = "int8 calibrated on generated images"
NOT_DEPLOYABLE = (RANDOM_WEIGHTS_NOTE, GENERATED_CALIBRATION_NOTE)
# File roles: "onnx", "calibration", "handoff", "manifest", and each runtime's converted files ("openvino-ir", ...).
FileRole = str
SCRIPT_MODE = 0o777  # handoff.sh runs as ./handoff.sh: executable, less the umask like every other output


class ExportedFile(BaseModel):
    """One file of the export folder."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    role: FileRole
    bytes: int
    sha256: str


class ExportManifest(BaseModel):
    """Everything about one target export: what, checked how, and what the user runs next."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = EXPORT_SCHEMA_VERSION
    target: str
    runtime: str
    toolchain: str
    model: str
    recipe: str | None = Field(description="None when an ONNX file was exported as it is")
    weights: str | None
    precision: str
    precision_input: str
    artifact: str = Field(description="the ONNX handed to the toolchain, relative to the folder")
    input_name: str
    input_shape: list[int | str]
    output_shape: list[int | str] = Field(default_factory=list, description="[batch, classes]")
    preprocessing: Preprocessing
    labels: LabelsRecord | None = Field(None, description="class names by output index (recipe builds)")
    files: list[ExportedFile]
    preflight: PreflightReport
    verification: ParityVerdict
    target_guard: TargetGuard | None = Field(None, description="int8 fallback ladder judged on the target runtime")
    handoff: RenderedHandoff
    lineage: list[dict[str, Any]] = Field(default_factory=list, description="recipe passes with step verdicts")
    notes: list[str] = Field(default_factory=list)
    tool_versions: dict[str, str]


class ExportResult(BaseModel):
    """Where the export went and its manifest."""

    model_config = ConfigDict(extra="forbid")

    out_dir: Path
    manifest_path: Path
    manifest: ExportManifest

    @property
    def artifact_path(self) -> Path:
        """The ONNX artifact in the export folder."""
        return self.out_dir / self.manifest.artifact


def export_for_target(
    model: str | Path | ModelSource,
    target: str,
    recipe: str | None = None,
    out_dir: Path | str | None = None,
    *,
    weights: str = "none",
    calib_dir: Path | None = None,
    data_dir: Path | None = None,
    samples: int = DEFAULT_SAMPLES,
    verify: bool = True,
    threads: int | None = None,
    parameters: dict[str, str] | None = None,
    precision: str | None = None,
    run_converted: ConverterWrapper | None = None,
) -> ExportResult:
    """Build, pre-flight, convert, verify and document the artifact ``target`` wants.

    Args:
        model: a model source (:func:`~edgekit.models._source.parse_source`); an ONNX file without ``recipe`` is
            exported as it is (batch pinned if needed), with one it runs through the recipe engine.
        target: a target id (see ``edgekit targets``).
        recipe: an ``edgekit recipes`` name (default ``fp32``; none for an ONNX file taken as it is).
        out_dir: output folder (default ``./edgekit-out/<model>-<recipe>-<target>``), replaced atomically.
        weights: ``imagenet``, ``none`` or a checkpoint (registry models).
        calib_dir: images for calibration (QDQ pass or the toolchain's own calibration files).
        data_dir: images for the parity check (default: generated images).
        samples: parity images.
        verify: False skips conversion and parity here (the manifest says so).
        threads: threads of the runtime that verifies.
        parameters: hand-off parameter overrides, e.g. ``{"target_platform": "rk3568"}``.
        precision: for an ONNX file, the precision to deploy it at (default: the file's own), e.g.
            ``fp16`` to hand an fp32 file to a toolchain that converts it to fp16.
        run_converted: wraps the target's converter to run the converted files elsewhere (``--verify-on``
            a board: :class:`edgekit.devices.verify_on.BoardConverter`); conversion and judging stay here.

    Raises:
        UnknownNameError: unknown target, model or recipe.
        BadInputError: unsupported precision, pre-flight failure (names the op and the target), bad paths.
        VerificationError: the converted artifact is outside its tolerance.
    """
    spec = get_target(target)
    from_file = is_onnx_file(model) and not recipe  # an ONNX file with a recipe goes through the recipe engine
    if precision is not None and recipe:
        raise BadInputError("--precision applies to ONNX files exported as they are; with --recipe the recipe "
                            "sets the precision")  # fmt: skip
    if precision is not None and not from_file:
        raise BadInputError("--precision applies to ONNX files; a registry model's precision comes from --recipe")
    flags = (
        (model.input_size, model.mean, model.std, model.layout, model.labels) if isinstance(model, ModelSource) else ()
    )
    if from_file and any(v is not None for v in flags):
        raise BadInputError("an ONNX file without --recipe is exported as it is: --input-size, --mean, --std, "
                            "--layout and --labels apply with --recipe")  # fmt: skip
    if not from_file:
        model = parse_source(model if isinstance(model, ModelSource) else str(model), weights=weights)
    recipe = None if from_file else (recipe or "fp32")
    if recipe is not None:
        _require_precision(spec, recipe_precision(recipe))
    file_path = model.path if isinstance(model, ModelSource) and model.path is not None else Path(str(model))
    name = model.name if isinstance(model, ModelSource) else Path(model).stem
    stem = file_path.stem if from_file else f"{name}-{recipe}"
    # Names and values the hand-off script will carry are refused before any work, not after conversion.
    check_text("file name", f"{stem}.onnx")
    check_overrides(spec, parameters or {})
    out = _resolve_out(out_dir, f"{stem}-{spec.id}")
    with tempfile.TemporaryDirectory(prefix="edgekit-target-") as folder, _user_paths(folder):
        work, stage = Path(folder) / "work", Path(folder) / "stage"
        work.mkdir()
        stage.mkdir()
        if from_file:
            built = build_onnx_file(file_path, spec, work, precision)
        else:
            built = build_registry_model(model, recipe, spec, recipe_precision(recipe), work,  # type: ignore[arg-type]
                                         weights=weights, calib_dir=calib_dir, verify=verify)  # fmt: skip
        source_text = model.text if isinstance(model, ModelSource) else str(model)
        log.info("pre-flight for %s", spec.id)
        manifest = _stage(spec, built, stage, stem, source_text, recipe, None if from_file else _weights_of(model),
                          calib_dir, data_dir, samples, verify, threads, parameters, run_converted)  # fmt: skip
        with atomic_dir(out) as final:
            shutil.copytree(stage, final, dirs_exist_ok=True)
    return ExportResult(out_dir=out, manifest_path=out / MANIFEST_NAME, manifest=manifest)


def _weights_of(model: str | Path | ModelSource) -> str | None:
    if isinstance(model, ModelSource):
        return "file" if model.kind == "onnx" else model.weights
    return None


@contextlib.contextmanager
def _user_paths(folder: str) -> Iterator[None]:
    """Errors name files as the user knows them, not as ``/tmp/edgekit-target-*/stage/<file>``."""
    try:
        yield
    except EdgekitError as exc:
        text = re.sub(re.escape(folder) + r"/(?:work|stage)/", "", str(exc))
        if text == str(exc):
            raise
        raise type(exc)(text) from exc


def _require_precision(spec: TargetSpec, precision: str) -> None:
    if precision not in spec.precisions:
        raise BadInputError(f"target {spec.id} accepts {', '.join(spec.precisions)}; the recipe makes {precision}")


def _resolve_out(out_dir: Path | str | None, default_name: str) -> Path:
    target = Path(out_dir) if out_dir else DEFAULT_OUT_ROOT / default_name
    return resolve_out_dir(target, default_name, "")


def _stage(spec: TargetSpec, built: Built, stage: Path, stem: str, model: str, recipe: str | None,
           weights: str | None, calib_dir: Path | None, data_dir: Path | None, samples: int, verify: bool,
           threads: int | None, parameters: dict[str, str] | None,
           run_converted: ConverterWrapper | None = None) -> ExportManifest:  # fmt: skip
    artifact = stage / f"{stem}.onnx"
    reports: list[PreflightReport] = []

    def attempt(candidate: Built) -> ParityVerdict:
        copy_onnx(candidate.artifact, artifact)
        reports.append(require_preflight(artifact, spec, candidate.precision))  # raises: nothing reaches out_dir
        return _verify(spec, candidate, artifact, stage, data_dir, samples, verify, threads, run_converted)

    built, verification, guard = guard_on_target(attempt, built)
    if verification.status == "failed":
        details = "; ".join(f"{c.label}: {c.detail}" for c in verification.failures())
        raise VerificationError(f"target {spec.id}: converted artifact outside tolerance: {details}"
                                + (f"; {guard.summary()}" if guard else ""))  # fmt: skip
    graph = load_onnx(artifact, load_weights=False)
    input_name, shape = next(iter(graph_inputs(graph).items()))
    prep = built.preprocessing
    wants_calibration = spec.precision_input(built.precision) == "fp32-onnx+calibration"
    if wants_calibration:
        pixels = _calibration_pixels(prep, calib_dir)
        write_calibration(stage, pixels, prep.mean, prep.std, spec.quantization.calibration_files)  # type: ignore[union-attr]
    context = handoff_context(input_name, _batch_one(shape), prep.mean, prep.std, built.precision, artifact.name)
    handoff = render_handoff(spec, built.precision, context, parameters)
    (stage / HANDOFF_SCRIPT).write_text(handoff.script())
    (stage / HANDOFF_SCRIPT).chmod(SCRIPT_MODE & ~current_umask())
    manifest = ExportManifest(
        target=spec.id, runtime=spec.runtime, toolchain=spec.toolchain.name, model=model, recipe=recipe,
        weights=weights, precision=built.precision, precision_input=spec.precision_input(built.precision),
        artifact=artifact.name, input_name=input_name, input_shape=shape, output_shape=_output_shape(graph),
        preprocessing=prep, labels=built.labels,
        files=_files(stage), preflight=reports[-1], verification=verification, target_guard=guard,
        handoff=handoff, lineage=list(built.lineage),
        notes=_notes(spec, built, weights, wants_calibration, verification, calib_dir),
        tool_versions=_tool_versions(verification),
    )  # fmt: skip
    write_json_atomic(stage / MANIFEST_NAME, manifest.model_dump(mode="json"))
    return manifest


def _output_shape(graph: onnx.ModelProto) -> list[int | str]:
    dims = graph.graph.output[0].type.tensor_type.shape.dim if graph.graph.output else []
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in dims]


def _batch_one(shape: list[int | str]) -> list[int]:
    """The shape at batch 1 (hand-off commands take a concrete shape).

    Raises:
        BadInputError: a non-batch dim is symbolic.
    """
    dims = [1 if i == 0 and not isinstance(d, int) else d for i, d in enumerate(shape)]
    if not all(isinstance(d, int) and d > 0 for d in dims) or len(dims) != 4:
        raise BadInputError(f"hand-off commands need an NCHW input with static C, H, W; got {shape}")
    return [int(d) for d in dims]


def _calibration_pixels(prep: Preprocessing, calib_dir: Path | None) -> np.ndarray:
    if calib_dir is None:
        return generated_images(CALIBRATION_COUNT, prep, seed=CALIBRATION_SEED).pixels
    return load_images(Path(calib_dir), prep, limit=CALIBRATION_COUNT).pixels


def _parity_pixels(prep: Preprocessing, data_dir: Path | None, samples: int) -> tuple[np.ndarray, str]:
    if samples < 1:
        raise BadInputError(f"--samples must be at least 1, got {samples}")
    if data_dir is None:
        label = f"{samples} generated images (seed {PARITY_SEED})"
        return generated_images(samples, prep, seed=PARITY_SEED).pixels, label
    batch = load_images(Path(data_dir), prep, limit=samples)
    return batch.pixels, f"{len(batch)} images of {data_dir}"


def _verify(spec: TargetSpec, built: Built, artifact: Path, stage: Path, data_dir: Path | None, samples: int,
            verify: bool, threads: int | None,
            run_converted: ConverterWrapper | None = None) -> ParityVerdict:  # fmt: skip
    if not verify:
        return ParityVerdict(status="skipped", reason="verification skipped (--no-verify)")
    reason = why_not_verifiable(spec)
    if reason is not None:
        return ParityVerdict(status="skipped", reason=f"not verifiable here: {reason}")
    converter = get_converter(spec, threads)
    log.info("converting for %s and checking parity on %s", spec.id, converter.name)
    if run_converted is not None:
        converter = run_converted(converter)
    # Toolchains that quantize by themselves are verified on the fp32 conversion they start from.
    converted = "fp32" if spec.precision_input(built.precision) == "fp32-onnx+calibration" else built.precision
    pixels, label = _parity_pixels(built.preprocessing, data_dir, samples)
    try:
        files = converter.convert(artifact, stage, converted)
        checks = verify_conversion(converter, stage, files, artifact, built.parent, converted, pixels)
    except Exception as exc:
        if not _is_vendor_error(exc):  # edgekit's own errors pass as they are; its bugs stay visible
            raise
        raise VerificationError(f"target {spec.id}: {converter.name} failed on {artifact.name}: "
                                f"{summarize_exception(exc)}") from exc  # fmt: skip
    return ParityVerdict(status="failed" if any(c.gated and not c.passed for c in checks) else "passed",
                        verifier=converter.name, converted_precision=converted,
                        tool_versions=converter.tool_versions(), inputs=label, checks=checks)  # fmt: skip


def _is_vendor_error(exc: Exception) -> bool:
    """An exception a vendor runtime raised (their types are not exported: ORT's Fail, OpenVINO's RuntimeError)."""
    module = type(exc).__module__.split(".")[0]
    vendor_modules = {package.split("-")[0] for runtime in list_runtimes() for package in runtime.packages}
    return module in vendor_modules or type(exc) is RuntimeError  # pybind11 turns C++ exceptions into RuntimeError


def _role(relative: Path) -> FileRole:
    top = relative.parts[0]
    converted = {r.artifact_folder: r.artifact_role for r in list_runtimes() if r.artifact_folder}
    roles: dict[str, FileRole] = {**converted, CALIBRATION_DIR: "calibration",
                                  HANDOFF_SCRIPT: "handoff",
                                  CALIBRATION_PATHS["calib_list"]: "calibration",
                                  CALIBRATION_PATHS["calib_raw_list"]: "calibration"}  # fmt: skip
    return roles.get(top, "onnx")


def _files(stage: Path) -> list[ExportedFile]:
    paths = sorted(p for p in stage.rglob("*") if p.is_file() and p.name != MANIFEST_NAME)
    return [ExportedFile(path=p.relative_to(stage).as_posix(), role=_role(p.relative_to(stage)),
                         bytes=p.stat().st_size, sha256=sha256_file(p)) for p in paths]  # fmt: skip


def _notes(spec: TargetSpec, built: Built, weights: str | None, calibrated: bool, verification: ParityVerdict,
           calib_dir: Path | None) -> list[str]:  # fmt: skip
    notes = list(built.notes)
    if weights == "none":
        notes.append(f"{RANDOM_WEIGHTS_NOTE}: the artifact runs but predicts nothing useful, and parity figures "
                     "are fidelity on sample images, not accuracy; export with --weights imagenet or a "
                     "checkpoint")  # fmt: skip
    configs = [step.get("config", {}) for step in built.lineage]  # a QDQ pass records where it calibrated
    generated = [c.get("calibration_count") for c in configs if "calibration_dir" in c and c["calibration_dir"] is None]
    if generated or (calibrated and calib_dir is None):
        count = generated[0] if generated else CALIBRATION_COUNT
        notes.append(f"{GENERATED_CALIBRATION_NOTE} ({count}, seeded), not on your data: int8 ranges fit noise; give "
                     "--calib DIR with representative images before deploying")  # fmt: skip
    if calibrated:
        note = f"int8: {spec.toolchain.name} quantizes on your side from the calibration files written here"
        checked = "; the parity above checks the fp32 conversion it starts from" if verification.checks else ""
        notes.append(note + checked)
    return notes + list(spec.notes)


def _tool_versions(verification: ParityVerdict) -> dict[str, str]:
    return {**tool_versions(), **verification.tool_versions}
