"""The one door to Ray: imported only by fleet features, with one clear line when the extra is missing."""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

from edgekit.errors import MissingDependencyError, summarize_exception
from edgekit.paths import system_temp_dir

EXTRA_HINT = "pip install 'edgekit[fleet]'"
RESOURCE_PREFIX = "edgekit-device:"  # a node advertises {"edgekit-device:<profile>": 1} per board it stands for
NAMESPACE = "edgekit"
# Set on a node that stands for a board without Ray (``fleet join --link``): its workers measure over that link.
BOARD_LINK_ENV = "EDGEKIT_FLEET_BOARD_LINK"


def import_ray() -> ModuleType:
    """Import Ray, or raise :class:`MissingDependencyError` naming the extra.

    Raises:
        MissingDependencyError: Ray is not installed (or cannot be imported here).
    """
    # Ray keeps sockets and logs under $RAY_TMPDIR, else $TMPDIR: not in the CLI run's temp folder, which goes
    # when the command ends while the nodes it started live on.
    os.environ.setdefault("RAY_TMPDIR", str(system_temp_dir()))
    try:
        import ray
    except ImportError as exc:
        raise MissingDependencyError(f"fleet features need Ray, which is not installed here ({exc}); "
                                     f"{EXTRA_HINT}") from None  # fmt: skip
    return ray


def resource_name(profile: str) -> str:
    """The custom resource a board of ``profile`` advertises (capacity 1: one measurement at a time)."""
    return f"{RESOURCE_PREFIX}{profile}"


def connect(address: str | None) -> ModuleType:
    """Connect this process to the cluster at ``address`` (``auto``: the one started on this machine).

    Raises:
        MissingDependencyError: no Ray.
        FleetUnavailableError: no cluster answers at the address.
    """
    ray = import_ray()
    if ray.is_initialized():
        return ray
    try:
        ray.init(address=address or "auto", namespace=NAMESPACE, log_to_driver=False, logging_level="ERROR",
                 configure_logging=True)  # fmt: skip
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise FleetUnavailableError(f"no Ray cluster at {address or 'auto'} ({summarize_exception(exc)}); "
                                    "start one with `edgekit fleet up` or pass --address") from None  # fmt: skip
    return ray


class FleetUnavailableError(MissingDependencyError):
    """No cluster to run on (none started, or the address does not answer)."""


def alive_boards(ray: Any) -> dict[str, list[str]]:
    """Profile -> ids of the alive nodes that advertise its resource."""
    boards: dict[str, list[str]] = {}
    for node in ray.nodes():
        if node.get("Alive"):
            for profile in node_profiles(node):
                boards.setdefault(profile, []).append(node["NodeID"])
    return boards


def node_profiles(node: dict[str, Any]) -> list[str]:
    """The profiles a node (an entry of ``ray.nodes()``) advertises an ``edgekit-device:<profile>`` resource for."""
    return sorted(n[len(RESOURCE_PREFIX) :] for n in node.get("Resources", {}) if n.startswith(RESOURCE_PREFIX))
