"""The torch runtime: eager runners ``torch-cpu`` and ``torch-cuda`` (registry models built in-process)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from edgekit.bench._inputs import model_input_shape, random_pixels
from edgekit.bench.runners._base import ModelSource, PreparedRun, Runner, Source, register_runner
from edgekit.errors import BadInputError
from edgekit.models import build_model
from edgekit.runtimes._spec import Runtime, register_runtime

if TYPE_CHECKING:
    import torch

_TORCH_PACKAGES = ("torch", "torchvision")


def set_torch_threads(threads: int) -> dict[str, str]:
    """Pin torch's intra-op threads (and inter-op to 1 where still allowed); return what was set."""
    import torch

    torch.set_num_threads(threads)
    # Only settable before the first parallel region of the process; later calls raise.
    with contextlib.suppress(RuntimeError):
        torch.set_num_interop_threads(1)
    return {"intra_op_threads": str(torch.get_num_threads()), "inter_op_threads": str(torch.get_num_interop_threads())}


def _build(source: Source, batch: int, device: str) -> tuple[Any, Any]:
    import torch

    if not isinstance(source, ModelSource):
        raise BadInputError("torch runners time registry models; give a model name, not a file")
    shape = model_input_shape(source.name, batch, source.input_px)
    model = build_model(source.name, source.weights).to(device)
    pixels = torch.from_numpy(random_pixels(shape)).to(device)
    return model, pixels


def _forward(model: torch.nn.Module, pixels: torch.Tensor) -> Any:
    import torch

    def run() -> Any:
        with torch.inference_mode():
            return model(pixels)

    return run


@register_runner
class TorchCpuRunner(Runner):
    """PyTorch eager on the CPU, under ``torch.inference_mode()``."""

    name = "torch-cpu"
    family = "torch"
    device = "cpu"
    builds_models = True
    packages = _TORCH_PACKAGES

    def prepare(self, source: Source, batch: int, threads: int) -> PreparedRun:
        """Build the model in eval mode and place seeded inputs."""
        settings = set_torch_threads(threads)
        model, pixels = _build(source, batch, "cpu")
        return PreparedRun(run=_forward(model, pixels), input_shape=tuple(pixels.shape), settings=settings)


class CudaEventTimer:
    """Per-iteration device time from a pair of CUDA events on the current stream."""

    def __init__(self) -> None:
        import torch

        self._start = torch.cuda.Event(enable_timing=True)
        self._end = torch.cuda.Event(enable_timing=True)

    def start(self) -> None:
        """Record the start event."""
        self._start.record()

    def stop(self) -> float:
        """Record the end event, wait for it, and return the seconds between the two."""
        self._end.record()
        self._end.synchronize()
        return self._start.elapsed_time(self._end) / 1000.0  # elapsed_time is in ms


def cuda_unavailable_reason() -> str | None:
    """Why torch cannot use CUDA here, or ``None`` when it can."""
    import torch

    if not torch.cuda.is_available():
        return f"no CUDA device is visible to torch {torch.__version__} (torch.cuda.is_available() is False)"
    return None


@register_runner
class TorchCudaRunner(Runner):
    """PyTorch eager on a CUDA GPU: CUDA-event timing plus synchronize, cudnn autotuning on."""

    name = "torch-cuda"
    family = "torch"
    device = "cuda"
    builds_models = True
    packages = _TORCH_PACKAGES

    def unavailable_reason(self) -> str | None:
        """No GPU visible to torch."""
        return cuda_unavailable_reason()

    def prepare(self, source: Source, batch: int, threads: int) -> PreparedRun:
        """Build the model on the GPU, inputs already on the device, events for timing."""
        import torch

        settings = set_torch_threads(threads)
        torch.backends.cudnn.benchmark = True  # static shapes: pick the fastest conv algorithms once
        model, pixels = _build(source, batch, "cuda")
        settings.update(
            gpu=torch.cuda.get_device_name(0), cudnn_benchmark="True",
            cudnn_allow_tf32=str(torch.backends.cudnn.allow_tf32),
            matmul_allow_tf32=str(torch.backends.cuda.matmul.allow_tf32),
        )  # fmt: skip
        return PreparedRun(
            run=_forward(model, pixels), input_shape=tuple(pixels.shape), sync=torch.cuda.synchronize,
            timer=CudaEventTimer(), settings=settings,
        )  # fmt: skip


RUNTIME = register_runtime(Runtime(
    name="torch", description="PyTorch eager: registry models built and timed in-process (the float reference)",
    runners=(TorchCpuRunner.name, TorchCudaRunner.name), packages=_TORCH_PACKAGES,
))  # fmt: skip
