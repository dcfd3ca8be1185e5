"""The fitted latency model as data: a versioned JSON shipped in the package.

Regenerated from the calibration CSV by ``benchmarks/predictor_validation.py --write``, which also
derives the interval quantiles from cross-validation residuals.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from edgekit.errors import BadInputError
from edgekit.fileio import write_json_atomic

PREDICTOR_NAME = "edgekit.predict.latency"
PARAMS_VERSION = 1
PARAMS_FILE = Path(__file__).resolve().parents[1] / "data" / "predictor" / f"latency-v{PARAMS_VERSION}.json"
TERMS = ("dense_compute", "depthwise_memory", "activation_memory", "weight_memory", "layer_overhead", "fixed")
Tier = str  # "calibrated" | "new-device" | "new-runtime"
TIERS = ("calibrated", "new-device", "new-runtime")


class Hyper(BaseModel):
    """Fixed choices of the model (not fitted by least squares)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    thread_exponent: float = Field(0.95, description="effective cores = threads ** this (cores with a private L2)")
    shared_cache_thread_exponent: float = Field(
        0.6,
        description="the same for threads that share a cache beyond their own: one L2 per cluster (profile l2.shared), "
        "or threads spread over several L3 clusters (profile l3.cores), each cluster beyond the first counted so",
    )
    memory_rate: Literal["unit", "dram"] = Field(
        "unit", description="memory terms: bytes / the unit's fp32 rate (unit) or / DRAM bandwidth (dram); see _terms"
    )
    winograd_discount: float = Field(0.55, description="fraction of 3x3 stride-1 FLOPs saved by Winograd")
    ridge: float = Field(1.0, description="pull of a runtime's coefficients toward its unit group's")
    shrink_precision: float = Field(2.0, description="pseudo-rows pulling a precision factor toward 1")
    shrink_family: float = Field(
        10.0, description="pseudo-rows pulling a CPU core-family or accelerator-architecture factor toward 1"
    )
    shrink_pair: float = Field(2.0, description="pseudo-rows pulling a device/runtime factor toward 1")
    iterations: int = 5
    interval_coverage: float = Field(0.9, description="nominal coverage of the stated interval")


class Quantiles(BaseModel):
    """Log-ratio (observed / predicted) quantiles that bound the stated interval."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    low: float
    high: float
    n: int = Field(description="validation residuals they come from")
    method: str = Field(description="cross-validation that produced the residuals")


_DIGESTS: dict[int, tuple[LatencyParams, str]] = {}
_DIGEST_DIGITS = 10  # a refit differs from the shipped fit in the last bits of its floats; ignore them


def _rounded(value: object) -> object:
    """``value`` with every float rounded to ``_DIGEST_DIGITS`` significant digits."""
    if isinstance(value, float):
        return float(f"{value:.{_DIGEST_DIGITS}g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


class LatencyParams(BaseModel):
    """Everything the latency predictor needs at run time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = PARAMS_VERSION
    terms: tuple[str, ...] = TERMS
    hyper: Hyper = Hyper()
    calibration_sha256: str = Field(description="digest of the CSV the parameters were fitted on")
    calibration_rows: int
    reference_peaks_gflops: dict[str, float] = Field(description="unit-typical peak used when a profile has none")
    group_coefficients: dict[str, list[float]] = Field(description="per unit group: cpu, gpu, accel")
    runtime_coefficients: dict[str, list[float]] = Field(description="per runtime/unit with calibration rows")
    precision_factors: dict[str, float] = Field(description="runtime/unit/precision multipliers")
    family_factors: dict[str, float] = Field(
        description="CPU core-family and accelerator-architecture (``gpu:Adreno``) multipliers"
    )
    pair_factors: dict[str, float] = Field(description="device/runtime/unit multipliers (calibrated pairs)")
    interval_quantiles: dict[str, dict[str, Quantiles]] = Field(
        default_factory=dict, description="tier -> unit group -> quantiles"
    )
    validation: dict[str, float] = Field(default_factory=dict, description="headline cross-validation figures")

    def digest(self) -> str:
        """Short sha256 of these parameters (coefficients, factors, intervals) for provenance strings;
        the same for a refit that agrees with them to ``_DIGEST_DIGITS`` significant digits."""
        cached = _DIGESTS.get(id(self))
        if cached is None or cached[0] is not self:
            text = json.dumps(_rounded(self.model_dump(mode="json", exclude={"validation"})), sort_keys=True)
            cached = _DIGESTS[id(self)] = (self, hashlib.sha256(text.encode()).hexdigest()[:12])
        return cached[1]


def save_params(params: LatencyParams, path: Path = PARAMS_FILE) -> Path:
    """Write the parameters atomically as sorted JSON."""
    write_json_atomic(path, params.model_dump(mode="json"))
    return path


@lru_cache(maxsize=4)
def load_params(path: Path = PARAMS_FILE) -> LatencyParams:
    """Load shipped (or given) parameters.

    Raises:
        BadInputError: the file is missing or does not match this version's schema.
    """
    try:
        return LatencyParams.model_validate(json.loads(path.read_text()))
    except (OSError, ValueError) as exc:
        raise BadInputError(f"cannot load predictor parameters {path}: {exc}") from exc
