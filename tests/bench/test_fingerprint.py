"""The host fingerprint: what it records, that its id is stable, and the GPU probe."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from edgekit.bench import _probe as fingerprint_module
from edgekit.bench import fingerprint


def test_fingerprint_records_host_and_versions() -> None:
    fp = fingerprint()
    assert fp.logical_cores >= fp.usable_cores >= 1
    assert fp.cpu_model
    assert fp.tool_versions["onnxruntime"]
    assert fp.tool_versions["numpy"]
    assert fp.tool_versions["edgekit"]
    assert re.fullmatch(r"[a-z0-9-]+-\d+cpu-[0-9a-f]{10}", fp.id)


def test_id_is_stable_and_changes_with_versions() -> None:
    fp = fingerprint()
    assert fp.model_copy().id == fp.id
    upgraded = fp.model_copy(update={"tool_versions": fp.tool_versions | {"onnxruntime": "99.0"}})
    assert upgraded.id != fp.id


def test_gpu_name_from_nvidia_smi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 'NVIDIA H100 80GB HBM3'\n")
    smi.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert fingerprint_module.gpu_name() == "NVIDIA H100 80GB HBM3"


def test_gpu_name_none_without_nvidia_smi(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert fingerprint_module.gpu_name() is None


def test_probe_without_psutil_reads_the_same_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    # Boards have no psutil: the sysfs / meminfo fallbacks must give the figures psutil gives here.
    import psutil

    expected = (psutil.cpu_count(logical=False), round(psutil.virtual_memory().total / 2**20, 1))
    assert (fingerprint_module.physical_cores(), fingerprint_module.memory_total_mb()) == expected
    monkeypatch.setitem(sys.modules, "psutil", None)  # `import psutil` now raises ImportError
    assert (fingerprint_module.physical_cores(), fingerprint_module.memory_total_mb()) == expected


def test_arm_core_names_come_from_cpu_part_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xd08\n\n"
                       "processor\t: 1\nCPU implementer\t: 0x41\nCPU part\t: 0xd08\n")  # fmt: skip
    monkeypatch.setattr(fingerprint_module, "_CPUINFO", cpuinfo)
    assert fingerprint_module.core_types() == {"Cortex-A72": 2}
    assert fingerprint_module.cpu_model() == "2x Cortex-A72"
