"""optimize --data / --max-drop on tiny modules; accuracy records in the store; recommend's measured top-1.

The real-weights walk (EfficientNet-Lite0 on photos) is in tests/models/test_real_weights.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from edgekit.errors import BadInputError
from edgekit.evaluate import artifact_predictor, data_digest, load_eval_images
from edgekit.logits import Predictor, onnx_predictor, predict_all
from edgekit.models._source import parse_source
from edgekit.optimize import Overrides, SourceModel, optimize_module
from edgekit.passes import Artifact, StaticInt8
from edgekit.paths import HOME_ENV
from edgekit.recommend import Constraints, Top1Figures, recommend
from edgekit.store import AccuracyRecord, ResultsStore
from edgekit.verify.checks import outputs_of
from edgekit.verify.sensitivity import layer_sensitivity, quantized_layers, revert_layer
from tests.passes.tiny import TINY_CLASSES, TINY_PREP, TINY_SHAPE, TinyNet, seeded, torch_artifact


def _source() -> SourceModel:
    return SourceModel(name="tiny", module=seeded(TinyNet), preprocessing=TINY_PREP, weights="none")


@pytest.fixture
def indexed_folder(image_folder: Path) -> Path:
    """The 3-class image folder with its classes named by output index (7, 2, 9) of the 10-class tiny net."""
    for old, new in (("n01", "7-seven"), ("n02", "2-two"), ("n03", "9-nine")):
        (image_folder / old).rename(image_folder / new)
    return image_folder


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A results store of this test's own."""
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    return tmp_path / "home"


def _top1(logits: np.ndarray, labels: tuple[int, ...]) -> float:
    return float(np.mean(logits.argmax(1) == np.asarray(labels))) * 100


def test_optimize_with_data_measures_parent_and_variant(tmp_path: Path, indexed_folder: Path, home: Path) -> None:
    result = optimize_module(_source(), "int8", tmp_path / "out", overrides=Overrides(calib_count=4),
                             data=indexed_folder)  # fmt: skip
    assert result.verdict == "passed"
    drop = result.accuracy
    assert drop is not None
    # recompute both figures: the parent in torch, the written int8 file in onnxruntime, on the same 12 images
    images = load_eval_images(indexed_folder, TINY_PREP, TINY_CLASSES, "tiny")
    parent = _top1(outputs_of(torch_artifact(TinyNet), images.pixels), images.labels)
    variant = _top1(predict_all(onnx_predictor(result.artifact_path), images.pixels), images.labels)
    assert drop.reference.top1 * 100 == pytest.approx(parent)
    assert drop.variant.top1 * 100 == pytest.approx(variant)
    assert drop.drop_pct == pytest.approx(parent - variant)
    assert drop.reference.n_samples == 12
    assert drop.reference.data_sha256 == data_digest(images)
    assert not drop.reference.meaningful  # random init: measured, but labelled not meaningful
    metrics = {m.name: m for m in result.manifest.metrics}
    assert metrics["top1_pct"].value == pytest.approx(variant)
    assert metrics["fp32_top1_pct"].value == pytest.approx(parent)
    assert metrics["top1_drop_pct"].value == pytest.approx(parent - variant)
    assert "NOT meaningful" in (metrics["top1_pct"].provenance.note or "")
    assert any(line.startswith("accuracy  measured with onnxruntime on") for line in result.report)
    # both records are in the store, with the digest and the image count
    store = ResultsStore()
    stored = store.latest_accuracy("tiny", "int8")
    assert stored is not None
    assert (stored.top1_pct, stored.reference_top1_pct, stored.n_images) == (
        pytest.approx(variant),
        pytest.approx(parent),
        12,
    )
    assert stored.data_sha256 == data_digest(images)
    assert store.latest_accuracy("tiny", "fp32").top1_pct == pytest.approx(parent)


def test_max_drop_needs_data_an_int8_recipe_and_verification(tmp_path: Path, indexed_folder: Path) -> None:
    cases = [
        ({"recipe": "int8", "max_drop": 1.0}, "--max-drop needs --data DIR"),
        ({"recipe": "fp16", "max_drop": 1.0, "data": indexed_folder}, "--max-drop applies to recipes that end in"),
        ({"recipe": "int8", "max_drop": 1.0, "data": indexed_folder, "verify": False}, "cannot be combined with"),
        ({"recipe": "int8", "max_drop": -1.0, "data": indexed_folder}, "--max-drop must be at least 0"),
    ]
    for kwargs, message in cases:
        recipe = kwargs.pop("recipe")
        with pytest.raises(BadInputError, match=message):
            optimize_module(_source(), recipe, tmp_path / "out", **kwargs)
        assert not (tmp_path / "out").exists()


def test_data_whose_folders_do_not_fit_the_outputs_fails_before_any_pass(tmp_path: Path, image_folder: Path) -> None:
    with pytest.raises(BadInputError, match="has 3 class folders but tiny predicts 10 classes"):
        optimize_module(_source(), "int8", tmp_path / "out", data=image_folder)
    assert not (tmp_path / "out").exists()


def test_max_drop_walk_records_each_measured_drop(tmp_path: Path, indexed_folder: Path, home: Path) -> None:
    result = optimize_module(_source(), "int8", tmp_path / "out", overrides=Overrides(calib_count=4),
                             data=indexed_folder, max_drop=0.0)  # fmt: skip
    guard = result.manifest.lineage[-1].guard
    assert guard is not None
    assert guard.max_drop_pct == 0.0
    measured = [a for a in guard.attempts if a.drop_pct is not None]
    assert measured[0].step == "initial"
    kept = next(a for a in measured if a.step == guard.kept_step)
    assert kept.drop_pct == pytest.approx(result.accuracy.drop_pct)  # the kept rung is the artifact written
    assert guard.final_config == kept.config
    if result.accuracy.met:
        assert guard.kept_step == measured[-1].step  # it stopped at the step it reports
        result.require_passed()


def test_revert_layer_gives_float_inputs_and_ranks_layers(tmp_path: Path, image_folder: Path) -> None:
    fp32 = optimize_module(_source(), "fp32", tmp_path / "fp32")
    parent = torch_artifact(TinyNet)
    pixels = load_eval_images(image_folder, TINY_PREP, 3, "tiny").pixels
    reference = outputs_of(parent, pixels)
    onnx_fp32 = Artifact(kind="onnx", model=onnx.load(str(fp32.artifact_path)), input_shape=TINY_SHAPE,
                         preprocessing=TINY_PREP)  # fmt: skip
    quantizer = StaticInt8()
    quantized = quantizer.run(onnx_fp32, quantizer.parse_config({"calibration_count": 4})).artifact.model
    layers = quantized_layers(quantized)
    assert len(layers) == 4  # stem, depthwise, pointwise convolutions and the classifier
    everything_float = quantized
    for name in layers:
        everything_float = revert_layer(everything_float, name)
    # Every layer reading float inputs: only the stored weights' rounding (and the output's Q/DQ) is left.
    err_int8 = float(np.mean((predict_all(onnx_predictor_bytes(quantized), pixels) - reference) ** 2))
    err_float = float(np.mean((predict_all(onnx_predictor_bytes(everything_float), pixels) - reference) ** 2))
    assert err_float < err_int8, (err_float, err_int8)
    assert sum(n.op_type == "Clip" for n in everything_float.graph.node) == 4  # each activation kept in its range
    ranked = layer_sensitivity(quantized, pixels, reference)
    assert sorted(r.node for r in ranked) == sorted(layers)
    assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)
    base = float(np.mean((predict_all(onnx_predictor_bytes(quantized), pixels) - reference) ** 2))
    top = ranked[0]
    assert top.score == pytest.approx(base - top.mse_reverted, rel=1e-6)
    with pytest.raises(BadInputError, match="exclude_nodes names 1 node"):
        quantizer.run(onnx_fp32, quantizer.parse_config({"calibration_count": 4, "exclude_nodes": ["nope"]}))


def onnx_predictor_bytes(model: onnx.ModelProto) -> Predictor:
    return artifact_predictor(Artifact(kind="onnx", model=model, input_shape=TINY_SHAPE, preprocessing=TINY_PREP))


def _record(top1: float, meaningful: bool = True) -> AccuracyRecord:
    return AccuracyRecord(model="mobilenet_v2", recipe="int8", weights="imagenet", top1_pct=top1, top5_pct=None,
                          reference_top1_pct=72.0, drop_pct=72.0 - top1, n_images=250, data="/data/val (all 250)",
                          data_sha256="ab" * 32, meaningful=meaningful, host="h",
                          runtime="onnxruntime-cpu")  # fmt: skip


def test_recommend_prefers_a_stored_measured_top1_and_min_top1_applies_to_it(home: Path) -> None:
    constraints = Constraints(ram_mb=512, fps=0.01)
    published = recommend(constraints, profile="raspberry-pi-4", models=["mobilenet_v2"], targets=["ncnn"])
    int8 = next(c for c in published.feasible if c.recipe == "int8")
    assert int8.top1.provenance.kind == "published"
    ResultsStore().put_accuracy(_record(40.0, meaningful=False))  # random init: never shown
    assert Top1Figures().get("mobilenet_v2", "int8", "int8").provenance.kind == "published"
    ResultsStore().put_accuracy(_record(61.25))
    result = recommend(constraints, profile="raspberry-pi-4", models=["mobilenet_v2"], targets=["ncnn"])
    int8 = next(c for c in result.feasible if c.recipe == "int8")
    assert int8.top1.value == 61.25
    assert int8.top1.provenance.kind == "measured"
    assert int8.top1.provenance.n_samples == 250
    assert "250 images, data sha256 abababababab" in int8.top1.provenance.note
    fp32 = next(c for c in result.feasible if c.recipe == "fp32")
    assert fp32.top1.provenance.kind == "published"  # no fp32 record: the published figure
    strict = recommend(Constraints(ram_mb=512, fps=0.01, min_top1=65), profile="raspberry-pi-4",
                       models=["mobilenet_v2"], targets=["ncnn"])  # fmt: skip
    rejected = next(c for c in strict.rejected if c.recipe == "int8")
    assert "top-1: 61.2% < 65%" in rejected.reasons


def test_an_own_models_top1_is_found_by_its_files_not_its_path(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fp32 = optimize_module(_source(), "fp32", tmp_path / "fp32").artifact_path
    assert Top1Figures().get(str(fp32), "int8", "int8") is None  # an own model, never measured: "—"
    name = parse_source(str(fp32)).record_name()
    assert name.startswith("tiny-fp32#")
    ResultsStore().put_accuracy(_record(55.0).model_copy(update={"model": name}))
    monkeypatch.chdir(fp32.parent)
    found = Top1Figures().get(f"./{fp32.name}", "int8", "int8")  # another path to the same file
    assert (found.value, found.provenance.kind) == (55.0, "measured")
    fp32.write_bytes(fp32.read_bytes() + b"\x00")  # other contents: another model, its records are not these
    assert Top1Figures().get(fp32.name, "int8", "int8") is None
