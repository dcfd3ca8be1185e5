"""Build the ONNX a target wants: from a registry model through the recipe engine (``edgekit.chain``), or a file.

For a registry model the recipe's passes run through :func:`edgekit.chain.run_chain` with
the target's opset, static/dynamic batch and int8 format: its float steps give the fp32 parent
every parity figure is measured against, its fp16/int8 steps the artifact. Targets that
quantize by themselves get the fp32 parent plus calibration files instead of a QDQ file.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnx

from edgekit.analysis import PREPROCESSING_KEY, check_stated_fits, stated_preprocessing
from edgekit.chain import Chain, ExportOptions, Overrides, SourceModel, probe_inputs, run_chain
from edgekit.errors import BadInputError, VerificationError
from edgekit.manifest import LabelsRecord, artifact_metadata, stamp_onnx
from edgekit.models import Preprocessing
from edgekit.models._source import ModelSource, parse_source
from edgekit.models._source_spec import IMAGENET_MEAN, IMAGENET_RESIZE_RATIO, IMAGENET_STD
from edgekit.onnx_io import external_tensors, load_onnx, save_onnx
from edgekit.passes import Artifact, QuantOptions, get_pass
from edgekit.recipes import Recipe, RecipeStep, get_recipe
from edgekit.targets._schema import TargetSpec
from edgekit.targets.preflight import detect_precision, require_structure

_QUANTIZING_PASSES = frozenset({"fp16", "static_int8", "ort_dynamic_quant"})


@dataclass(frozen=True)
class Built:
    """The artifact for the target, its fp32 parent (when one exists) and what is known about them."""

    artifact: Path
    parent: Path | None
    preprocessing: Preprocessing
    precision: str
    lineage: tuple[dict, ...] = ()  # edgekit.manifest.LineageEntry dumps: passes, configs, step verdicts
    notes: tuple[str, ...] = ()
    # Registry int8 builds: the static_int8 config in effect, and a way to quantize again with another one.
    quant_config: dict[str, Any] | None = None
    requantize: Callable[[dict[str, Any]], Built] | None = None
    labels: LabelsRecord | None = None


def is_onnx_file(model: str | Path | ModelSource) -> bool:
    """True when ``model`` names an ONNX file rather than a model to build (the model-source parser decides)."""
    return parse_source(model if isinstance(model, ModelSource) else str(model)).kind == "onnx"


def recipe_precision(recipe: str) -> str:
    """fp32, fp16 or int8: the precision the recipe's last quantizing pass produces.

    Raises:
        UnknownNameError: unknown recipe.
        BadInputError: the recipe makes a torch-only artifact (targets take ONNX).
    """
    plan = get_recipe(recipe)
    if plan.output_kind != "onnx":
        raise BadInputError(f"recipe {recipe} produces a torch-only artifact; targets take ONNX recipes")
    precision = "fp32"
    for name in plan.pass_names:
        produced = get_pass(name).capabilities.precision
        precision = produced if produced in ("fp16", "int8") else precision
    return precision


def build_registry_model(model: str | ModelSource, recipe: str, spec: TargetSpec, precision: str, work: Path, *,
                         weights: str, calib_dir: Path | None, verify: bool) -> Built:  # fmt: skip
    """Run the recipe's float steps (the fp32 parent), then its fp16/int8 steps when the target takes them.

    ``model`` is any model source (:func:`~edgekit.models._source.parse_source`): an ONNX source starts the
    recipe after its export step (torch-only recipes are refused).

    Every step is verified as ``edgekit optimize`` verifies it (int8 through the collapse guard,
    judged on the QDQ graph as written); the check on the deployed runtime is the target's own
    (see ``_parity``), not onnxruntime's, because a QDQ format chosen for OpenVINO or TensorRT
    need not suit onnxruntime's kernels on this host.

    Raises:
        VerificationError: a step failed its tolerance (or the int8 guard found no fallback).
    """
    return _RegistryBuild(model, recipe, spec, precision, work, weights, calib_dir, verify).run()


class _RegistryBuild:
    """One registry build: float steps once, quantizing steps as often as the target guard asks."""

    def __init__(self, model: str | ModelSource, recipe: str, spec: TargetSpec, precision: str, work: Path,
                 weights: str, calib_dir: Path | None, verify: bool) -> None:  # fmt: skip
        self.source = SourceModel.from_source(parse_source(model, weights=weights))
        self.model, self.recipe, self.spec, self.precision, self.work = self.source.name, recipe, spec, precision, work
        self.plan = self.source.applicable(get_recipe(recipe))
        prep = self.source.preprocessing
        self.shape = self.source.input_shape
        self.overrides = Overrides(export=ExportOptions(opset=spec.opset_preferred, dynamic_batch=spec.dynamic_shapes),
                                   quant=_quant_options(spec), calib_dir=calib_dir)  # fmt: skip
        self.calib_dir, self.verify = calib_dir, verify
        self.inputs = probe_inputs(prep, self.shape, self.overrides)
        first = next((i for i, s in enumerate(self.plan.steps) if s.pass_name in _QUANTIZING_PASSES), None)
        self.split = len(self.plan.steps) if first is None else first

    def _chain(self, start: Artifact, steps: tuple[RecipeStep, ...], overrides: Overrides) -> Chain:
        plan = Recipe(name=self.plan.name, description="part of the recipe", steps=steps)
        return _checked(run_chain(start, plan, overrides, self.inputs, self.verify), self.model, self.recipe)

    def run(self) -> Built:
        """Build the parent, and the quantized artifact when the target takes one."""
        prep = self.source.preprocessing
        root = self.source.root()
        if root.kind == "onnx" and not self.spec.dynamic_shapes:
            root = root.with_model(_pin_batch(root.model))
        self.parent_chain = self._chain(root, self.plan.steps[: self.split], self.overrides)
        self.lineage = tuple(e.model_dump(mode="json") for e in self.parent_chain.lineage)
        self.parent = _save(self.parent_chain.final.artifact.model, self.work / "parent.onnx", self.source,
                            self.recipe, list(self.lineage))  # fmt: skip
        if self.split == len(self.plan.steps) or self.spec.precision_input(self.precision) not in (
            "qdq-onnx", "fp16-onnx"
        ):  # fmt: skip
            return Built(self.parent, self.parent, prep, self.precision, self.lineage, self.source.notes,
                         labels=self.source.labels)  # fmt: skip
        return self._quantize(self.plan.steps[self.split :], self.overrides)

    def _quantize(self, steps: tuple[RecipeStep, ...], overrides: Overrides) -> Built:
        chain = self._chain(self.parent_chain.final.artifact, steps, overrides)
        lineage = (*self.lineage, *(e.model_dump(mode="json") for e in chain.lineage))
        artifact = _save(chain.final.artifact.model, self.work / "artifact.onnx", self.source, self.recipe,
                         list(lineage))  # fmt: skip
        config = next((e["config"] for e in reversed(lineage) if e["pass_name"] == "static_int8"), None)
        return Built(artifact, self.parent, self.source.preprocessing, self.precision, lineage, self.source.notes,
                     quant_config=config, requantize=self.requantize if config is not None else None,
                     labels=self.source.labels)  # fmt: skip

    def requantize(self, config: dict[str, Any]) -> Built:
        """Quantize again with a full static_int8 config (the target guard's next rung)."""
        steps = tuple(RecipeStep(pass_name=s.pass_name, config=config) if s.pass_name == "static_int8" else s
                      for s in self.plan.steps[self.split :])  # fmt: skip
        return self._quantize(steps, Overrides(export=self.overrides.export, calib_dir=self.calib_dir))


def _checked(chain: Chain, model: str, recipe: str) -> Chain:
    if chain.verdict == "failed":
        failed = [e for e in chain.lineage if e.verification is not None and e.verification.status == "failed"]
        detail = "; ".join(f"{e.pass_name}: {e.verification.detail}" for e in failed) or "see lineage"
        guard = next((e.guard.summary() for e in failed if e.guard is not None), "")
        raise VerificationError(f"{model} {recipe} failed verification: {detail}{'; ' + guard if guard else ''}")
    return chain


def _save(proto: onnx.ModelProto, path: Path, source: SourceModel, recipe: str,
          lineage: list[dict]) -> Path:  # fmt: skip
    steps = [{"pass": e["pass_name"], "config": e["config"]} for e in lineage]
    metadata = artifact_metadata(source.preprocessing, source.labels, steps,
                                 {"model": source.name, "recipe": recipe, "weights": source.weights})  # fmt: skip
    save_onnx(stamp_onnx(proto, metadata), path)
    return path


def _quant_options(spec: TargetSpec) -> QuantOptions | None:
    quant = spec.quantization
    if quant is None or quant.handoff != "qdq-onnx":
        return None
    if quant.activation_dtype not in ("uint8", "int8"):
        raise BadInputError(f"target {spec.id} wants {quant.activation_dtype} activations; edgekit's QDQ "
                            "quantizer makes uint8 or int8")  # fmt: skip
    return QuantOptions(activation_type=quant.activation_dtype, weight_type=quant.weight_dtype,
                        activation_symmetric=quant.activations_symmetric, weight_symmetric=quant.weights_symmetric,
                        per_channel=quant.per_channel)  # fmt: skip


def file_preprocessing(model: onnx.ModelProto, side: int) -> tuple[Preprocessing, str | None]:
    """Preprocessing from edgekit's metadata, or torchvision's ImageNet defaults (with a note saying so).

    Raises:
        BadInputError: the metadata is not sane preprocessing JSON, or does not describe the input's side.
    """
    stated = stated_preprocessing(model)
    if stated is not None:
        check_stated_fits(stated, side)
        return stated, None
    default = Preprocessing(resize_px=round(side * IMAGENET_RESIZE_RATIO), crop_px=side, mean=IMAGENET_MEAN,
                            std=IMAGENET_STD)  # fmt: skip
    return default, f"no {PREPROCESSING_KEY} metadata: assumed ImageNet mean/std at {side} px"


def _pin_batch(model: onnx.ModelProto) -> onnx.ModelProto:
    """Fix a symbolic leading (batch) dim of every input and output to 1; drop stale value_info."""
    pinned = onnx.ModelProto()
    pinned.CopyFrom(model)
    for value in [*pinned.graph.input, *pinned.graph.output]:
        dims = value.type.tensor_type.shape.dim
        if dims and not dims[0].HasField("dim_value"):
            dims[0].Clear()
            dims[0].dim_value = 1
    del pinned.graph.value_info[:]
    return pinned


def build_onnx_file(path: Path, spec: TargetSpec, work: Path, precision: str | None = None) -> Built:
    """Take an ONNX file as the artifact (batch pinned to 1 for static-shape targets).

    ``precision`` (default: the file's own) is what it is deployed at; pre-flight checks that the
    file is what the target takes for it (e.g. an fp32 file for rknn's fp16). External data
    (files inside the model's folder only) is inlined, so the artifact is one self-contained file.

    Raises:
        BadInputError: the file is not a valid ONNX graph or not an image classifier edgekit can hand off
            (checked before any tool runs), or names external data outside its folder.
    """
    proto = load_onnx(path)
    require_structure(proto, spec, path)
    initializers = {t.name for t in proto.graph.initializer}
    (first,) = [v for v in proto.graph.input if v.name not in initializers]
    side = first.type.tensor_type.shape.dim[-1].dim_value
    preprocessing, note = file_preprocessing(proto, side)
    own = detect_precision(proto)
    precision = precision or own
    target = work / path.name
    if spec.needs_static_shapes:
        save_onnx(_pin_batch(proto), target)
    elif external_tensors(load_onnx(path, load_weights=False)):
        save_onnx(proto, target)
    else:
        shutil.copyfile(path, target)
    parent = target if own == "fp32" else None
    return Built(target, parent, preprocessing, precision, (), (note,) if note else ())
