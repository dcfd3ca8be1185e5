"""The recipe engine: run a recipe's passes in memory, each verified against its parent.

:func:`run_chain` is what ``edgekit optimize`` (:mod:`edgekit.optimize`, which then writes the
variant) and target exports (:mod:`edgekit.targets._build`, with the target's opset, batch and
int8 format as :class:`Overrides`) share; :func:`probe_inputs` makes the inputs every step is
judged on; :class:`SourceModel` is the float classifier a chain starts from.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from edgekit.errors import BadInputError
from edgekit.images import generated_images, load_images
from edgekit.manifest import LabelsRecord, LineageEntry, labels_record
from edgekit.models import Preprocessing
from edgekit.models._source import ModelSource
from edgekit.onnx_io import DEFAULT_OPSET
from edgekit.passes import Artifact, ArtifactKind, ExportOnnx, StaticInt8, get_pass
from edgekit.passes.export_onnx import MAX_EXPORT_OPSET, MIN_EXPORT_OPSET
from edgekit.passes.quantize_static import DEFAULT_CALIBRATION_COUNT, QuantOptions
from edgekit.recipes import Recipe, RecipeStep
from edgekit.verify import Evaluated, ProbeInputs, guarded_int8, random_inputs, verify_step

log = logging.getLogger(__name__)  # steps for the CLI's progress line (edgekit.cli._progress)

# Held-out images for int8/pruning fidelity: 16 keeps the check ~1 s on resnet18 (one image = 6%).
FIDELITY_IMAGE_COUNT = 16
# Generated held-out images use a seed other than the calibration images' (0).
HELDOUT_SEED = 1
# Fewer held-out images than this make agreement meaningless: fall back to calibration images.
MIN_HELDOUT_IMAGES = 4
Verdict = Literal["passed", "failed", "unverified"]


class ExportOptions(BaseModel):
    """Caller overrides for every ``export_onnx`` step of a recipe."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    opset: int = Field(DEFAULT_OPSET, ge=MIN_EXPORT_OPSET, le=MAX_EXPORT_OPSET)
    dynamic_batch: bool = Field(True, description="False: static batch 1 (targets without dynamic shapes)")


@dataclass(frozen=True)
class SourceModel:
    """A float classifier (a torch module, or an NCHW ONNX graph for ``kind="onnx"``) and what is known about it."""

    name: str
    module: Any
    preprocessing: Preprocessing
    weights: str = "custom"
    accuracy_meaningful: bool = False
    labels: LabelsRecord | None = None
    kind: ArtifactKind = "torch"
    notes: tuple[str, ...] = ()
    record_name: str | None = None  # the results-store name (ModelSource.record_name); None: ``name``

    @classmethod
    def from_source(cls, source: ModelSource) -> SourceModel:
        """Load a :class:`~edgekit.models._source.ModelSource` (builds or reads the network)."""
        loaded = source.load()
        labels = labels_record(loaded.labels, loaded.num_classes, loaded.labels_source)
        return cls(name=loaded.name, module=loaded.model, preprocessing=loaded.preprocessing, weights=loaded.weights,
                   accuracy_meaningful=loaded.accuracy_meaningful, labels=labels, kind=loaded.kind,
                   notes=loaded.notes, record_name=source.record_name())  # fmt: skip

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        """The batch-1 NCHW input shape."""
        side = self.preprocessing.crop_px
        return (1, 3, side, side)

    def root(self) -> Artifact:
        """The artifact a chain starts from."""
        return Artifact(kind=self.kind, model=self.module, input_shape=self.input_shape,
                        preprocessing=self.preprocessing)  # fmt: skip

    def applicable(self, plan: Recipe) -> Recipe:
        """``plan`` as it runs on this source: an ONNX source skips the export; torch-only passes are refused.

        Raises:
            BadInputError: the recipe needs the torch module (pruning, torch baselines) and the source is ONNX.
        """
        return plan if self.kind == "torch" else onnx_applicable(plan, self.name)


def onnx_applicable(plan: Recipe, model: str) -> Recipe:
    """``plan`` as it runs on an ONNX source ``model``: without its export step.

    Raises:
        BadInputError: the recipe needs the torch module (pruning, torch baselines).
    """
    steps = tuple(s for s in plan.steps if s.pass_name != ExportOnnx.name)
    torch_only = [s.pass_name for s in steps if get_pass(s.pass_name).capabilities.input_kind != "onnx"]
    if torch_only or not steps:
        needs = ", ".join(torch_only or plan.pass_names)
        raise BadInputError(f"recipe {plan.name} needs the torch module ({needs}); {model} is an ONNX file: "
                            "use fp32, fp16 or int8")  # fmt: skip
    return plan.model_copy(update={"steps": steps})


@dataclass(frozen=True)
class Overrides:
    """Caller overrides applied to the recipe's steps."""

    export: ExportOptions | None = None
    quant: QuantOptions | None = None
    calib_dir: Path | None = None
    calib_count: int | None = None

    def config_for(self, step: RecipeStep) -> dict[str, Any]:
        """The step's recipe config with the overrides that concern its pass."""
        config = dict(step.config)
        if step.pass_name == ExportOnnx.name and self.export is not None:
            config.update(self.export.model_dump())
        if step.pass_name == StaticInt8.name:
            config.update(self.quant.model_dump() if self.quant is not None else {})
            config.update({"calibration_dir": self.calib_dir} if self.calib_dir is not None else {})
            config.update({"calibration_count": self.calib_count} if self.calib_count is not None else {})
        return config


@dataclass
class Chain:
    """The outcome of running a recipe's passes in memory."""

    root: Evaluated
    final: Evaluated
    lineage: list[LineageEntry]
    verdict: Verdict


def run_chain(root: Artifact, plan: Recipe, overrides: Overrides, inputs: ProbeInputs, verify: bool) -> Chain:
    """Run every pass of ``plan``; verify each against its parent; stop at the first failure."""
    start = current = Evaluated(root, inputs)
    lineage: list[LineageEntry] = []
    for step in plan.steps:
        handler = get_pass(step.pass_name)
        log.info("pass %s%s", handler.name, " (and its check against the parent)" if verify else "")
        config = handler.parse_config(overrides.config_for(step))
        guard = verdict = None
        if verify and isinstance(handler, StaticInt8):
            result, verdict, guard = guarded_int8(current, config)
            config = handler.parse_config(guard.final_config)
            child = Evaluated(result.artifact, inputs)
        else:
            result = handler.run(current.artifact, config)
            child = Evaluated(result.artifact, inputs)
            verdict = verify_step(handler.name, handler.capabilities.parity, current, child) if verify else None
        lineage.append(LineageEntry(pass_name=handler.name, config=config.model_dump(mode="json"),
                                    report=result.report, verification=verdict, guard=guard))  # fmt: skip
        current = child
        if verdict is not None and verdict.status == "failed":
            return Chain(start, current, lineage, "failed")
    return Chain(start, current, lineage, "passed" if verify else "unverified")


def probe_inputs(prep: Preprocessing, shape: tuple[int, ...], overrides: Overrides) -> ProbeInputs:
    """Random inputs for elementwise parity and held-out images for int8/pruning fidelity.

    Raises:
        BadInputError: the calibration folder is missing or holds no readable image.
    """
    if overrides.calib_dir is None:
        images = generated_images(FIDELITY_IMAGE_COUNT, prep, seed=HELDOUT_SEED).pixels
        label = f"{len(images)} generated held-out images (seed {HELDOUT_SEED}; calibration uses seed 0)"
        return ProbeInputs(random=random_inputs(shape), images=images, images_label=label)
    count = overrides.calib_count or DEFAULT_CALIBRATION_COUNT
    batch = load_images(overrides.calib_dir, prep, limit=count + FIDELITY_IMAGE_COUNT)
    held_out = batch.pixels[count:]
    if len(held_out) >= MIN_HELDOUT_IMAGES:
        label = f"{len(held_out)} held-out images of {overrides.calib_dir} (after the {count} calibration images)"
        return ProbeInputs(random=random_inputs(shape), images=held_out, images_label=label)
    images = batch.pixels[:FIDELITY_IMAGE_COUNT]
    label = f"{len(images)} calibration images of {overrides.calib_dir} (too few for a held-out set: optimistic)"
    return ProbeInputs(random=random_inputs(shape), images=images, images_label=label)
