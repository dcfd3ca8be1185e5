"""Real measurements of tiny models: in-process, in a child process, several batches, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgekit.bench import BenchConfig, BenchSpec, ModelSource, bench, bench_onnx, config_hash, fingerprint, peak_rss_of
from edgekit.bench.run import bench_many
from edgekit.errors import BadInputError
from tests.bench._tiny import TINY_PX, tiny_ir, tiny_onnx

QUICK = BenchConfig(warmup=1, min_iters=3, min_seconds=0.0, isolate=False)
QUICK_CHILD = QUICK.model_copy(update={"isolate": True})


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_onnx(tmp_path_factory.mktemp("tiny") / "tiny.onnx")


def test_onnxruntime_in_process_result_and_provenance(tiny: Path) -> None:
    result = bench_onnx(tiny, "onnxruntime-cpu", batch=2, threads=1, config=QUICK)
    assert result.spec.model == "tiny"
    assert result.spec.batch == 2
    assert result.spec.threads == 1
    assert result.stats.iters >= 3
    assert result.stats.batch_size == 2
    assert result.memory is None  # only an isolated run has a clean peak RSS
    assert result.settings["intra_op_threads"] == "1"
    assert result.device == "cpu"
    p50 = result.metric("latency_ms_p50")
    assert p50.value == result.stats.latency_ms_p50
    assert p50.unit == "ms"
    prov = p50.provenance
    assert prov.kind == "measured"
    assert prov.host == fingerprint().id
    assert prov.runtime == "onnxruntime-cpu"
    assert prov.n_samples == result.stats.iters
    assert set(prov.tool_versions) == {"edgekit", "onnxruntime"}
    assert "batch 2, 1 threads" in prov.note
    assert {m.name for m in result.metrics()} == {
        "latency_ms_p50", "latency_ms_p90", "latency_ms_p99", "latency_ms_mean", "latency_ms_std",
        "latency_ms_per_image_p50", "throughput_ips",
    }  # fmt: skip


def test_child_process_runs_report_peak_rss_per_batch(tiny: Path) -> None:
    specs = [BenchSpec(source={"kind": "artifact", "path": tiny}, runtime="onnxruntime-cpu", batch=b, threads=1,
                       model="tiny") for b in (4, 1)]  # fmt: skip
    results = bench_many(specs, QUICK_CHILD)
    assert [r.spec.batch for r in results] == [4, 1]  # order of the request, not of execution
    for result in results:
        assert result.memory is not None
        assert result.memory.peak_is_per_cell
        assert 0 < result.memory.baseline_rss_mb <= result.memory.peak_rss_mb
        assert result.metric("peak_rss_mb").value == result.memory.peak_rss_mb
    # a fresh interpreter + numpy + onnxruntime is tens of MB, not the test process's GBs
    assert results[1].memory.peak_rss_mb < 1024


def test_peak_rss_of_an_onnx_session(tiny: Path) -> None:
    memory = peak_rss_of("onnxruntime-cpu", tiny, batch=1, threads=1)
    assert memory.peak_rss_mb > memory.baseline_rss_mb > 0


def test_child_errors_come_back_as_the_same_type(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00not onnx")
    with pytest.raises(BadInputError, match="bad.onnx is not a readable ONNX model"):
        bench_onnx(bad, "onnxruntime-cpu", batch=1, threads=1, config=QUICK_CHILD)


def test_static_batch_file_cannot_run_another_batch(tmp_path: Path) -> None:
    static = tiny_onnx(tmp_path / "static.onnx", dynamic_batch=False)
    assert bench_onnx(static, "onnxruntime-cpu", 1, 1, config=QUICK).stats.batch_size == 1
    with pytest.raises(BadInputError, match="static.onnx has a static batch of 1; cannot run batch 4"):
        bench_onnx(static, "onnxruntime-cpu", 4, 1, config=QUICK)


def test_torch_runner_refuses_files_with_a_clear_message(tiny: Path) -> None:
    with pytest.raises(BadInputError, match=r"runtime torch-cpu runs registry models; cannot run .*tiny.onnx"):
        bench_onnx(tiny, "torch-cpu", 1, 1, config=QUICK)


def test_torch_cpu_times_a_registry_model() -> None:
    spec = BenchSpec(source=ModelSource(name="squeezenet1_1", input_px=64), runtime="torch-cpu", batch=2, threads=1,
                     model="squeezenet1_1")  # fmt: skip
    result = bench(spec, QUICK)
    assert result.stats.iters >= 3
    assert result.settings["intra_op_threads"] == "1"
    assert result.runtime_versions.keys() == {"edgekit", "torch", "torchvision"}


@pytest.mark.vendor_openvino
def test_openvino_times_onnx_and_ir(tiny: Path, tmp_path: Path) -> None:
    pytest.importorskip("openvino")
    xml = tiny_ir(tiny, tmp_path / "tiny.xml")
    for path in (tiny, xml):
        result = bench_onnx(path, "openvino-cpu", batch=3, threads=1, config=QUICK)
        assert result.stats.batch_size == 3
        assert result.settings["INFERENCE_NUM_THREADS"] == "1"
        assert result.settings["INFERENCE_PRECISION_HINT"] == "f32"


def test_config_hash_tracks_what_changes_numbers(tiny: Path, tmp_path: Path) -> None:
    spec = BenchSpec(source={"kind": "artifact", "path": tiny}, runtime="onnxruntime-cpu", model="tiny")
    base = config_hash(spec, QUICK)
    assert config_hash(spec, QUICK) == base
    assert config_hash(spec.model_copy(update={"batch": 8}), QUICK) == base  # batch is a key column itself
    assert config_hash(spec, QUICK.model_copy(update={"min_iters": 4})) != base
    other = tiny_onnx(tmp_path / "tiny.onnx", seed=1)  # same name, other weights
    assert config_hash(spec.model_copy(update={"source": spec.source.model_copy(update={"path": other})}),
                       QUICK) != base  # fmt: skip


def test_input_size_is_required_for_symbolic_spatial_dims() -> None:
    from edgekit.bench._inputs import resolve_shape

    assert resolve_shape(["batch", 3, TINY_PX, TINY_PX], 2, None, "m.onnx") == (2, 3, TINY_PX, TINY_PX)
    assert resolve_shape([None, 3, "h", "w"], 1, 64, "m.onnx") == (1, 3, 64, 64)
    with pytest.raises(BadInputError, match="m.onnx has a symbolic spatial size 'h'; pass --input-size"):
        resolve_shape([1, 3, "h", "w"], 1, None, "m.onnx")
    with pytest.raises(BadInputError, match="expected one NCHW image input, found rank 2"):
        resolve_shape([1, 10], 1, None, "m.onnx")


def test_a_runner_registered_outside_the_package_runs_in_the_child(tmp_path: Path) -> None:
    import tests.bench._plugin_runner as plugin
    from edgekit.bench.runners import _base

    _base.registered().setdefault("plugin-echo", plugin.PluginEchoRunner)
    (tmp_path / "m.echo").write_bytes(b"abcdef")
    result = bench_onnx(tmp_path / "m.echo", "plugin-echo", batch=2, threads=1, config=QUICK_CHILD)
    assert result.settings == {"plugin": "yes"}
    assert result.memory is not None
    assert result.stats.batch_size == 2
