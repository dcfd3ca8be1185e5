"""The records of a comparison: what to compare (:class:`CompareConfig`), its rows and the whole table."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from edgekit.bench.host import HostFingerprint, usable_cores
from edgekit.bench.run import BenchConfig
from edgekit.bench.runners import Device
from edgekit.compare._variants import list_variants
from edgekit.metrics import Metric

# Short but stable protocol for a whole table: ≈1 s per cell keeps `compare resnet18
# mobilenet_v2` (12 cells) well inside two minutes on 2 cores; `bench` measures longer.
COMPARE_BENCH = BenchConfig(warmup=3, min_iters=10, min_seconds=1.0)
LARGE_BATCH = 8


class CompareConfig(BaseModel):
    """What to compare and how."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    models: list[str] = Field(min_length=1)
    variants: list[str] = Field(default_factory=lambda: ["fp32"], min_length=1)
    runtimes: list[str] | None = Field(None, description="runner names; None = every available one on device")
    targets: list[str] = Field(default_factory=list, description="vendor targets whose converted artifacts to time")
    device: Device = "cpu"
    large_batch: int = Field(LARGE_BATCH, ge=2, description="the larger batch of the seed's table")
    threads: int = Field(default_factory=usable_cores, ge=1)
    weights: str = "none"
    data: Path | None = None
    limit: int | None = Field(None, ge=1, description="first K images of data")
    per_class: int | None = Field(None, ge=1, description="or N images of every class")
    bench: BenchConfig = COMPARE_BENCH
    fresh: bool = False
    # How an own model's input looks and its class names (see edgekit.models._source.parse_source); None: its own.
    input_size: int | None = None
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    layout: str | None = None
    labels: Path | None = None

    @field_validator("variants")
    @classmethod
    def _known_variants(cls, variants: list[str]) -> list[str]:
        unknown = [v for v in variants if v not in list_variants()]
        if unknown:
            raise ValueError(f"unknown variant(s) {unknown}; available: {', '.join(list_variants())}")
        return variants


class CompareRow(BaseModel):
    """One (model, variant, runtime) row; ``cells`` maps column ids to metrics."""

    model_config = ConfigDict(extra="forbid")

    model: str
    variant: str
    runtime: str
    cells: dict[str, Metric] = Field(default_factory=dict)
    cached: bool = Field(False, description="latencies came from the results store")


class Comparison(BaseModel):
    """The whole table with its context."""

    model_config = ConfigDict(extra="forbid")

    config: CompareConfig
    rows: list[CompareRow]
    fingerprint: HostFingerprint
    skipped: list[str] = Field(default_factory=list, description="rows not run, with the reason")
    notes: list[str] = Field(default_factory=list)
    created_at: datetime

    @property
    def large_batch(self) -> int:
        """The larger batch size of the table."""
        return self.config.large_batch
