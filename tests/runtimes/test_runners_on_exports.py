"""Exported vendor artifacts are timeable by the benchmark runners (ncnn .param, OpenVINO IR .xml)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from edgekit.bench import bench_onnx, get_runner
from edgekit.bench.run import BenchConfig
from edgekit.bench.runners import ArtifactSource
from edgekit.errors import BadInputError
from edgekit.targets.export import export_for_target
from tests.targets import _vendor
from tests.targets._graphs import classifier, save

# In-process and short: these tests check wiring and settings, not speed.
QUICK = BenchConfig(warmup=1, min_iters=3, min_seconds=0.0, isolate=False)


@_vendor.requires_ncnn
def test_ncnn_runner_times_an_export_and_reads_its_input_size(tmp_path: Path) -> None:
    export_for_target(save(classifier(), tmp_path / "tiny.onnx"), "ncnn", out_dir=tmp_path / "out", samples=1)
    result = bench_onnx(tmp_path / "out/ncnn/tiny.ncnn.param", "ncnn-cpu", batch=2, threads=1, config=QUICK)
    assert result.stats.iters >= 3
    assert result.settings == {"threads": "1", "vulkan": "off", "fp16": "off", "batch_mode": "sequential extractions"}
    assert result.metric("latency_ms_p50").provenance.runtime == "ncnn-cpu"


@_vendor.requires_ncnn
def test_ncnn_runner_needs_the_input_size_without_a_manifest(tmp_path: Path) -> None:
    export_for_target(save(classifier(), tmp_path / "tiny.onnx"), "ncnn", out_dir=tmp_path / "out", samples=1)
    loose = tmp_path / "loose"
    shutil.copytree(tmp_path / "out" / "ncnn", loose)
    with pytest.raises(BadInputError, match=r"tiny.ncnn.param does not record its input size .* pass --input-size"):
        get_runner("ncnn-cpu").prepare(ArtifactSource(path=loose / "tiny.ncnn.param"), 1, 1)
    prepared = get_runner("ncnn-cpu").prepare(ArtifactSource(path=loose / "tiny.ncnn.param", input_px=32), 1, 1)
    assert prepared.input_shape == (1, 3, 32, 32)
    assert len(prepared.run()) == 1


@_vendor.requires_openvino
def test_openvino_ir_from_an_export_is_timeable(tmp_path: Path) -> None:
    export_for_target(save(classifier(batch="batch"), tmp_path / "tiny.onnx"), "openvino-cpu", out_dir=tmp_path / "o",
                      samples=1)  # fmt: skip
    result = bench_onnx(tmp_path / "o/openvino/tiny.xml", "openvino-cpu", batch=2, threads=1, config=QUICK)
    assert result.stats.iters >= 3
    assert result.settings["INFERENCE_PRECISION_HINT"] == "f32"
