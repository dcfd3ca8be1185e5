"""A real Ray cluster on this machine: a head (no CPUs for tasks) and one worker node per board profile."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.bench._tiny import tiny_onnx

PI, JETSON = "raspberry-pi-5", "jetson-orin-nano"
# Fast node-death detection, so a removed node's cells move on within a second or two.
_SYSTEM_CONFIG = {"health_check_period_ms": 500, "health_check_failure_threshold": 2, "health_check_timeout_ms": 500}


@dataclass
class LocalFleet:
    """The cluster, and the node ids of the boards by profile."""

    cluster: Any
    boards: dict[str, list[str]]
    nodes: dict[str, Any]  # node id -> the ray node handle (for remove_node)

    def add_board(self, profile: str) -> str:
        node = self.cluster.add_node(num_cpus=1, resources={f"edgekit-device:{profile}": 1})
        self.cluster.wait_for_nodes()
        self.boards.setdefault(profile, []).append(node.node_id)
        self.nodes[node.node_id] = node
        return node.node_id


@pytest.fixture(scope="session")
def fleet() -> Iterator[LocalFleet]:
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "_system_config": _SYSTEM_CONFIG})
    local = LocalFleet(cluster=cluster, boards={}, nodes={})
    for profile in (PI, JETSON):
        local.add_board(profile)
    ray.init(address=cluster.address, namespace="edgekit", log_to_driver=False, logging_level="ERROR")
    yield local
    ray.shutdown()
    cluster.shutdown()


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("fleet-models")
    return [tiny_onnx(folder / f"tiny{i}.onnx", seed=i) for i in range(2)]


def sweep_yaml(path: Path, models: list[Path], profiles: list[str], recipes: tuple[str, ...] = ("fp32", "fp16"),
               min_seconds: float = 0.2) -> Path:  # fmt: skip
    """A sweep file over ``models`` x ``recipes`` x ``profiles`` with a short protocol."""
    path.write_text(
        f"models: [{', '.join(str(m) for m in models)}]\nrecipes: [{', '.join(recipes)}]\n"
        f"profiles: [{', '.join(profiles)}]\nprotocol: {{warmup: 1, min_iters: 5, min_seconds: {min_seconds}}}\n"
    )
    return path
