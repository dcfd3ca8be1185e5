"""Runner registry, runtime selection, and the CUDA code paths (tested on CPU with fakes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgekit.bench import ArtifactSource, ModelSource, PreparedRun, Runner, measure
from edgekit.bench.runners import (
    _base,
    available_runners,
    get_runner,
    list_runners,
    register_runner,
    resolve_runtime,
)
from edgekit.compare.plan import resolve_runtimes
from edgekit.errors import BadInputError, MissingDependencyError, UnknownNameError

BUILT_IN = ["onnxruntime-cpu", "onnxruntime-cuda", "onnxruntime-tensorrt", "openvino-cpu", "torch-cpu", "torch-cuda"]


@pytest.fixture
def scratch_registry():
    """Let a test register runners and remove them afterwards."""
    before = dict(_base.registered())
    yield
    _base.registered().clear()
    _base.registered().update(before)


@pytest.fixture
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from edgekit.runtimes import onnxruntime as onnxruntime_ep

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(onnxruntime_ep, "_available_providers", lambda: ["CPUExecutionProvider"])


@pytest.fixture
def fake_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from edgekit.runtimes import onnxruntime as onnxruntime_ep

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(onnxruntime_ep, "_available_providers",
                        lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])  # fmt: skip


def test_built_in_runners_are_registered() -> None:
    assert set(BUILT_IN) <= set(list_runners())  # other modules (e.g. ncnn.py) add theirs
    assert list_runners("onnxruntime-*") == BUILT_IN[:3]
    assert get_runner("torch-cuda").device == "cuda"


def test_unknown_runner_suggests_close_names() -> None:
    with pytest.raises(UnknownNameError, match=r"unknown runner 'onnxruntime-gpu'; did you mean onnxruntime-cpu"):
        get_runner("onnxruntime-gpu")


def test_register_runner_rejects_duplicates_and_bad_names(scratch_registry: None) -> None:
    class Echo(Runner):
        name, family, device = "echo-cpu", "echo", "cpu"

        def prepare(self, source, batch, threads):  # noqa: ANN001, ANN201
            return PreparedRun(run=lambda: None, input_shape=(batch,))

    register_runner(Echo)
    assert "echo-cpu" in list_runners()
    assert register_runner(Echo) is Echo  # re-registering the same class (re-import) is harmless

    class Other(Echo):
        pass

    with pytest.raises(ValueError, match="already registered under the name 'echo-cpu'"):
        register_runner(Other)

    class Upper(Echo):
        name = "Echo-CPU"

    with pytest.raises(ValueError, match="lower-case"):
        register_runner(Upper)

    class Nameless(Runner):
        def prepare(self, source, batch, threads):  # noqa: ANN001, ANN201
            raise NotImplementedError

    with pytest.raises(ValueError, match="must set the class attribute 'name'"):
        register_runner(Nameless)


def test_a_new_runner_module_plugs_in_by_registration(scratch_registry: None, tmp_path: Path) -> None:
    # The docstring example of Runner: a runner for a made-up file type, timed by the protocol.
    @register_runner
    class EchoRunner(Runner):
        name, family, device, artifact_suffixes = "echo-cpu", "echo", "cpu", (".echo",)

        def prepare(self, source, batch, threads):  # noqa: ANN001, ANN201
            data = Path(source.path).read_bytes()
            return PreparedRun(run=lambda: data[::-1], input_shape=(batch, len(data)))

    (tmp_path / "m.echo").write_bytes(b"abc")
    runner = get_runner("echo-cpu")
    source = ArtifactSource(path=tmp_path / "m.echo")
    assert runner.accepts(source)
    assert not runner.accepts(ModelSource(name="resnet18"))
    prepared = runner.prepare(source, batch=2, threads=1)
    stats = measure(prepared.run, warmup=1, min_iters=3, min_seconds=0.0)
    assert stats.iters == 3
    assert resolve_runtime("echo", "cpu") == "echo-cpu"


def test_sources_each_runner_accepts(tmp_path: Path) -> None:
    onnx_file, xml_file = ArtifactSource(path=tmp_path / "a.onnx"), ArtifactSource(path=tmp_path / "a.xml")
    model = ModelSource(name="resnet18")
    accepted = {name: [get_runner(name).accepts(s) for s in (model, onnx_file, xml_file)] for name in BUILT_IN}
    assert accepted == {
        "onnxruntime-cpu": [False, True, False],
        "onnxruntime-cuda": [False, True, False],
        "onnxruntime-tensorrt": [False, True, False],
        "openvino-cpu": [False, True, True],
        "torch-cpu": [True, False, False],
        "torch-cuda": [True, False, False],
    }


@pytest.mark.parametrize(
    ("text", "device", "expected"),
    [("onnxruntime", "cpu", "onnxruntime-cpu"), ("onnxruntime", "cuda", "onnxruntime-cuda"),
     ("torch", "cuda", "torch-cuda"), ("openvino-cpu", "cpu", "openvino-cpu")],
)  # fmt: skip
def test_resolve_runtime_by_family_and_device(text: str, device: str, expected: str) -> None:
    assert resolve_runtime(text, device) == expected  # type: ignore[arg-type]


def test_resolve_runtime_errors() -> None:
    with pytest.raises(BadInputError, match="runtime 'torch-cpu' runs on cpu, but --device is cuda"):
        resolve_runtime("torch-cpu", "cuda")
    with pytest.raises(UnknownNameError, match="unknown runtime 'tensorflow'; known: "):
        resolve_runtime("tensorflow", "cpu")


def test_cpu_default_runtimes_here() -> None:
    assert {"onnxruntime-cpu", "torch-cpu"} <= set(available_runners("cpu"))
    assert resolve_runtimes([], "cpu") == available_runners("cpu")


def test_device_cuda_without_gpu_is_bad_input(no_gpu: None) -> None:
    assert available_runners("cuda") == []
    with pytest.raises(BadInputError) as info:
        resolve_runtimes([], "cuda")
    message = str(info.value)
    assert message.startswith("--device cuda: no GPU runtime is usable here (")
    assert "torch-cuda: no CUDA device is visible to torch" in message
    assert "onnxruntime-cuda: onnxruntime has no CUDAExecutionProvider here" in message


def test_device_cuda_selects_gpu_runners_when_present(fake_gpu: None) -> None:
    assert available_runners("cuda") == ["onnxruntime-cuda", "torch-cuda"]  # no TensorRT EP in this build
    assert resolve_runtimes([], "cuda") == ["onnxruntime-cuda", "torch-cuda"]
    assert resolve_runtimes(["onnxruntime"], "cuda") == ["onnxruntime-cuda"]
    assert get_runner("onnxruntime-tensorrt").unavailable_reason().startswith("onnxruntime has no Tensorrt")


class FakeEvent:
    """Stands in for torch.cuda.Event: records calls, reports 2.5 ms between a pair."""

    log: list[str] = []

    def __init__(self, enable_timing: bool = False) -> None:
        assert enable_timing

    def record(self) -> None:
        FakeEvent.log.append("record")

    def synchronize(self) -> None:
        FakeEvent.log.append("event-sync")

    def elapsed_time(self, end: FakeEvent) -> float:
        return 2.5


def test_torch_cuda_path_uses_events_and_synchronize(fake_gpu: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from edgekit.runtimes import torch as torch_eager

    # setup: a CPU stand-in for the GPU: model and inputs built on the CPU, CUDA calls faked
    synced: list[int] = []
    FakeEvent.log = []
    monkeypatch.setattr(torch.cuda, "Event", FakeEvent)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda: synced.append(1))
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "Fake GPU")
    built: list[str] = []

    def fake_build(source: object, batch: int, device: str) -> tuple[torch.nn.Module, torch.Tensor]:
        built.append(device)
        return torch.nn.Linear(4, 2).eval(), torch.zeros(batch, 4)

    monkeypatch.setattr(torch_eager, "_build", fake_build)
    # execute
    prepared = get_runner("torch-cuda").prepare(ModelSource(name="resnet18"), batch=2, threads=1)
    stats = measure(prepared.run, warmup=1, min_iters=3, min_seconds=0.0, sync=prepared.sync, timer=prepared.timer)
    # assert
    assert built == ["cuda"]
    assert prepared.settings["gpu"] == "Fake GPU"
    assert prepared.settings["cudnn_benchmark"] == "True"
    assert len(synced) == 4  # warm-up + 3 timed iterations
    assert FakeEvent.log == ["record", "record", "event-sync"] * 3
    assert stats.latency_ms_p50 == pytest.approx(2.5)  # the event time, not the host clock


@pytest.mark.filterwarnings("ignore:Specified provider:UserWarning")
def test_onnxruntime_gpu_runner_refuses_a_silent_cpu_fallback(fake_gpu: None, tmp_path: Path) -> None:
    from tests.bench._tiny import tiny_onnx

    path = tiny_onnx(tmp_path / "tiny.onnx")
    with pytest.raises(MissingDependencyError, match="onnxruntime-cuda: onnxruntime fell back to CPUExecutionProvider"):
        get_runner("onnxruntime-cuda").prepare(ArtifactSource(path=path), batch=1, threads=1)


def test_torch_cuda_unavailable_reason_names_torch(no_gpu: None) -> None:
    reason = get_runner("torch-cuda").unavailable_reason()
    assert reason is not None
    assert "torch.cuda.is_available() is False" in reason
    assert get_runner("torch-cpu").unavailable_reason() is None


def test_random_inputs_are_seeded() -> None:
    from edgekit.bench._inputs import random_pixels

    a, b = random_pixels((2, 3, 4, 4)), random_pixels((2, 3, 4, 4))
    assert a.dtype == np.float32
    assert np.array_equal(a, b)
