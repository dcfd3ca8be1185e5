"""Peak RAM = weights (× the runtime's load-time copies) + liveness activation peak + runtime overhead + I/O.

* weights: parameter count × bytes per weight at the precision (0 in RAM where the device executes
  weights in place from flash, as microcontrollers do; they count against storage instead);
* activations: the liveness peak of the analysed graph (exact for that graph; engines that fuse
  batch-norm into convolutions need a little less) scaled to the precision's activation bytes;
* runtime overhead: the target's ``runtime_overhead_mb`` (measured here for pip runtimes,
  estimates with a range for vendor runtimes);
* load-time weight copies and graph overhead: a runtime may hold the serialized model, its tensors
  and repacked kernels at once while a session is built, and a real graph costs a fixed amount
  more than the one-convolution model a target's overhead is measured with. Both are measured for
  onnxruntime on this host (fitted on models other than those they are checked on, see
  ``benchmarks/memory_check.py``); elsewhere 1 copy and no extra graph overhead (estimates).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from edgekit.predict._coords import ACTIVATION_BYTES, WEIGHT_BYTES
from edgekit.predict._features import FP32_BYTES, ModelFeatures
from edgekit.profiles import DeviceProfile

MB = 2**20
MEMORY_FILE = Path(__file__).resolve().parents[1] / "data" / "predictor" / "memory-v1.json"


class WeightCopies(BaseModel):
    """How many copies of the weights a runtime holds at its peak, plus its fixed per-graph memory."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float = Field(ge=0, description="weight copies at the peak")
    low: float = Field(ge=0)
    high: float = Field(ge=0)
    graph_overhead_mb: float = Field(0.0, ge=0, description="fixed MB a real graph adds beyond the target's overhead")
    basis: str = Field(description="measured (with method) or estimate")
    source: str


_DEFAULT_COPIES = WeightCopies(value=1.0, low=1.0, high=2.0, basis="estimate",
                               source="assumed: weights loaded once; up to one repacked copy")  # fmt: skip


@lru_cache(maxsize=1)
def weight_copies_table(path: Path = MEMORY_FILE) -> dict[str, WeightCopies]:
    """Per-runtime weight copies (``{}`` until ``benchmarks/memory_check.py --write`` has run)."""
    if not path.is_file():
        return {}
    raw = json.loads(path.read_text())
    return {runtime: WeightCopies.model_validate(entry) for runtime, entry in raw["weight_copies"].items()}


def weight_copies(runtime: str, precision: str | None = None) -> WeightCopies:
    """The load-time weight copies of a runtime at a precision (``runtime/precision``, then ``runtime``;
    estimate 1 where not measured)."""
    table = weight_copies_table()
    return table.get(f"{runtime}/{precision}") or table.get(runtime) or _DEFAULT_COPIES


@dataclass(frozen=True)
class Overhead:
    """A runtime's own memory in MB with its range and a label of its basis."""

    value: float
    low: float
    high: float
    label: str


@dataclass(frozen=True)
class MemoryEstimate:
    """Predicted peak RAM and its parts, in MB."""

    peak_mb: float
    low_mb: float
    high_mb: float
    weights_mb: float
    weights_in_ram_mb: float
    activations_mb: float
    io_mb: float
    overhead: Overhead
    copies: WeightCopies
    flash_mb: float


def estimate_memory(
    features: ModelFeatures, precision: str, profile: DeviceProfile, runtime: str, overhead: Overhead
) -> MemoryEstimate:
    """Predict peak RAM of running the model at ``precision`` on ``profile`` with ``runtime``."""
    weights = features.params * WEIGHT_BYTES[precision] / MB
    activations = features.peak_activation_bytes * ACTIVATION_BYTES[precision] / FP32_BYTES / MB
    io = (features.input_bytes + features.output_bytes) / MB
    copies = weight_copies(runtime, precision)
    in_flash = profile.memory.weights_in == "flash"
    in_ram = 0.0 if in_flash else weights

    def total(copy_count: float, runtime_mb: float) -> float:
        return in_ram * copy_count + copies.graph_overhead_mb + activations + io + runtime_mb

    return MemoryEstimate(
        peak_mb=total(copies.value, overhead.value), low_mb=total(copies.low, overhead.low),
        high_mb=total(copies.high, overhead.high), weights_mb=weights, weights_in_ram_mb=in_ram * copies.value,
        activations_mb=activations, io_mb=io, overhead=overhead, copies=copies,
        flash_mb=weights if in_flash else 0.0,
    )  # fmt: skip
