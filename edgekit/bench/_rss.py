"""Resident memory of this process: current RSS, peak RSS, and resetting the peak between cells.

Portable: standard library only, Python >= 3.9; shipped verbatim to boards (see
:mod:`edgekit.devices.bundle`), so a board's peak RSS is read exactly like this machine's.
"""

from __future__ import annotations

import gc
import os
import resource
import sys
from pathlib import Path

_MB = 2**20
# ru_maxrss is in KiB on Linux, bytes on macOS.
_MAXRSS_UNIT = 1 if sys.platform == "darwin" else 1024
_PROC_STATUS = Path("/proc/self/status")
_PROC_STATM = Path("/proc/self/statm")
_CLEAR_REFS = Path("/proc/self/clear_refs")
_RESET_PEAK_RSS = "5"  # proc(5): writing 5 to clear_refs resets the peak RSS to the current RSS


def rss_mb() -> float:
    """This process's current RSS (Linux: resident pages of /proc/self/statm, as psutil reads it)."""
    if _PROC_STATM.is_file():
        return int(_PROC_STATM.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / _MB
    import psutil  # elsewhere (macOS, Windows) psutil is the portable reader

    return psutil.Process().memory_info().rss / _MB


def peak_rss_mb() -> float:
    """This process's peak RSS.

    Linux: VmHWM of /proc/self/status, which belongs to the post-exec address space. getrusage's
    ru_maxrss would not do: Linux carries the parent's high-water mark across fork + exec.
    """
    if _PROC_STATUS.is_file():
        for line in _PROC_STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / _MB  # reported in kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * _MAXRSS_UNIT / _MB


def reset_peak_rss() -> bool:
    """Drop garbage and reset the high-water mark; False where the OS does not allow it."""
    gc.collect()
    try:
        _CLEAR_REFS.write_text(_RESET_PEAK_RSS)
    except OSError:
        return False
    return True
