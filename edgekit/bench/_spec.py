"""What one benchmark cell measures (:class:`BenchSpec`) and how long (:class:`BenchConfig`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from edgekit.bench.runners import ArtifactSource, ModelSource

# On shared and virtual hosts throughput drifts over seconds (neighbours, steal, frequency):
# 2 s windows gave run-to-run p50 CVs of 5-30 % on this project's 2-core VM, 5 s windows ~2 %.
# The median of a 5 s window ignores slow bursts shorter than half of it.
DEFAULT_MIN_SECONDS = 5.0


class BenchConfig(BaseModel):
    """How long and how often to measure."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    warmup: int = Field(10, ge=0, description="untimed iterations first")
    min_iters: int = Field(30, ge=1, description="at least this many timed iterations")
    min_seconds: float = Field(DEFAULT_MIN_SECONDS, ge=0, description="and at least this much timed wall time")
    isolate: bool = Field(True, description="one child process per cell (needed for peak RSS)")
    timeout_s: float = Field(900.0, gt=0, description="a child process is killed after this long")


class BoardLabel(BaseModel):
    """The board a measurement ran on when it was not this machine (``bench --on LINK``).

    Results on a board are looked up by ``profile``; ``id`` names the board (its devices.yaml id, or the
    link's host), ``link`` how it was reached (``ssh://user@host:port``; never a secret).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    profile: str = Field(min_length=1, description="the device profile the board stands for, e.g. raspberry-pi-5")
    link: str = Field(min_length=1)


class BenchSpec(BaseModel):
    """What to measure: one source on one runtime at one batch size and thread count."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Annotated[ModelSource | ArtifactSource, Field(discriminator="kind")]
    runtime: str
    batch: int = Field(1, ge=1)
    threads: int = Field(1, ge=1)
    model: str = Field(description="label: the registry name, or a file's name")
    variant: str = "fp32"
