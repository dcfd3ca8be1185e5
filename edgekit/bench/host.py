"""The environment a number was measured in: CPU, cores, GPU, OS and tool versions.

The fingerprint is gathered without importing torch (``nvidia-smi`` names the GPU) so that
commands stay fast; its ``id`` is a stable digest usable as ``Provenance.host`` and as a key of
the results store: results measured with a different CPU, OS or tool version never mix.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import psutil
from pydantic import BaseModel, ConfigDict, Field

from edgekit._versions import package_versions
from edgekit.runtimes import runtime_packages

# Packages whose versions change measured numbers besides the runtimes' own (edgekit.runtimes declares
# those); missing ones are left out.
CORE_PACKAGES = ("edgekit", "onnx", "numpy")
_ID_DIGEST_CHARS = 10
_NVIDIA_SMI_TIMEOUT_S = 10


class HostFingerprint(BaseModel):
    """Where a measurement ran. ``threads`` used is recorded per measurement, not here."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cpu_model: str
    logical_cores: int
    physical_cores: int | None
    usable_cores: int = Field(description="CPUs this process may run on (affinity mask)")
    memory_total_mb: float
    gpu_name: str | None = Field(None, description="first GPU per nvidia-smi, if any")
    os: str = Field(description="system and kernel release, e.g. Linux-6.8.0")
    machine: str
    python: str
    tool_versions: dict[str, str]

    @property
    def id(self) -> str:
        """A stable, readable id: ``<cpu-slug>-<N>cpu-<digest>``."""
        payload = self.model_dump_json().encode()
        digest = hashlib.sha256(payload).hexdigest()[:_ID_DIGEST_CHARS]
        slug = re.sub(r"[^a-z0-9]+", "-", self.cpu_model.lower()).strip("-")[:24] or "cpu"
        return f"{slug}-{self.usable_cores}cpu-{digest}"


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown"


def _gpu_name() -> str | None:
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


def tracked_packages() -> tuple[str, ...]:
    """The packages whose versions a fingerprint records: edgekit's core and every runtime's."""
    return tuple(dict.fromkeys((*CORE_PACKAGES, *runtime_packages())))


def tool_versions(packages: tuple[str, ...] | None = None) -> dict[str, str]:
    """Installed versions of ``packages`` (default: :func:`tracked_packages`; absent ones are left out)."""
    packages = tracked_packages() if packages is None else packages
    return {package: v for package, v in package_versions(packages).items() if v is not None}


def usable_cores() -> int:
    """CPUs this process may run on: the default thread count of every runner."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@lru_cache(maxsize=1)
def fingerprint() -> HostFingerprint:
    """Describe this host (cached for the process)."""
    return HostFingerprint(
        cpu_model=_cpu_model(),
        logical_cores=os.cpu_count() or 1,
        physical_cores=psutil.cpu_count(logical=False),
        usable_cores=usable_cores(),
        memory_total_mb=round(psutil.virtual_memory().total / 2**20, 1),
        gpu_name=_gpu_name(),
        os=f"{platform.system()}-{platform.release()}",
        machine=platform.machine(),
        python=platform.python_version(),
        tool_versions=tool_versions(),
    )
