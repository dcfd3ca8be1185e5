"""The onnxruntime runtime: runners for the CPU EP (and the CUDA / TensorRT EPs where onnxruntime-gpu
provides them), and the converter that runs the ONNX artifact itself with the target's provider."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from edgekit._ort_options import timing_settings
from edgekit.bench._inputs import onnx_input_shape, random_pixels
from edgekit.bench.runners._base import ArtifactSource, PreparedRun, Runner, Source, register_runner
from edgekit.errors import BadInputError, MissingDependencyError
from edgekit.ort import CPU_PROVIDER, make_session, run_batches
from edgekit.runtimes._spec import Runtime, register_runtime
from edgekit.targets._converter import ToolchainConverter

_ORT_PACKAGES = ("onnxruntime", "onnxruntime-gpu")
CUDA_PROVIDER = "CUDAExecutionProvider"
_TENSORRT_PROVIDER = "TensorrtExecutionProvider"


def _available_providers() -> list[str]:
    import onnxruntime as ort

    return list(ort.get_available_providers())


def _artifact(source: Source) -> Path:
    if not isinstance(source, ArtifactSource):
        raise BadInputError("onnxruntime runners time ONNX files; export the model first")
    return Path(source.path)


class _OrtRunner(Runner):
    family = "onnxruntime"
    artifact_suffixes = (".onnx",)
    packages = _ORT_PACKAGES
    # Execution providers in priority order; the first must be the one actually used.
    providers: ClassVar[tuple[str, ...]] = (CPU_PROVIDER,)

    def unavailable_reason(self) -> str | None:
        """The first provider is not in this onnxruntime build."""
        try:
            available = _available_providers()
        except ImportError:
            return "onnxruntime is not installed"
        if self.providers[0] not in available:
            return f"onnxruntime has no {self.providers[0]} here (available: {', '.join(available)})"
        return None

    def _session(self, path: Path, threads: int) -> Any:
        self.require_available()
        session = make_session(path, threads=threads, providers=list(self.providers))
        used = session.get_providers()[0]
        if used != self.providers[0]:  # onnxruntime falls back to the CPU silently
            raise MissingDependencyError(f"{self.name}: onnxruntime fell back to {used}; {self.providers[0]} failed")
        return session

    def _settings(self, threads: int) -> dict[str, str]:
        return timing_settings(self.providers, threads)


@register_runner
class OrtCpuRunner(_OrtRunner):
    """onnxruntime CPU execution provider, full graph optimizations, explicit intra-op threads."""

    name = "onnxruntime-cpu"
    device = "cpu"

    def prepare(self, source: Source, batch: int, threads: int) -> PreparedRun:
        """Create the session and the input feed; ``run`` is one ``session.run``."""
        path = _artifact(source)
        shape = onnx_input_shape(path, batch, source.input_px)
        session = self._session(path, threads)
        feed = {session.get_inputs()[0].name: random_pixels(shape)}
        return PreparedRun(run=lambda: session.run(None, feed), input_shape=shape, settings=self._settings(threads))


class _OrtGpuRunner(_OrtRunner):
    device = "cuda"

    def prepare(self, source: Source, batch: int, threads: int) -> PreparedRun:
        """Inputs and outputs bound on the GPU (IOBinding), so host copies stay outside the timing."""
        import onnxruntime as ort

        path = _artifact(source)
        shape = onnx_input_shape(path, batch, source.input_px)
        session = self._session(path, threads)
        on_device = ort.OrtValue.ortvalue_from_numpy(random_pixels(shape), "cuda", 0)
        binding = session.io_binding()
        binding.bind_ortvalue_input(session.get_inputs()[0].name, on_device)
        for output in session.get_outputs():
            binding.bind_output(output.name, "cuda")
        return PreparedRun(
            run=lambda: session.run_with_iobinding(binding), input_shape=shape,
            sync=binding.synchronize_outputs, settings=self._settings(threads) | {"io_binding": "cuda"},
        )  # fmt: skip


@register_runner
class OrtCudaRunner(_OrtGpuRunner):
    """onnxruntime CUDA execution provider (needs onnxruntime-gpu and a GPU)."""

    name = "onnxruntime-cuda"
    providers = (CUDA_PROVIDER, CPU_PROVIDER)


@register_runner
class OrtTensorrtRunner(_OrtGpuRunner):
    """onnxruntime TensorRT execution provider (needs onnxruntime-gpu built with TensorRT)."""

    name = "onnxruntime-tensorrt"
    providers = (_TENSORRT_PROVIDER, CUDA_PROVIDER, CPU_PROVIDER)


class OnnxruntimeConverter(ToolchainConverter):
    """Runs the ONNX artifact in onnxruntime (CPU, or CUDA for CUDA targets), as deployed (optimizations on)."""

    name = "onnxruntime"
    distributions = _ORT_PACKAGES

    def _providers(self) -> list[str]:
        return [CUDA_PROVIDER, CPU_PROVIDER] if self.spec.verification.requires_cuda else [CPU_PROVIDER]

    def cuda_missing(self) -> str | None:
        """CUDA targets need onnxruntime-gpu's CUDA provider and a device."""
        if not self.spec.verification.requires_cuda:
            return None
        import onnxruntime as ort

        if CUDA_PROVIDER not in ort.get_available_providers():
            return "needs onnxruntime-gpu with the CUDA provider and an NVIDIA GPU"
        return None

    def convert(self, onnx_path: Path, out_dir: Path, precision: str) -> list[Path]:
        """Nothing to convert: onnxruntime consumes the ONNX artifact itself."""
        return [onnx_path.relative_to(out_dir) if onnx_path.is_relative_to(out_dir) else onnx_path]

    def run(self, out_dir: Path, files: list[Path], pixels: np.ndarray) -> np.ndarray:
        """Run the ONNX artifact with the target's providers."""
        session = make_session(out_dir / files[0], threads=self.threads, providers=self._providers())
        return run_batches(session, pixels)


RUNTIME = register_runtime(Runtime(
    name="onnxruntime", description="ONNX Runtime: the ONNX artifact itself, CPU / CUDA / TensorRT providers",
    runners=(OrtCpuRunner.name, OrtCudaRunner.name, OrtTensorrtRunner.name), converter=OnnxruntimeConverter,
    packages=_ORT_PACKAGES, artifact_suffix=".onnx", times_targets_with=OrtCpuRunner.name, abbreviation="ort",
))  # fmt: skip
