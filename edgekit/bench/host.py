"""The environment a number was measured in: CPU, cores, GPU, OS and tool versions.

The fingerprint is gathered without importing torch (``nvidia-smi`` names the GPU) so that
commands stay fast; its ``id`` is a stable digest usable as ``Provenance.host`` and as a key of
the results store: results measured with a different CPU, OS or tool version never mix.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

from edgekit._versions import package_versions
from edgekit.bench._probe import machine_fields, usable_cores

__all__ = ["CORE_PACKAGES", "HostFingerprint", "fingerprint", "tool_versions", "tracked_packages", "usable_cores"]
from edgekit.runtimes import runtime_packages

# Packages whose versions change measured numbers besides the runtimes' own (edgekit.runtimes declares
# those); missing ones are left out.
CORE_PACKAGES = ("edgekit", "onnx", "numpy")
_ID_DIGEST_CHARS = 10


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


def tracked_packages() -> tuple[str, ...]:
    """The packages whose versions a fingerprint records: edgekit's core and every runtime's."""
    return tuple(dict.fromkeys((*CORE_PACKAGES, *runtime_packages())))


def tool_versions(packages: tuple[str, ...] | None = None) -> dict[str, str]:
    """Installed versions of ``packages`` (default: :func:`tracked_packages`; absent ones are left out)."""
    packages = tracked_packages() if packages is None else packages
    return {package: v for package, v in package_versions(packages).items() if v is not None}


@lru_cache(maxsize=1)
def fingerprint() -> HostFingerprint:
    """Describe this host (cached for the process)."""
    return HostFingerprint(**machine_fields(), tool_versions=tool_versions())
