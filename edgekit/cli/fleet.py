"""`edgekit fleet up|join|status|down`: the boards of a lab as one Ray cluster."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from edgekit.cli._common import console, guarded, print_json
from edgekit.errors import BadInputError
from edgekit.fleet import _cluster

ACTIONS = ("up", "join", "status", "down")
# Options that only some actions take: given to another, they are refused rather than ignored.
_ONLY = {"--address": ("up", "join", "status"), "--profile": ("up", "join"), "--print": ("join",),
         "--ip": ("up",), "--port": ("up",), "--num-cpus": ("join",), "--link": ("join",)}  # fmt: skip


@guarded
def fleet(
    action: Annotated[str, typer.Argument(help="up | join | status | down")],
    address: Annotated[
        str | None,
        typer.Option(help="up: adopt this cluster instead of starting a head; join/status: the cluster (ip:port)"),
    ] = None,
    profile: Annotated[
        str | None, typer.Option(help="join: the board's device profile (up: the workstation is a board too)")
    ] = None,
    print_only: Annotated[bool, typer.Option("--print", help="join: print the `ray start` line, run nothing")] = False,
    ip: Annotated[str, typer.Option(help="up: the head's address (a LAN address for boards elsewhere)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="up: the head's port")] = _cluster.DEFAULT_PORT,
    num_cpus: Annotated[int | None, typer.Option(help="join: CPUs the node offers Ray (default: all)")] = None,
    link: Annotated[
        str | None,
        typer.Option(help="join: this node stands for a board without Ray, measured over ssh://user@host[:port]"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Start (up) or stop (down) the fleet's head, join a board to it, or show what every board runs (status)."""
    if action not in ACTIONS:
        raise BadInputError(f"fleet takes one of {', '.join(ACTIONS)}, got {action!r}")
    given = {"--address": address is not None, "--profile": profile is not None, "--print": print_only,
             "--ip": ip != "127.0.0.1", "--port": port != _cluster.DEFAULT_PORT,
             "--num-cpus": num_cpus is not None, "--link": link is not None}  # fmt: skip
    for option, actions in _ONLY.items():
        if given[option] and action not in actions:
            raise BadInputError(f"{option} is an option of `fleet {' / '.join(actions)}`, not of `fleet {action}`")
    if profile is not None:
        profile = _cluster.check_profile(profile)
    if action == "up":
        state = _cluster.up(address, ip, port, profile)
        _show(as_json, state, f"fleet head at {state.address}" + (" (adopted)" if not state.started_here else "")
              + f"; boards join with `edgekit fleet join --address {state.address} --profile <profile>`")  # fmt: skip
    elif action == "join":
        _join(address, profile, print_only, num_cpus, link, as_json)
    elif action == "status":
        _print_status(_cluster.status(address), as_json)
    else:
        state = _cluster.down()
        _show(as_json, state, f"fleet at {state.address} " + ("stopped" if state.started_here else "forgotten")
              if state else "no fleet was recorded here; nothing stopped")  # fmt: skip


def _show(as_json: bool, value: object, line: str) -> None:
    if as_json:
        print_json(value)
    else:
        console.print(Text(line))


def _join(address: str | None, profile: str | None, print_only: bool, num_cpus: int | None, link: str | None,
          as_json: bool) -> None:  # fmt: skip
    address = address or _cluster.saved_address()
    if address is None or profile is None:
        raise BadInputError("fleet join needs --address (the head's ip:port) and --profile (the board's profile)")
    env = _cluster.join_env(link)
    command = _cluster.join_command(address, profile, num_cpus)
    line = _cluster.shell_line(command, env)
    if not print_only:
        _cluster.run_ray(command, env)
    _show(as_json, {"command": line, "ran": not print_only}, line if print_only else f"joined: {line}")


def _print_status(status: _cluster.FleetStatus, as_json: bool) -> None:
    if as_json:
        print_json(status)
        return
    table = Table(title=f"edgekit fleet at {status.address} — {status.nodes} alive node(s)")
    for header in ("node", "ip", "profile", "alive", "running", "for"):
        table.add_column(header)
    for board in status.boards:
        since = f"{time.time() - board.since:.0f} s" if board.since else ""
        table.add_row(board.node_id[:12], board.ip, ", ".join(board.profiles), "yes" if board.alive else "DEAD",
                      board.running or "idle", since)  # fmt: skip
    console.print(table)
    if not status.boards:
        console.print(Text("no board has joined: `edgekit fleet join --address <head> --profile <profile>`"))
