"""What a board is (its fingerprint, read on the board) and whether it is the device its profile describes."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from edgekit import __version__
from edgekit.bench.host import HostFingerprint, tracked_packages
from edgekit.devices.board import Board
from edgekit.profiles import DeviceProfile

RUNNER_TOOL = "edgekit-board-runner"  # the tool that measures on a board, in its fingerprint's versions
_PROBE_TIMEOUT_S = 60.0
# RAM the OS reports vs the profile's: kernels reserve some, so only a clearly different size is a mismatch.
_RAM_TOLERANCE = (0.75, 1.1)
# Profile ISA prefixes -> the architectures platform.machine() reports for them.
_ARCHES = {"armv8": ("aarch64", "arm64"), "armv9": ("aarch64", "arm64"), "armv7": ("armv7l",),
           "x86": ("x86_64", "amd64"), "x86-64": ("x86_64", "amd64")}  # fmt: skip


class BoardCheck(BaseModel):
    """A board's answer to a probe: fingerprint, board facts, which runners it can time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    board: str
    link: str
    python: str
    fingerprint: HostFingerprint
    facts: dict[str, Any] = Field(description="OS name, kernel, page size, ARM core types, governor, clocks")
    runtimes: dict[str, str | None] = Field(description="runner -> None when it can time, else why not")
    profile: str | None = None
    mismatches: list[str] = Field(default_factory=list, description="how the board differs from the profile")
    checked_at: datetime

    @property
    def timeable(self) -> list[str]:
        """Runners the board can time."""
        return [name for name, why in self.runtimes.items() if why is None]


def board_fingerprint(machine: dict[str, Any], versions: dict[str, str]) -> HostFingerprint:
    """The board's fingerprint: its own machine fields and package versions, plus the runner's version."""
    return HostFingerprint(**machine, tool_versions=versions | {RUNNER_TOOL: __version__})


def probe(board: Board, profile: DeviceProfile | None = None, *, ship: bool = True) -> BoardCheck:
    """Ask the board what it is (shipping the runner first unless the caller did) and compare it with ``profile``.

    Raises:
        BoardError: the link or the runner failed.
    """
    if ship:
        board.ship([])
    packages = [p for p in tracked_packages() if p != "edgekit"]  # edgekit itself does not run there
    answer = board.call("probe", {"packages": packages}, _PROBE_TIMEOUT_S)
    fp = board_fingerprint(answer["machine"], answer["versions"])
    facts = answer["facts"]
    return BoardCheck(board=board.label.id, link=board.label.link, python=board.python, fingerprint=fp, facts=facts,
                      runtimes=answer["runtimes"], profile=profile.id if profile else None,
                      mismatches=profile_mismatches(fp, facts, profile) if profile else [],
                      checked_at=datetime.now(timezone.utc))  # fmt: skip


def profile_mismatches(fp: HostFingerprint, facts: dict[str, Any], profile: DeviceProfile) -> list[str]:
    """How the board differs from ``profile``: core types, core count, architecture, RAM (empty: it matches)."""
    found = []
    expected = {c.core: c.count for c in profile.cpu.clusters}
    reported = facts.get("core_types") or {}
    named = " ".join([fp.cpu_model, *reported]).lower()
    if not all(_core_reported(core, profile.name, named) for core in expected):
        want = " + ".join(f"{n}x {c}" for c, n in expected.items())
        found.append(f"{profile.id} has {want}; the board reports {fp.cpu_model}")
    if fp.logical_cores != profile.cpu.cores:
        found.append(f"{profile.id} has {profile.cpu.cores} cores; the board reports {fp.logical_cores}")
    arches = next((a for prefix, a in _ARCHES.items() if profile.cpu.isa.lower().startswith(prefix)), None)
    if arches and fp.machine.lower() not in arches:
        found.append(f"{profile.id} is {profile.cpu.isa}; the board runs {fp.machine}")
    ram = profile.memory.ram_total_mb.value
    low, high = _RAM_TOLERANCE
    if not low * ram <= fp.memory_total_mb <= high * ram:
        found.append(f"{profile.id} has {ram:.0f} MB of RAM; the board reports {fp.memory_total_mb:.0f} MB")
    return found


def _core_reported(core: str, profile_name: str, named: str) -> bool:
    """Whether the board names the profile's core: its Cortex/Neoverse numbers (``A78`` of "Kryo 670 Gold
    (Cortex-A78 class)", ``A715`` or ``A710`` of "Cortex-A715/A710"), else the core's own name (``AMD EPYC``,
    ``Carmel``), else a model number of the profile's name (``N5105`` for a Tremont Celeron)."""
    numbers = re.findall(r"(?<![a-z])[axm]\d{1,3}[a-z]*", core.lower().replace("cortex-", " ").replace("/", " "))
    if numbers:
        return any(re.search(rf"(?<![a-z0-9]){n}(?![0-9])", named) for n in numbers)
    models = [w for w in re.findall(r"[a-z0-9-]+", profile_name.lower()) if len(w) >= 4 and any(c.isdigit() for c in w)]
    return core.lower() in named or any(m in named for m in models)
