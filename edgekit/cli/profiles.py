"""`edgekit profiles`: the device profiles with their headline figures and the kind of each."""

from __future__ import annotations

from typing import Annotated

import typer

from edgekit.cli._common import Wide, console, guarded, matching, plural, print_json
from edgekit.cli._table import Col, print_fitted
from edgekit.profiles import DeviceProfile, Sourced, list_profiles, load_profiles

# Column importance on a narrow terminal (higher stays longer).
_COLUMNS = [Col("profile"), Col("RAM usable", 90, no_wrap=True), Col("CPU", 60), Col("CPU fp32 GFLOPS", 50),
            Col("accelerators (GFLOPS / GOPS)", 70), Col("DRAM GB/s", 40), Col("power modes", 30),
            Col("targets", 80, runtimes=True)]  # fmt: skip
_KIND_MARK = {"published": "", "measured": "m", "derived": "d", "estimated": "e"}


def _fmt(value: Sourced | None, digits: int = 3) -> str:
    if value is None:
        return "—"
    mark = _KIND_MARK[value.kind] + ("?" if value.unverified else "")
    return f"{value.value:.{digits}g}{'' if not mark else ' ' + mark}"


def _mb(value: Sourced | None) -> str:
    if value is None:
        return "—"
    shown = f"{value.value / 1024:.3g} GB" if value.value >= 1024 else f"{value.value:.3g} MB"
    mark = _KIND_MARK[value.kind] + ("?" if value.unverified else "")
    return f"{shown} {mark}".rstrip()


def _accelerators(profile: DeviceProfile) -> str:
    parts = []
    for unit in profile.accelerators:
        peaks = [f"{p} {_fmt(unit.peak(p))}" for p in ("fp32", "fp16", "int8") if unit.peak(p)]
        parts.append(f"{unit.kind}: {', '.join(peaks) if peaks else 'peak not published'}")
    return "; ".join(parts) or "—"


def _power(profile: DeviceProfile) -> str:
    modes = [f"{m.name} {_fmt(m.watts)} W" if m.watts else f"{m.name} ? W" for m in profile.power_modes]
    return ", ".join(modes)


@guarded
def profiles(
    pattern: Annotated[
        str | None,
        typer.Argument(metavar="[PATTERN]", help="a word in the profile id (e.g. jetson) or an fnmatch pattern"),
    ] = None,
    wide: Wide = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output (every number with source)")] = False,
) -> None:
    """Device profiles: RAM, CPU and accelerator peaks, bandwidth, power modes, targets.

    Examples: edgekit profiles · edgekit profiles jetson · edgekit profiles rk3588 --json
    """
    chosen = [load_profiles()[pid] for pid in matching(list_profiles(), pattern, "profile")]
    if as_json:
        print_json(chosen)
        return
    rows = []
    for p in chosen:
        cpu = ", ".join(f"{c.count}x {c.core} @{c.max_ghz.value:g} GHz" for c in p.cpu.clusters)
        rows.append([p.id, _mb(p.memory.ram_usable_mb), cpu, f"{p.cpu.peak_gflops('fp32'):.3g} d", _accelerators(p),
                     _fmt(p.memory.bandwidth_gbs), _power(p), ", ".join(p.targets)])  # fmt: skip
    print_fitted(
        console,
        _COLUMNS,
        rows,
        wide,
        title="device profiles — m measured, d derived, e estimated, ? unverified; unmarked = published",
    )
    console.print(
        f"{plural(len(chosen), 'profile')}. Sources of every figure: `edgekit profiles --json` or profiles/<id>.yaml."
    )
