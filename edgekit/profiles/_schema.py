"""The schema of ``profiles/<id>.yaml``: one embedded device, every number with its source.

Units live in key names (``_mb``, ``_gbs``, ``_ghz``, ``_gflops``, ``_gops``, ``_watts``).
Every figure is a :class:`Sourced` value that says whether it was *published* (a datasheet or
benchmark page), *measured* (on the device, by whom and how), *derived* (by a formula from
published inputs, e.g. cores × GHz × FLOP/cycle) or *estimated* (an assumption, with the reason).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from edgekit.vocab import ComputeUnit, Precision, StrictModel

SCHEMA_VERSION = 1
SourceKind = Literal["published", "measured", "derived", "estimated"]
CoreSelection = Literal["all", "big", "little"]
FormFactor = Literal["sbc", "som", "phone", "mcu", "usb-accelerator", "devkit", "host"]


class Sourced(StrictModel):
    """A number and where it came from. Every figure of a device is a finite, positive quantity."""

    value: float = Field(description="finite and > 0; each field also has an upper bound",
                         json_schema_extra={"exclusiveMinimum": 0})  # fmt: skip
    kind: SourceKind
    source: str = Field(min_length=3, description="citation URL, formula with its inputs' source, or method")
    note: str | None = None
    unverified: bool = Field(False, description="taken from memory or a partly read page; check before relying")

    @field_validator("value")
    @classmethod
    def _finite_positive(cls, value: float) -> float:
        # inf/NaN/0/negative figures silently reorder recommendations or divide by zero later; name the value.
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"value {value!r} must be a finite number > 0")
        return value

    @model_validator(mode="after")
    def _estimates_explain(self) -> Sourced:
        if self.kind == "estimated" and not self.note:
            raise ValueError("an estimated value needs a note saying why it was assumed")
        return self

    def label(self) -> str:
        """``published``, ``derived, unverified`` and so on."""
        return f"{self.kind}, unverified" if self.unverified else self.kind


def _at_most(limit: float, unit: str) -> AfterValidator:
    """Refuse a figure above ``limit``: a typo (1e308, 15000 GHz) would otherwise silently win every ranking."""

    def check(figure: Sourced) -> Sourced:
        if figure.value > limit:
            raise ValueError(f"value {figure.value:g} is out of range: at most {limit:g} {unit}")
        return figure

    return AfterValidator(check)


# Upper bounds far above any device edgekit profiles (e.g. 3.3 GHz, 20 TOPS, 32 GB) yet below absurd.
Ghz = Annotated[Sourced, _at_most(10.0, "GHz")]
PerCycle = Annotated[Sourced, _at_most(4096.0, "operations per cycle per core")]
Gflops = Annotated[Sourced, _at_most(1e7, "GFLOPS (GOPS)")]
MegabytesRam = Annotated[Sourced, _at_most(2.0**24, "MB (16 TiB)")]
MegabytesStorage = Annotated[Sourced, _at_most(2.0**30, "MB (1 PiB)")]
Gbs = Annotated[Sourced, _at_most(1e5, "GB/s")]
Watts = Annotated[Sourced, _at_most(1e4, "W")]
ClockScale = Annotated[Sourced, _at_most(16.0, "x the reference mode")]


class L2Cache(StrictModel):
    """How a cluster's L2 is organised: threads that share one L2 compete for it and scale worse."""

    shared: bool = Field(description="one L2 shared by the cluster's cores (or by pairs/modules of them)")
    source: str = Field(min_length=3, description="where the cache organisation is documented")


class L3Cluster(StrictModel):
    """Cores that share one L3: threads on different L3 clusters exchange data through the system cache or DRAM."""

    cores: int = Field(ge=1, le=1024, description="cores per L3 cluster (e.g. 4 on Jetson Orin: 12 cores = 3 clusters)")
    source: str = Field(min_length=3, description="where the cache organisation is documented")


class CpuCluster(StrictModel):
    """A group of identical cores (a big.LITTLE cluster, or all cores of a homogeneous CPU)."""

    name: str = Field(description="e.g. prime, big, little")
    core: str = Field(description="core type, e.g. Cortex-A76")
    count: int = Field(ge=1, le=1024)
    max_ghz: Ghz
    fp32_flops_per_cycle: PerCycle = Field(description="per core, FMA counted as 2 FLOP")
    fp16_flops_per_cycle: PerCycle | None = Field(None, description="None: no FP16 arithmetic (runs at fp32 rate)")
    int8_ops_per_cycle: PerCycle | None = Field(None, description="None: no int8 rate claimed (fp32 rate assumed)")
    l2: L2Cache | None = Field(None, description="None: not stated (a private L2 per core is assumed)")
    l3: L3Cluster | None = Field(None, description="None: every core of the cluster shares one L3 (or none is stated)")

    def core_gflops(self, precision: Precision) -> float:
        """Peak GFLOPS (GOPS for int8) of one core at ``precision``, falling back to the fp32 rate."""
        per_cycle = {"fp16": self.fp16_flops_per_cycle, "int8": self.int8_ops_per_cycle}.get(precision)
        return self.max_ghz.value * (per_cycle or self.fp32_flops_per_cycle).value


class Cpu(StrictModel):
    """The application processor."""

    isa: str = Field(description="e.g. armv8.2-a, x86-64-v3, xtensa-lx7")
    clusters: list[CpuCluster] = Field(min_length=1)

    @property
    def cores(self) -> int:
        """Total core count."""
        return sum(c.count for c in self.clusters)

    def selected(self, cores: CoreSelection) -> list[CpuCluster]:
        """Clusters in a core selection: ``big`` drops the slowest cluster, ``little`` keeps only it."""
        ranked = sorted(self.clusters, key=lambda c: -c.core_gflops("fp32"))
        if len(ranked) == 1 or cores == "all":
            return ranked
        return ranked[:-1] if cores == "big" else ranked[-1:]

    def peak_gflops(self, precision: Precision, cores: CoreSelection = "all", threads: int | None = None) -> float:
        """Peak of the ``threads`` fastest cores in the selection (all of them when ``threads`` is None)."""
        speeds = [c.core_gflops(precision) for c in self.selected(cores) for _ in range(c.count)]
        used = speeds[: threads or len(speeds)]
        return sum(used)

    def fastest_core_ghz(self, cores: CoreSelection = "all") -> float:
        """Clock of the fastest core in the selection (dispatch overhead scales with it)."""
        return max(c.max_ghz.value for c in self.selected(cores))


class Accelerator(StrictModel):
    """A GPU, NPU, TPU or DSP and its peak throughput per precision (None = not published)."""

    kind: Literal["gpu", "npu", "tpu", "dsp"]
    name: str
    architecture: str | None = Field(
        None, description="architecture family (e.g. Adreno, NVIDIA Ampere); units of one family share a fitted factor"
    )
    peak_gflops_fp32: Gflops | None = None
    peak_gflops_fp16: Gflops | None = None
    peak_gops_int8: Gflops | None = None
    precisions: list[Precision] = Field(description="precisions the unit executes natively")

    def peak(self, precision: Precision) -> Sourced | None:
        """The published/derived peak at ``precision``, if any."""
        return {"fp32": self.peak_gflops_fp32, "fp16": self.peak_gflops_fp16, "int8": self.peak_gops_int8}[precision]


class Memory(StrictModel):
    """RAM, storage and bandwidth."""

    ram_total_mb: MegabytesRam
    ram_usable_mb: MegabytesRam = Field(description="what an application can allocate (total minus OS/firmware)")
    storage_mb: MegabytesStorage | None = Field(None, description="None: board/card dependent")
    bandwidth_gbs: Gbs | None = Field(None, description="peak DRAM bandwidth (theoretical unless labelled)")
    weights_in: Literal["ram", "flash"] = Field("ram", description="flash: weights execute in place (MCUs)")

    @model_validator(mode="after")
    def _usable_fits(self) -> Memory:
        if self.ram_usable_mb.value > self.ram_total_mb.value:
            raise ValueError("ram_usable_mb exceeds ram_total_mb")
        return self


class PowerMode(StrictModel):
    """A power mode: its draw under load and its clock relative to the reference mode."""

    name: str
    watts: Watts | None = Field(None, description="board power under inference-like load; None = unknown")
    clock_scale: ClockScale = Field(description="throughput relative to the mode the calibration data assumes")


class DeviceProfile(StrictModel):
    """One device. The file name must be ``<id>.yaml``."""

    schema_version: Literal[1]
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    vendor: str
    form_factor: FormFactor
    description: str
    boards: list[str] = Field(default_factory=list, description="boards or products this profile stands for")
    cpu: Cpu
    accelerators: list[Accelerator] = Field(default_factory=list)
    memory: Memory
    power_modes: list[PowerMode] = Field(min_length=1)
    default_power_mode: str
    targets: list[str] = Field(min_length=1, description="target ids (targets/<id>.yaml) that run here")
    notes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> DeviceProfile:
        names = [m.name for m in self.power_modes]
        if self.default_power_mode not in names:
            raise ValueError(f"default_power_mode {self.default_power_mode!r} is not one of {names}")
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate power mode names in {names}")
        kinds = [a.kind for a in self.accelerators]
        if len(set(kinds)) != len(kinds):
            raise ValueError(f"one accelerator per kind, got {kinds}")
        return self

    @property
    def units(self) -> list[ComputeUnit]:
        """Compute units present: ``cpu`` plus each accelerator kind."""
        return ["cpu", *[a.kind for a in self.accelerators]]

    def accelerator(self, kind: str) -> Accelerator | None:
        """The accelerator of that kind, if the device has one."""
        return next((a for a in self.accelerators if a.kind == kind), None)

    def power_mode(self, name: str | None = None) -> PowerMode:
        """The named power mode (the default one when ``name`` is None)."""
        wanted = name or self.default_power_mode
        for mode in self.power_modes:
            if mode.name == wanted:
                return mode
        raise KeyError(wanted)
