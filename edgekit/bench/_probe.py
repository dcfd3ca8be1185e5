"""What a machine is: CPU, cores, RAM, GPU, OS — the fields of a host fingerprint, plus board facts.

Portable: standard library only (psutil where installed), Python >= 3.9; shipped verbatim to boards
(see :mod:`edgekit.devices.bundle`), so a board's fingerprint is read exactly like this machine's.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path

_NVIDIA_SMI_TIMEOUT_S = 10
_CPUINFO = Path("/proc/cpuinfo")
_MEMINFO = Path("/proc/meminfo")
_SYS_CPU = Path("/sys/devices/system/cpu")
_OS_RELEASE = Path("/etc/os-release")
# /proc/cpuinfo keys naming the CPU: x86 "model name", older ARM kernels "Hardware", some SoCs "cpu model".
_MODEL_KEYS = ("model name", "hardware", "cpu model")
# ARM cores by MIDR part number (Arm Ltd's, plus NVIDIA's Carmel): aarch64 kernels print no model name.
ARM_PARTS = {"0xd03": "Cortex-A53", "0xd04": "Cortex-A35", "0xd05": "Cortex-A55", "0xd07": "Cortex-A57",
             "0xd08": "Cortex-A72", "0xd09": "Cortex-A73", "0xd0a": "Cortex-A75", "0xd0b": "Cortex-A76",
             "0xd0c": "Neoverse-N1", "0xd0d": "Cortex-A77", "0xd0e": "Cortex-A76AE", "0xd40": "Neoverse-V1",
             "0xd41": "Cortex-A78", "0xd42": "Cortex-A78AE", "0xd44": "Cortex-X1", "0xd46": "Cortex-A510",
             "0xd47": "Cortex-A710", "0xd48": "Cortex-X2", "0xd49": "Neoverse-N2", "0xd4b": "Cortex-A78C",
             "0xd4d": "Cortex-A715", "0xd4e": "Cortex-X3", "0xd4f": "Neoverse-V2", "0xd80": "Cortex-A520",
             "0xd81": "Cortex-A720", "0xd82": "Cortex-X4", "0x004": "Carmel"}  # fmt: skip


def _cpuinfo_lines() -> list[str]:
    return _CPUINFO.read_text(errors="replace").splitlines() if _CPUINFO.is_file() else []


def cpu_model() -> str:
    """The CPU's name: /proc/cpuinfo, else the ARM core names by part number, else what platform says."""
    lines = _cpuinfo_lines()
    for line in lines:
        if line.lower().startswith(_MODEL_KEYS):
            return line.split(":", 1)[1].strip()
    cores = core_types()
    if cores:
        return " + ".join(f"{n}x {name}" for name, n in cores.items())
    return platform.processor() or platform.machine() or "unknown"


def core_types() -> dict[str, int]:
    """ARM core type -> count, from the ``CPU part`` lines of /proc/cpuinfo (empty elsewhere)."""
    found: dict[str, int] = {}
    for line in _cpuinfo_lines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "cpu part":
            name = ARM_PARTS.get(value.strip().lower(), f"ARM part {value.strip()}")
            found[name] = found.get(name, 0) + 1
    return found


def gpu_name() -> str | None:
    """The first GPU per nvidia-smi, if any."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        out = subprocess.run([smi, "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=_NVIDIA_SMI_TIMEOUT_S, check=False)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    names = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    return names[0] if out.returncode == 0 and names else None


def usable_cores() -> int:
    """CPUs this process may run on: the default thread count of every runner."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def physical_cores() -> int | None:
    """Physical cores: psutil's count where installed, else distinct (package, core) pairs of sysfs."""
    try:
        import psutil
    except ImportError:
        pairs = set()
        for topology in _SYS_CPU.glob("cpu[0-9]*/topology"):
            try:
                pairs.add(((topology / "physical_package_id").read_text(), (topology / "core_id").read_text()))
            except OSError:
                continue
        return len(pairs) or None
    return psutil.cpu_count(logical=False)


def memory_total_mb() -> float:
    """Total RAM in MiB (psutil where installed, else MemTotal of /proc/meminfo: the same figure)."""
    try:
        import psutil
    except ImportError:
        for line in _MEMINFO.read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) * 1024 / 2**20, 1)
        raise
    return round(psutil.virtual_memory().total / 2**20, 1)


def machine_fields() -> dict[str, object]:
    """The fields of :class:`edgekit.bench.HostFingerprint` besides ``tool_versions``."""
    return {
        "cpu_model": cpu_model(), "logical_cores": os.cpu_count() or 1, "physical_cores": physical_cores(),
        "usable_cores": usable_cores(), "memory_total_mb": memory_total_mb(), "gpu_name": gpu_name(),
        "os": f"{platform.system()}-{platform.release()}", "machine": platform.machine(),
        "python": platform.python_version(),
    }  # fmt: skip


def load_average() -> float | None:
    """The 1-minute load average (runnable threads, ours included), where the OS reports one."""
    try:
        return os.getloadavg()[0]
    except OSError:  # not available on this platform
        return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def _os_name() -> str | None:
    text = _read(_OS_RELEASE) or ""
    for line in text.splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return None


def board_facts() -> dict[str, object]:
    """What a fingerprint leaves out but a board check shows: OS name, kernel, page size, cores, clocks."""
    cpu0 = _SYS_CPU / "cpu0" / "cpufreq"
    cur, top = _read(cpu0 / "scaling_cur_freq"), _read(cpu0 / "cpuinfo_max_freq")
    return {
        "os_name": _os_name(), "kernel": platform.release(), "page_size": os.sysconf("SC_PAGE_SIZE"),
        "core_types": core_types(), "governor": _read(cpu0 / "scaling_governor"),
        "cur_mhz": int(cur) / 1000 if cur and cur.isdigit() else None,
        "max_mhz": int(top) / 1000 if top and top.isdigit() else None,
    }  # fmt: skip
