"""The cell executor: what a Ray task runs on a node that holds a board's resource.

It takes the artifact from the node's digest cache, measures with edgekit's own bench protocol
(:func:`edgekit.bench.run.bench`), labels the result with the board, and reports when it started and
ended on the board's own clock. A cell with a ``link`` is measured over that device link from this node
(:func:`measure_over_link`, the one place where the link runner plugs in).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from edgekit.bench._spec import BenchConfig, BenchSpec, BoardLabel
from edgekit.bench.run import BenchResult, bench
from edgekit.bench.runners import ArtifactSource
from edgekit.errors import EdgekitError, MissingDependencyError, summarize_exception
from edgekit.fleet._artifacts import ShippedFile, materialize
from edgekit.fleet._cell import FleetCell
from edgekit.fleet._ray import import_ray


def ray_link(node_id: str) -> str:
    """The link label of a board that is itself a Ray node."""
    return f"ray://{node_id}"


def measure_over_link(link: str, spec: BenchSpec, config: BenchConfig) -> BenchResult:
    """Measure ``spec`` on the board behind ``link`` (``ssh://...``) from this node — not wired yet.

    This is where the device-link runner (issue 14: copy the runner and artifact, run, read JSON back) plugs
    in; it must return a :class:`BenchResult` whose fingerprint is the board's. Until then a linked cell is
    refused before a sweep starts (see ``edgekit.fleet._sweep.check_links``) and here.

    Raises:
        MissingDependencyError: always, for now.
    """
    raise MissingDependencyError(f"cell for {link}: measuring over a device link from a fleet node is not "
                                 "available in this edgekit yet; give the board its own Ray node")  # fmt: skip


def measure_cell(cell: FleetCell, spec: BenchSpec, config: BenchConfig, node_id: str) -> BenchResult:
    """Measure one cell here (or over its link) and label the result with its board."""
    if cell.link is None:
        result = bench(spec, config)
        board = BoardLabel(id=node_id, profile=cell.profile, link=ray_link(node_id))
    else:
        result = measure_over_link(cell.link, spec, config)
        board = result.board or BoardLabel(id=cell.link, profile=cell.profile, link=cell.link)
    # The caller's spec (the workstation's path): the bytes are the same (same digest, same config hash).
    return result.model_copy(update={"board": board, "spec": cell.spec})


def execute_cell(index: int, cell_json: str, config_json: str, shipped: list[ShippedFile] | None,
                 tracker: Any) -> dict[str, Any]:  # fmt: skip
    """The Ray task body: returns ``result`` (BenchResult JSON) or ``error``, with node id and times.

    edgekit's own errors come back as ``error`` (a bad artifact is not retried on another board); a node
    or worker that dies surfaces in the driver as Ray's error and is retried there.
    """
    ray = import_ray()
    node_id = ray.get_runtime_context().get_node_id()
    ray.get(tracker.started.remote(index, node_id))  # before measuring: status shows it running
    started = datetime.now(timezone.utc)
    cell = FleetCell.model_validate_json(cell_json)
    config = BenchConfig.model_validate_json(config_json)
    outcome: dict[str, Any] = {"node_id": node_id, "started_at": started.isoformat()}
    try:
        spec = cell.spec
        if shipped is not None:
            assert isinstance(spec.source, ArtifactSource)  # only file sources are shipped
            local = spec.source.model_copy(update={"path": materialize(ray, shipped)})
            spec = spec.model_copy(update={"source": local})
        outcome["result"] = measure_cell(cell, spec, config, node_id).model_dump_json()
    except EdgekitError as exc:
        outcome["error"] = summarize_exception(exc)
    outcome["ended_at"] = datetime.now(timezone.utc).isoformat()
    return outcome
