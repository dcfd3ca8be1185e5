"""onnxruntime sessions made one way everywhere: explicit threads, explicit providers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from edgekit._ort_options import CPU_PROVIDER, run_batches, session_options
from edgekit.errors import BadInputError

if TYPE_CHECKING:
    import onnxruntime as ort

__all__ = ["CPU_PROVIDER", "make_session", "run_batches"]


def make_session(
    model: Path | bytes,
    threads: int | None = None,
    providers: list[str] | None = None,
    optimize: bool = True,
) -> ort.InferenceSession:
    """Create an inference session.

    Args:
        model: an ONNX file or serialized bytes.
        threads: intra-op threads (``None`` = onnxruntime's default, all cores); inter-op is 1.
        providers: execution providers in priority order (default: CPU).
        optimize: False disables graph optimizations, as parity checks require (P12).

    Raises:
        BadInputError: onnxruntime cannot load the model.
    """
    import onnxruntime as ort

    options = session_options(ort, threads, optimize)
    source = str(model) if isinstance(model, Path) else model
    try:
        return ort.InferenceSession(source, options, providers=providers or [CPU_PROVIDER])
    except Exception as exc:  # onnxruntime raises its own unexported exception types
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise BadInputError(f"onnxruntime cannot load the model: {first_line}") from exc
