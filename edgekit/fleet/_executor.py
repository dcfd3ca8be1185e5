"""The cell executor: what a Ray task runs on a node that holds a board's resource.

It takes the artifact from the node's digest cache, measures with edgekit's own bench protocol
(:func:`edgekit.bench.run.bench`), labels the result with the board, and reports when it started and
ended on the board's own clock. Any cell on a node started with
``$EDGEKIT_FLEET_BOARD_LINK`` (``edgekit fleet join --link``: the node stands for a board that cannot run Ray)
is measured over that device link from this node (:func:`measure_over_link`), with the board's fingerprint.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any

from edgekit.bench._spec import BenchConfig, BenchSpec, BoardLabel
from edgekit.bench.run import BenchResult, bench
from edgekit.bench.runners import ArtifactSource
from edgekit.errors import EdgekitError, summarize_exception
from edgekit.fleet._artifacts import ShippedFile, materialize
from edgekit.fleet._cell import FleetCell
from edgekit.fleet._ray import BOARD_LINK_ENV, import_ray


def ray_link(node_id: str) -> str:
    """The link label of a board that is itself a Ray node."""
    return f"ray://{node_id}"


def node_link() -> str | None:
    """The link of the board this node stands for (``$EDGEKIT_FLEET_BOARD_LINK``), or None: the node is the board."""
    return os.environ.get(BOARD_LINK_ENV) or None


def measure_over_link(link: str, spec: BenchSpec, config: BenchConfig, profile: str) -> BenchResult:
    """Measure ``spec`` on the board behind ``link`` (``ssh://...``) from this node, as ``bench --on`` does.

    The board is the node's ``devices.yaml`` entry of that link (its Python, cache folder, ssh options), else an
    ad-hoc board of ``profile``; the result carries the board's fingerprint and label (its link), not the node's.

    Raises:
        BadInputError: a malformed link, a configured board of another profile, a cell the board cannot time.
        BoardError: the link, the probe or the runner failed.
    """
    from edgekit.devices.config import resolve_board
    from edgekit.devices.remote_bench import measure_one

    board = resolve_board(link, profile)
    assert board is not None  # an ssh link is never "local" here: fleet join --link takes ssh:// only
    return measure_one(board, spec, config)


def measure_cell(cell: FleetCell, spec: BenchSpec, config: BenchConfig, node_id: str) -> BenchResult:
    """Measure one cell here (or over the node's link) and label the result with its board."""
    link = node_link()
    if link is None:
        result = bench(spec, config)
        board = BoardLabel(id=node_id, profile=cell.profile, link=ray_link(node_id))
    else:
        result = measure_over_link(link, spec, config, cell.profile)
        board = result.board or BoardLabel(id=link, profile=cell.profile, link=link)
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
