"""Which cell each board is running, told by the nodes as they start a cell: a small Ray actor on the
workstation's node, named so that ``edgekit fleet status`` in another process can read it."""

from __future__ import annotations

import time

TRACKER_PREFIX = "edgekit-fleet-"


class Tracker:
    """Cell index -> the nodes that started it (a retried cell has several) and what is running now."""

    def __init__(self, labels: list[str]) -> None:
        self.labels = labels
        self.starts: dict[int, list[str]] = {}
        self.running: dict[int, tuple[str, float]] = {}

    def started(self, index: int, node_id: str) -> int:
        """A node began ``index``; returns the attempt number."""
        self.starts.setdefault(index, []).append(node_id)
        self.running[index] = (node_id, time.time())
        return len(self.starts[index])

    def finished(self, index: int) -> None:
        """The driver has the outcome of ``index``."""
        self.running.pop(index, None)

    def snapshot(self) -> dict[str, object]:
        """``running`` (node id -> (cell label, since)), ``starts`` (index -> node ids)."""
        running = {node: (self.labels[i], since) for i, (node, since) in self.running.items()}
        return {"running": running, "starts": dict(self.starts)}
