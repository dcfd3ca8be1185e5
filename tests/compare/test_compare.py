"""compare(): rows of (model, variant, runtime), cells with provenance, variants, data checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edgekit.bench import BenchConfig
from edgekit.compare import CompareConfig, compare, list_variants, register_variant
from edgekit.compare import table as compare_module
from edgekit.compare._variants import VARIANTS
from edgekit.errors import BadInputError
from edgekit.store import ResultsStore

QUICK = BenchConfig(warmup=1, min_iters=2, min_seconds=0.0, isolate=False)
MODEL = "squeezenet1_1"  # the smallest classic classifier: fast to export and run
SQUEEZENET_TOP1 = 58.178  # torchvision weights.meta acc@1 of SqueezeNet1_1_Weights.IMAGENET1K_V1


@pytest.fixture
def store(tmp_path: Path) -> ResultsStore:
    return ResultsStore(tmp_path / "results.sqlite")


@pytest.fixture
def copy_variant():
    """A stand-in for an optimization recipe: a byte copy of the fp32 export."""

    @register_variant("copy")
    def _copy(model: str, weights: str) -> Path:
        source = VARIANTS.get("fp32")(model, weights)
        target = source.with_name(source.stem + "-copy.onnx")
        shutil.copyfile(source, target)
        return target

    yield "copy"
    del VARIANTS.entries["copy"]


def _imagenet_like(folder: Path, classes: int = 1000) -> Path:
    """One tiny image per class folder, sorted names like ImageNet's wnids."""
    pixels = (np.random.default_rng(0).random((8, 8, 3)) * 255).astype("uint8")
    for index in range(classes):
        (folder / f"n{index:08d}").mkdir(parents=True)
        Image.fromarray(pixels).save(folder / f"n{index:08d}" / "0.png")
    return folder


def test_fp32_rows_with_published_top1(store: ResultsStore) -> None:
    config = CompareConfig(models=[MODEL], runtimes=["onnxruntime-cpu"], threads=1, bench=QUICK)
    result = compare(config, store=store)
    (row,) = result.rows
    assert (row.model, row.variant, row.runtime) == (MODEL, "fp32", "onnxruntime-cpu")
    cells = row.cells
    assert cells["top1_pct"].value == SQUEEZENET_TOP1
    assert cells["top1_pct"].provenance.kind == "published"
    assert round(cells["macs_giga"].value, 3) == 0.349  # recomputed from the graph, as torchvision publishes
    assert cells["params_millions"].value == pytest.approx(1.235496)
    assert cells["macs_giga"].provenance.kind == cells["size_mb"].provenance.kind == "computed"
    assert 4.0 < cells["size_mb"].value < 5.0  # 1.24 M float32 parameters
    for name in ("latency_ms_per_image_b1", "latency_ms_p90_b1", "latency_ms_per_image_b8", "throughput_ips_b8"):
        assert cells[name].provenance.kind == "measured"
        assert cells[name].provenance.runtime == "onnxruntime-cpu"
    assert "peak_rss_mb_b1" not in cells  # in-process runs have no clean peak RSS
    assert any("published ImageNet-1K" in note for note in result.notes)
    assert store.count() == 2  # batch 1 and batch 8


def test_variants_get_fidelity_and_torch_skips_them(store: ResultsStore, copy_variant: str) -> None:
    assert "copy" in list_variants()
    config = CompareConfig(models=[MODEL], variants=["fp32", copy_variant], runtimes=["onnxruntime-cpu", "torch-cpu"],
                           threads=1, bench=QUICK)  # fmt: skip
    result = compare(config, store=store)
    assert [(r.variant, r.runtime) for r in result.rows] == [
        ("fp32", "onnxruntime-cpu"), ("fp32", "torch-cpu"), ("copy", "onnxruntime-cpu"),
    ]  # fmt: skip
    assert result.skipped == [f"{MODEL}/copy/torch-cpu: torch eager runs the fp32 registry model only"]
    copy_row = result.rows[2]
    assert copy_row.cells["top1_agreement_pct"].value == 100.0
    assert copy_row.cells["cosine_mean"].value == pytest.approx(1.0)
    assert copy_row.cells["top1_agreement_pct"].provenance.note == "vs fp32 on 32 generated images"
    assert "top1_pct" not in copy_row.cells  # no published figure for a variant, and no data given


def test_unknown_variant_is_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown variant\(s\) \['int9'\]; available: fp16, fp32, int8, "):
        CompareConfig(models=[MODEL], variants=["int9"])


def test_recipes_are_variants_except_torch_only_ones() -> None:
    variants = list_variants()
    assert {"fp32", "fp16", "int8", "pruned30", "pruned30-int8", "seed-l1", "ort-dynamic"} <= set(variants)
    assert "seed-dynamic" not in variants  # a TorchScript artifact: no ONNX runtime can time it


def test_recipe_variant_is_built_verified_and_timed(store: ResultsStore) -> None:
    # setup
    config = CompareConfig(models=[MODEL], variants=["int8"], runtimes=["onnxruntime-cpu"], threads=1, bench=QUICK)
    # execute
    (row,) = compare(config, store=store).rows
    # assert: the int8 recipe's QDQ file (about a quarter of the fp32 size) with its fidelity vs fp32
    assert (row.variant, row.runtime) == ("int8", "onnxruntime-cpu")
    assert row.cells["size_mb"].value < 0.35 * 4.7
    assert row.cells["cosine_mean"].value > 0.98
    assert round(row.cells["macs_giga"].value, 3) == 0.349  # quantization keeps the MACs


@pytest.mark.vendor_openvino
@pytest.mark.vendor_ncnn
def test_target_rows_time_the_converted_files(store: ResultsStore) -> None:
    pytest.importorskip("openvino", reason="needs the openvino extra")
    pytest.importorskip("ncnn", reason="needs the ncnn extra")
    config = CompareConfig(models=[MODEL], variants=["fp32", "int8"], runtimes=["onnxruntime-cpu"],
                           targets=["openvino-cpu", "ncnn"], threads=1, bench=QUICK)  # fmt: skip
    result = compare(config, store=store)
    assert [(r.variant, r.runtime) for r in result.rows] == [
        ("fp32", "onnxruntime-cpu"), ("fp32", "openvino-cpu export"), ("fp32", "ncnn export"),
        ("int8", "onnxruntime-cpu"), ("int8", "openvino-cpu export"),
    ]  # fmt: skip
    assert result.skipped == [
        f"{MODEL}/int8/ncnn export: ncnn converts int8 on the user's side; only its fp32 parent runs here"
    ]
    assert all(r.cells["latency_ms_per_image_b1"].provenance.kind == "measured" for r in result.rows)


def test_targets_that_cannot_run_here_are_refused() -> None:
    with pytest.raises(BadInputError, match="target tensorrt cannot be converted and timed here"):
        compare(CompareConfig(models=[MODEL], targets=["tensorrt"], runtimes=["onnxruntime-cpu"]))


def test_measured_accuracy_with_random_weights_is_flagged(store: ResultsStore, tmp_path: Path) -> None:
    data = _imagenet_like(tmp_path / "val")
    config = CompareConfig(models=[MODEL], runtimes=["onnxruntime-cpu"], threads=1, bench=QUICK, data=data, limit=10)
    result = compare(config, store=store)
    top1 = result.rows[0].cells["top1_pct"]
    assert top1.provenance.kind == "measured"
    assert top1.provenance.n_samples == 10
    assert top1.provenance.note == f"on {data} (first 10 images in class order); random-init weights: NOT meaningful"
    assert 0.0 <= top1.value <= 100.0
    assert "top5_pct" in result.rows[0].cells
    assert "measured accuracy is NOT meaningful: the weights are random init" in result.notes
    stored = store.latest_accuracy(MODEL, "fp32")  # kept for recommend, flagged: random init is never shown
    assert stored is not None
    assert (stored.top1_pct, stored.n_images, stored.meaningful) == (pytest.approx(top1.value), 10, False)
    assert stored.data_sha256 is not None
    assert len(stored.data_sha256) == 64


def test_bad_data_fails_before_anything_is_measured(store: ResultsStore, image_folder: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("measured before the data was checked")

    monkeypatch.setattr(compare_module, "bench_cached", must_not_run)
    config = CompareConfig(models=[MODEL], runtimes=["onnxruntime-cpu"], bench=QUICK, data=image_folder)
    with pytest.raises(BadInputError, match="has 3 class folders but squeezenet1_1 predicts 1000 classes"):
        compare(config, store=store)


def test_runtime_of_another_device_is_refused() -> None:
    config = CompareConfig(models=[MODEL], runtimes=["torch-cuda"], device="cpu")
    with pytest.raises(BadInputError, match="runtime torch-cuda runs on cuda, but the device is cpu"):
        compare(config)
