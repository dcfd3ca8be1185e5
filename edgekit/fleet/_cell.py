"""What the fleet runs: a cell (a benchmark spec on a board of a profile) and the record of one run of it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from edgekit.bench._spec import BenchSpec
from edgekit.bench.run import BenchResult
from edgekit.vocab import StrictModel

CELL_RECORD_KIND = "fleet-cell"  # results-store records: one per cell outcome, keyed by the sweep id
CellStatus = Literal["measured", "failed", "stored"]


class FleetCell(StrictModel):
    """One measurement to make on some board of ``profile`` (a node started with ``fleet join --link`` measures it
    over that link, see :func:`edgekit.fleet._executor.node_link`)."""

    spec: BenchSpec
    profile: str = Field(min_length=1)

    @property
    def label(self) -> str:
        """``model/variant runtime b1 t1 @profile``."""
        s = self.spec
        return f"{s.model}/{s.variant} {s.runtime} b{s.batch} t{s.threads} @{self.profile}"


class CellRecord(StrictModel):
    """How one cell of a sweep went: where and when it ran (the board's own clock), how often, and why it failed."""

    sweep_id: str
    cell: str = Field(description="FleetCell.label")
    profile: str
    status: CellStatus = Field(description="stored: already in the results store, not measured again")
    node_id: str | None = Field(None, description="the Ray node of the last attempt")
    started_at: datetime | None = None
    ended_at: datetime | None = None
    attempts: int = Field(0, description="times a node started the cell (a lost node's cell starts again)")
    nodes_tried: list[str] = Field(default_factory=list)
    run_id: str | None = Field(None, description="BenchResult.run_id of the stored measurement")
    error: str | None = None


class CellOutcome(StrictModel):
    """A cell and what came of it: a result (measured now or found in the store) or an error."""

    cell: FleetCell
    record: CellRecord
    result: BenchResult | None = None

    @property
    def failed(self) -> bool:
        """No result."""
        return self.result is None
