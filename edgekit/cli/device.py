"""`edgekit device check LINK`: what a board is and whether it matches its profile; `edgekit devices`: the boards."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from edgekit.cli._common import console, err_console, guarded, print_json
from edgekit.devices import BoardCheck, last_check, load_devices, probe, resolve_board, save_check
from edgekit.devices.config import devices_path
from edgekit.errors import BadInputError, StoreError
from edgekit.profiles import get_profile
from edgekit.store import ResultsStore

ACTIONS = ("check",)


@guarded
def device(
    action: Annotated[str, typer.Argument(help="check")],
    link: Annotated[str, typer.Argument(help="ssh://user@host[:port] or a board of devices.yaml")],
    profile: Annotated[str | None, typer.Option("--profile", help="the device profile the board should match")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Read a board's fingerprint over its link, list the runtimes it can time, compare it with its profile."""
    if action not in ACTIONS:
        raise BadInputError(f"unknown device action {action!r}; use: {', '.join(ACTIONS)}")
    board = resolve_board(link, need_profile=False)  # --profile here is what to compare with, not a label
    if board is None:
        raise BadInputError("device check needs a board: ssh://user@host[:port] or a board of devices.yaml")
    wanted = profile or (board.label.profile if board.label.profile != "unknown" else None)
    check = probe(board, get_profile(wanted) if wanted else None)
    try:
        save_check(check, ResultsStore())
    except StoreError as exc:  # a read-only or broken store: the check itself still stands
        err_console.print(Text(f"warning: the check is not kept for `edgekit devices`: {exc}"), soft_wrap=True)
    if as_json:
        print_json(check.model_dump(mode="json") | {"fingerprint_id": check.fingerprint.id})
        return
    for line in check_lines(check):
        console.print(Text(line), soft_wrap=True)
    for mismatch in check.mismatches:
        err_console.print(Text(f"warning: the board does not match profile {check.profile}: {mismatch}"),
                          soft_wrap=True)  # fmt: skip


def check_lines(check: BoardCheck) -> list[str]:
    """The check as aligned ``label  value`` lines."""
    fp, facts = check.fingerprint, check.facts
    clock = "; ".join(part for part in (
        f"governor {facts['governor']}" if facts.get("governor") else "",
        f"{facts['cur_mhz']:.0f} MHz now" if facts.get("cur_mhz") else "",
        f"max {facts['max_mhz']:.0f} MHz" if facts.get("max_mhz") else "") if part) or "not readable"  # fmt: skip
    cores = ", ".join(f"{n}x {name}" for name, n in (facts.get("core_types") or {}).items())
    versions = ", ".join(f"{k} {v}" for k, v in sorted(fp.tool_versions.items()))
    blocked = [f"{name} ({why})" for name, why in check.runtimes.items() if why]
    match = "—" if check.profile is None else f"{check.profile}: {_verdict(check)}"
    rows = [
        ("board", f"{check.board} ({check.link}), python {check.python}"),
        ("fingerprint", fp.id),
        ("CPU", f"{fp.cpu_model}{f' [{cores}]' if cores else ''}, {fp.logical_cores} logical / "
                f"{fp.physical_cores or '?'} physical cores ({fp.usable_cores} usable), {fp.machine}"),
        ("RAM", f"{fp.memory_total_mb:.0f} MB"),
        ("OS", f"{facts.get('os_name') or fp.os}, kernel {facts.get('kernel')}, page size {facts.get('page_size')} B"),
        ("CPU clock", clock),
        ("GPU", fp.gpu_name or "none"),
        ("Python", f"{fp.python}; {versions}"),
        ("can time", ", ".join(check.timeable) or "nothing (install a runtime: python3 -m pip install onnxruntime)"),
        ("cannot time", ", ".join(blocked) or "—"),
        ("profile", match),
    ]  # fmt: skip
    return [f"{label:<12} {value}" for label, value in rows]


@guarded
def devices(as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False) -> None:
    """List the boards configured in $EDGEKIT_HOME/devices.yaml with their last check."""
    boards = load_devices().boards
    store = ResultsStore(read_only=True)
    checks = {b.id: last_check(b.id, store) for b in boards}
    if as_json:
        print_json({"file": str(devices_path()), "boards": [
            b.model_dump(mode="json") | {"last_check": c.model_dump(mode="json") if (c := checks[b.id]) else None}
            for b in boards]})  # fmt: skip
        return
    if not boards:
        console.print(Text(f"no boards configured; add them to {devices_path()} (see README: Measuring on your board)"))
        return
    table = Table(title=f"boards ({devices_path()})")
    for header in ("id", "profile", "link", "runtimes", "last check"):
        table.add_column(header, overflow="fold")
    for b in boards:
        table.add_row(b.id, b.profile, b.link, ", ".join(b.runtimes), _last(checks[b.id]))
    console.print(table)


def _verdict(check: BoardCheck) -> str:
    return "matches" if not check.mismatches else f"DOES NOT MATCH ({len(check.mismatches)} differences, see warnings)"


def _last(check: BoardCheck | None) -> str:
    if check is None:
        return "never (edgekit device check ID)"
    verdict = f"{check.profile}: {_verdict(check)}" if check.profile else "no profile"
    when = check.checked_at.strftime("%Y-%m-%d %H:%M UTC")
    return f"{when}: {check.fingerprint.cpu_model}, {verdict}, times {', '.join(check.timeable) or 'nothing'}"
