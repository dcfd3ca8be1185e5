"""The fleet itself: start or adopt a head (``fleet up``), the ``ray start`` line a board runs to join
(``fleet join``), what every board is doing (``fleet status``), and stopping the head (``fleet down``).

The address in use is kept in ``$EDGEKIT_HOME/fleet.json`` so that ``sweep`` and ``status`` find it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
from pydantic import Field

from edgekit.devices.link import parse_link
from edgekit.errors import BadInputError, EdgekitError, summarize_message
from edgekit.fileio import write_json_atomic
from edgekit.fleet._ray import BOARD_LINK_ENV, connect, import_ray, node_profiles, resource_name
from edgekit.fleet._tracker import TRACKER_PREFIX
from edgekit.paths import edgekit_home, system_temp_dir
from edgekit.profiles import get_profile
from edgekit.vocab import StrictModel

STATE_FILE = "fleet.json"
DEFAULT_PORT = 6379
_RAY_START_TIMEOUT_S = 120
_STOP_GRACE_S = 3  # GCS and raylets drain for 10+ s on SIGTERM; a fleet going down keeps no state


class FleetState(StrictModel):
    """The cluster this workstation uses, and whether ``fleet up`` started its head here."""

    address: str
    started_here: bool
    temp_dir: str | None = Field(None, description="Ray's folder of a head started here (what down stops)")


class BoardStatus(StrictModel):
    """One node that stands for a board."""

    node_id: str
    ip: str
    profiles: list[str]
    alive: bool
    running: str | None = Field(None, description="the cell it is measuring now, if a sweep runs")
    since: float | None = Field(None, description="when that cell started (seconds since the epoch)")


class FleetStatus(StrictModel):
    """The cluster and its boards."""

    address: str
    nodes: int
    boards: list[BoardStatus]


def state_path() -> Path:
    """``$EDGEKIT_HOME/fleet.json``."""
    return edgekit_home() / STATE_FILE


def saved_state() -> FleetState | None:
    """What ``fleet up`` recorded, or None (none recorded, or a file that is not a fleet state)."""
    path = state_path()
    if not path.is_file():
        return None
    try:
        return FleetState.model_validate_json(path.read_text())
    except ValueError:
        return None


def saved_address() -> str | None:
    """The address ``fleet up`` recorded, or None."""
    state = saved_state()
    return state.address if state else None


def ray_executable() -> str:
    """The ``ray`` command of this Python's environment."""
    import_ray()
    beside = Path(sys.executable).with_name("ray")
    found = str(beside) if beside.is_file() else shutil.which("ray")
    if found is None:
        raise EdgekitError("the `ray` command is not on PATH although Ray is importable; reinstall 'edgekit[fleet]'")
    return found


def join_command(address: str, profile: str, num_cpus: int | None = None) -> list[str]:
    """The ``ray start`` line a board (or the node that stands for it) runs to join the fleet."""
    line = [ray_executable(), "start", f"--address={address}", f"--resources={json.dumps({resource_name(profile): 1})}"]
    return line + ([f"--num-cpus={num_cpus}"] if num_cpus is not None else [])


def join_env(link: str | None) -> dict[str, str]:
    """The environment of a node that stands for a board which cannot run Ray: its raylet and workers inherit
    ``$EDGEKIT_FLEET_BOARD_LINK``, and the executor measures every cell over that link.

    Raises:
        BadInputError: not an ``ssh://user@host[:port]`` link.
    """
    if link is None:
        return {}
    parsed = parse_link(link)
    if parsed.kind != "ssh":
        raise BadInputError("--link names the ssh://user@host[:port] of a board that cannot run Ray, not local")
    return {BOARD_LINK_ENV: str(parsed)}


def shell_line(command: list[str], env: dict[str, str] | None = None) -> str:
    """``command`` as one copyable shell line (``ray`` by name when it is on PATH), ``env`` as ``NAME=value``."""
    name = Path(command[0]).name
    first = name if shutil.which(name) == command[0] else command[0]
    return shlex.join([*(f"{k}={v}" for k, v in (env or {}).items()), first, *command[1:]])


def run_ray(command: list[str], env: dict[str, str] | None = None) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=_RAY_START_TIMEOUT_S, check=False,
                              env=os.environ | env if env else None)  # fmt: skip
    except subprocess.TimeoutExpired:
        raise EdgekitError(f"`{shell_line(command, env)}` did not finish in {_RAY_START_TIMEOUT_S} s") from None
    if done.returncode != 0:
        why = summarize_message(done.stderr or done.stdout, f"exit status {done.returncode}")
        raise EdgekitError(f"`{shell_line(command, env)}` failed: {why[-400:]}")


def up(address: str | None = None, ip: str = "127.0.0.1", port: int = DEFAULT_PORT,
       profile: str | None = None) -> FleetState:  # fmt: skip
    """Start a head here (no CPUs for tasks; ``profile`` makes it a board too), or adopt the cluster at ``address``.

    Raises:
        MissingDependencyError: no Ray, or nothing answers at ``address``.
        EdgekitError: ``ray start`` failed (e.g. the port is taken).
    """
    if address is not None:
        ray = connect(address)  # it must answer
        ray.shutdown()
        state = FleetState(address=address, started_here=False)
    else:
        resources = {resource_name(profile): 1} if profile else {}
        temp = head_temp_dir(port)
        head = ["--head", f"--node-ip-address={ip}", f"--port={port}", "--num-cpus=0", f"--temp-dir={temp}"]
        run_ray([ray_executable(), "start", *head, f"--resources={json.dumps(resources)}", "--include-dashboard=false",
                 "--disable-usage-stats"])  # fmt: skip
        state = FleetState(address=f"{ip}:{port}", started_here=True, temp_dir=str(temp))
    write_json_atomic(state_path(), state.model_dump())
    return state


def head_temp_dir(port: int) -> Path:
    """Ray's folder for a head started here: its own, so ``down`` stops that cluster's processes and no other."""
    user = os.getuid() if hasattr(os, "getuid") else "user"
    return system_temp_dir() / f"edgekit-ray-{user}-{port}"


def down() -> FleetState | None:
    """Stop the head ``fleet up`` started here, with the nodes of this machine that joined it, and forget it.

    An adopted cluster (``up --address``) is only forgotten. Returns what was forgotten, or None.
    """
    state = saved_state()
    if state is not None and state.started_here and state.temp_dir:
        stop_processes_under(state.temp_dir)
    state_path().unlink(missing_ok=True)
    return state


def stop_processes_under(temp_dir: str) -> list[int]:
    """SIGTERM (then SIGKILL after a grace period) every process of this user whose command line names
    ``temp_dir``: the head's GCS, raylets, monitors and their workers. Returns their ids."""
    marker = f"{Path(temp_dir)}/"
    mine = []
    for proc in psutil.process_iter(["pid", "cmdline", "uids"]):
        try:
            if proc.pid != os.getpid() and any(marker in arg or arg.endswith(temp_dir) for arg in proc.cmdline()):
                mine.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    # Their children too: a raylet's agents and workers rename themselves (ray::DashboardAgent, ray::IDLE).
    for proc in list(mine):
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            mine.extend(c for c in proc.children(recursive=True) if c not in mine)
    for proc in mine:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.terminate()
    deadline = time.monotonic() + _STOP_GRACE_S
    while any(_alive(p) for p in mine) and time.monotonic() < deadline:
        time.sleep(0.1)
    for proc in [p for p in mine if _alive(p)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    return [p.pid for p in mine]


def _alive(proc: psutil.Process) -> bool:
    """Running and not a zombie (a container's init may never reap our ex-children)."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def status(address: str | None = None) -> FleetStatus:
    """The boards of the cluster (nodes advertising ``edgekit-device:*``) and the cell each one runs.

    Raises:
        MissingDependencyError: no Ray, or no cluster answers.
    """
    address = address or saved_address()
    ray = connect(address)
    running = _running(ray)
    boards = []
    nodes = ray.nodes()
    for node in nodes:
        profiles = node_profiles(node)
        if not profiles:
            continue
        cell, since = running.get(node["NodeID"], (None, None))
        boards.append(BoardStatus(node_id=node["NodeID"], ip=node.get("NodeManagerAddress", ""), profiles=profiles,
                                  alive=bool(node.get("Alive")), running=cell, since=since))  # fmt: skip
    return FleetStatus(address=address or "auto", nodes=len([n for n in nodes if n.get("Alive")]), boards=boards)


def _running(ray: Any) -> dict[str, tuple[str, float]]:
    """Node id -> (cell, since) from every running sweep's tracker."""
    found: dict[str, tuple[str, float]] = {}
    for name in ray.util.list_named_actors():
        if not name.startswith(TRACKER_PREFIX):
            continue
        try:
            snapshot = ray.get(ray.get_actor(name).snapshot.remote(), timeout=5)
        except (ray.exceptions.RayError, ValueError):
            continue  # that sweep just ended
        found.update({node: (cell, since) for node, (cell, since) in snapshot["running"].items()})
    return found


def check_profile(profile: str) -> str:
    """A board's profile must be a known one (close matches listed).

    Raises:
        UnknownNameError: not a profile.
    """
    if not profile.strip():
        raise BadInputError("--profile must name a device profile")
    return get_profile(profile).id
