"""The latency model's terms for one (model, device, coordinates): milliseconds at unit efficiency.

latency ≈ Σ coefficient_k × term_k, with terms (see ``_params.TERMS``):

* dense compute: (dense FLOPs − Winograd savings) / effective peak of the unit at that precision;
* depthwise memory, activation memory, weight memory: bytes at that precision / the unit's
  *memory rate* (see below);
* layer overhead: layers / CPU GHz (dispatch, synchronisation), or layers on an accelerator;
* fixed: 1 ms (session, transfer and timing overheads).

CPU effective peak: the threads run on the fastest cores of the selection, statically partitioned,
so the slowest of them sets the pace: ``effective_cores(threads) × slowest used core's peak``, with
``threads ** exponent`` inside one L3 cluster. The exponent is ``thread_exponent`` (0.95) for cores
with a private L2 and ``shared_cache_thread_exponent`` (0.6) for clusters whose cores share one L2
(Cortex-A53/A57/A72, Carmel, Tremont): on those the calibration rows gain ~2.3x from four threads,
not ~3.7x (Raspberry Pi 4, Jetson Nano, Celeron, Xavier), whereas Cortex-A76/A78AE boards scale almost
linearly within a cluster. Threads spread over several L3 clusters (profile ``l3.cores``: Jetson Orin's
clusters of four) gain ``clusters ** shared_cache_thread_exponent`` beyond the first cluster's figure.
The validation report (benchmarks/results/predictor_validation.md) scores one exponent for every core
as an ablation.

Accelerators of one architecture family (profile ``architecture``: Adreno, NVIDIA Ampere …) share a
fitted factor, as CPU cores of one family do: a new device then inherits what its siblings showed.

Memory rate (``Hyper.memory_rate``): with ``"unit"`` (the default), bytes are moved at a rate
proportional to the compute unit's fp32 throughput — for a CPU the same ``threads ** exponent
× slowest used core`` as compute, for a GPU its fp32 peak — with the byte cost in FLOP-equivalents
fitted per runtime. At batch 1 the feature maps of these networks sit mostly in caches, so moving
them scales with the cores doing it (a four-thread run of a depthwise network is ~3x faster than a
one-thread run on every board in the calibration file), whereas the DRAM peak does not change with
threads. ``"dram"`` (bytes / theoretical DRAM bandwidth, the earlier model) is scored as an
ablation in the validation report (35.4% against 29.3% when it was replaced). NPUs and
TPUs keep the DRAM rate: their published peaks do not predict their speed on these networks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgekit.errors import BadInputError
from edgekit.predict._coords import ACTIVATION_BYTES, PEAK_CLASS, WEIGHT_BYTES, Coordinates
from edgekit.predict._features import FP32_BYTES, ModelFeatures
from edgekit.predict._params import Hyper
from edgekit.profiles import Accelerator, CpuCluster, DeviceProfile

_MS = 1e3
_GIGA = 1e9
_LAYER_MS = 1e-3  # one microsecond per layer per GHz, so the coefficient reads in µs
# Units whose memory terms use the unit's own rate under Hyper.memory_rate == "unit" (the CPU always does).
_UNIT_RATE_KINDS = frozenset({"gpu"})
# Order in which an accelerator's published peaks stand in for a missing one.
_PEAK_FALLBACK = {"fp32": ("fp32", "fp16", "int8"), "fp16": ("fp16", "fp32", "int8"), "int8": ("int8", "fp16", "fp32")}


@dataclass(frozen=True)
class DevicePoint:
    """What the device contributes at these coordinates."""

    peak_gflops: float
    bandwidth_gbs: float
    clock_ghz: float | None
    family: str | None  # CPU core family or accelerator architecture: keys a fitted factor
    assumed_peak: bool
    memory_gflops: float | None = None  # rate memory terms divide by (FLOP-equivalents/s); None: DRAM bandwidth


def used_cores(profile: DeviceProfile, coords: Coordinates) -> list[CpuCluster]:
    """One entry per CPU core the threads run on, fastest first (capped at the selection's size)."""
    cores = [c for c in profile.cpu.selected(coords.core_selection) for _ in range(c.count)]
    return cores[: coords.threads or len(cores)]


def effective_cores(threads: int, cluster: CpuCluster, hyper: Hyper) -> float:
    """How many cores' worth of throughput ``threads`` statically partitioned threads deliver on ``cluster``'s cores.

    Within one L3 cluster: ``threads ** thread_exponent`` (``shared_cache_thread_exponent`` where the cores
    share one L2). Each further L3 cluster multiplies by ``clusters ** shared_cache_thread_exponent``: those
    threads reach each other only through the system cache or DRAM (Jetson Orin: 4 of 12 threads scale as
    on any private-L2 core, all 12 only ~2x further).
    """
    shares_l2 = cluster.l2 is not None and cluster.l2.shared
    within = min(threads, cluster.l3.cores) if cluster.l3 else threads
    exponent = hyper.shared_cache_thread_exponent if shares_l2 else hyper.thread_exponent
    return within**exponent * (threads / within) ** hyper.shared_cache_thread_exponent


def _cpu_point(profile: DeviceProfile, coords: Coordinates, hyper: Hyper, bandwidth: float) -> DevicePoint:
    cores = used_cores(profile, coords)
    precision = PEAK_CLASS[coords.precision]
    slowest = cores[-1]
    effective = effective_cores(len(cores), slowest, hyper)
    peak = effective * slowest.core_gflops(precision)
    family = slowest.core.split()[0]
    memory = effective * slowest.core_gflops("fp32") if hyper.memory_rate == "unit" else None
    return DevicePoint(peak, bandwidth, max(c.max_ghz.value for c in cores), family, False, memory)


def _first_peak(unit: Accelerator, order: tuple[str, ...]) -> float | None:
    return next((p.value for p in (unit.peak(precision) for precision in order) if p is not None), None)


def device_point(
    profile: DeviceProfile, coords: Coordinates, hyper: Hyper, reference_peaks: dict[str, float]
) -> DevicePoint:
    """The device side of the terms.

    Raises:
        BadInputError: the device has no such compute unit, or no bandwidth figure.
    """
    if profile.memory.bandwidth_gbs is None:
        raise BadInputError(f"profile {profile.id} has no memory bandwidth figure; cannot predict latency")
    bandwidth = profile.memory.bandwidth_gbs.value
    if coords.unit == "cpu":
        return _cpu_point(profile, coords, hyper, bandwidth)
    unit = profile.accelerator(coords.unit)
    if unit is None:
        raise BadInputError(f"device {profile.id} has no {coords.unit} (it has {', '.join(profile.units)})")
    peak = _first_peak(unit, _PEAK_FALLBACK[PEAK_CLASS[coords.precision]])
    assumed = peak is None
    if assumed:
        peak = reference_peaks.get(coords.unit, 1000.0)
    memory = None
    if hyper.memory_rate == "unit" and coords.unit in _UNIT_RATE_KINDS:
        memory = _first_peak(unit, _PEAK_FALLBACK["fp32"]) or peak
    family = f"{unit.kind}:{unit.architecture}" if unit.architecture else None
    return DevicePoint(peak, bandwidth, None, family, assumed, memory)


def terms(features: ModelFeatures, point: DevicePoint, coords: Coordinates, hyper: Hyper) -> np.ndarray:
    """The six latency terms in milliseconds (see the module docstring)."""
    act = ACTIVATION_BYTES[coords.precision] / FP32_BYTES
    weight = WEIGHT_BYTES[coords.precision] / FP32_BYTES
    per_byte_ms = _MS / ((point.memory_gflops or point.bandwidth_gbs) * _GIGA)
    compute_flops = features.dense_flops - hyper.winograd_discount * features.winograd_flops
    layer_scale = 1.0 / point.clock_ghz if point.clock_ghz else 1.0
    return np.array([
        compute_flops / (point.peak_gflops * _GIGA) * _MS,
        features.depthwise_bytes * act * per_byte_ms,
        (features.memory_op_bytes + features.dense_activation_bytes) * act * per_byte_ms,
        features.weight_bytes * weight * per_byte_ms,
        features.layers * layer_scale * _LAYER_MS,
        1.0,
    ])  # fmt: skip


def unit_group(unit: str) -> str:
    """Coefficient group of a compute unit: ``cpu``, ``gpu`` or ``accel`` (NPU/TPU/DSP)."""
    return unit if unit in ("cpu", "gpu") else "accel"
