"""onnxruntime verifier: the artifact is the ONNX file itself; run it with the target's provider."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgekit.ort import CPU_PROVIDER, make_session, run_batches
from edgekit.targets._verifier import ToolchainVerifier

CUDA_PROVIDER = "CUDAExecutionProvider"


class OnnxruntimeVerifier(ToolchainVerifier):
    """Runs the ONNX artifact in onnxruntime (CPU, or CUDA for CUDA targets), as deployed (optimizations on)."""

    name = "onnxruntime"
    distributions = ("onnxruntime", "onnxruntime-gpu")

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
