"""Measure this machine into a profile (``profiles/host.yaml``): cores, clock, RAM, disk, bandwidth.

Run by ``benchmarks/measure_host_profile.py``. Peak FP32 per cycle is derived from the CPU flags
(AVX-512 / AVX2+FMA / AVX / SSE vector widths); memory bandwidth and a BLAS GEMM rate are measured
with numpy (best of several repeats, since this machine is shared and noisy).
"""

from __future__ import annotations

import os
import platform
import time
from datetime import date
from pathlib import Path
from typing import Any

import psutil

from edgekit.targets._converter import timed_targets

_MB = 2**20
# FP32 FLOP per cycle per core by widest vector extension, counting two FMA pipes (Zen 2+/Skylake+).
_FLOPS_PER_CYCLE_BY_FLAG = (("avx512f", 64), ("fma", 32), ("avx", 16), ("sse2", 8))
_COPY_MB = 256  # larger than any last-level cache here (32 MB), so the copy streams DRAM
_GEMM_N = 2048
_REPEATS = 5


def _cpuinfo() -> dict[str, str]:
    info: dict[str, str] = {}
    path = Path("/proc/cpuinfo")
    if path.is_file():
        for line in path.read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    return info


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return psutil.cpu_count(logical=True) or 1


def _flops_per_cycle(flags: set[str]) -> tuple[int, str]:
    for flag, flops in _FLOPS_PER_CYCLE_BY_FLAG:
        if flag in flags:
            return flops, flag
    return 2, "scalar"


def measure_bandwidth_gbs() -> float:
    """Best-of-N numpy copy bandwidth, counting bytes read plus bytes written."""
    import numpy as np

    src = np.ones(_COPY_MB * _MB // 4, dtype=np.float32)
    dst = np.empty_like(src)
    best = float("inf")
    for _ in range(_REPEATS):
        start = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - start)
    return 2 * src.nbytes / best / 1e9


def measure_gemm_gflops() -> float:
    """Best-of-N fp32 GEMM rate of numpy's BLAS on all usable cores (a lower bound of the peak)."""
    import numpy as np

    a = np.random.default_rng(0).random((_GEMM_N, _GEMM_N), dtype=np.float32)
    best = float("inf")
    for _ in range(_REPEATS):
        start = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - start)
    return 2 * _GEMM_N**3 / best / 1e9


def _measured(value: float, how: str, note: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"value": round(value, 3), "kind": "measured", "source": how}
    if note:
        entry["note"] = note
    return entry


def measure_host_profile(storage_path: Path) -> dict[str, Any]:
    """Measure this machine and return a profile document (``schema_version`` 1, id ``host``)."""
    info = _cpuinfo()
    flags = set(info.get("flags", "").split())
    flops, flag = _flops_per_cycle(flags)
    ghz = float(info.get("cpu MHz", 0) or (psutil.cpu_freq().current if psutil.cpu_freq() else 0)) / 1000
    cores = _usable_cores()
    vm = psutil.virtual_memory()
    gemm = measure_gemm_gflops()
    stamp = f"measured on {date.today().isoformat()} by benchmarks/measure_host_profile.py"
    model = info.get("model name", platform.processor() or "unknown CPU")
    return {
        "schema_version": 1,
        "id": "host",
        "name": f"This machine ({model}, {cores} cores)",
        "vendor": "local",
        "form_factor": "host",
        "description": f"{platform.system()} {platform.machine()}; {model}; measured, not published.",
        "boards": [platform.node() or "localhost"],
        "cpu": {
            "isa": platform.machine(),
            "clusters": [{
                "name": "all", "core": model, "count": cores,
                "max_ghz": _measured(ghz, "/proc/cpuinfo 'cpu MHz' (as the hypervisor reports it)"),
                "fp32_flops_per_cycle": {
                    "value": flops, "kind": "derived",
                    "source": f"CPU flag {flag!r}: vector width x 2 FMA pipes",
                    "note": f"numpy fp32 GEMM reached {gemm:.0f} GFLOPS on {cores} cores ({stamp})",
                },
            }],  # fmt: skip
        },
        "memory": {
            "ram_total_mb": _measured(vm.total / _MB, "psutil.virtual_memory().total"),
            "ram_usable_mb": _measured(vm.available / _MB, "psutil.virtual_memory().available", stamp),
            "storage_mb": _measured(psutil.disk_usage(str(storage_path)).free / _MB, "free disk (psutil)"),
            "bandwidth_gbs": _measured(measure_bandwidth_gbs(), f"numpy copy of {_COPY_MB} MB, read+write, best of "
                                       f"{_REPEATS}", "a measured stream rate, not a theoretical peak"),
        },  # fmt: skip
        "power_modes": [{
            "name": "default",
            "clock_scale": {"value": 1.0, "kind": "derived", "source": "reference mode"},
        }],  # fmt: skip
        "default_power_mode": "default",
        "targets": list(timed_targets()),  # what the runtimes convert and time on this CPU
        "notes": [f"All figures {stamp}; the machine is shared, so rates are noisy lower bounds.",
                  "Power draw is not measurable from inside this VM: energy is not predicted for host."],
    }  # fmt: skip
