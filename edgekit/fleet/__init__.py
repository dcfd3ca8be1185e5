"""A fleet of boards on Ray: sweeps fanned out to boards that advertise ``edgekit-device:<profile>``.

Ray is imported only inside the functions that talk to a cluster (the ``edgekit[fleet]`` extra); importing
this package does not import it. :func:`run_sweep` is the library entry point: it takes the cells a command
builds (:class:`FleetCell`: a :class:`~edgekit.bench.BenchSpec` and a profile) and returns a
:class:`SweepReport` whose :meth:`~SweepReport.results` are :class:`~edgekit.bench.BenchResult` objects.
"""

from edgekit.fleet._cell import CELL_RECORD_KIND, CellOutcome, CellRecord, FleetCell
from edgekit.fleet._ray import EXTRA_HINT, RESOURCE_PREFIX, FleetUnavailableError, import_ray, resource_name
from edgekit.fleet._sweep import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_ORPHAN_GRACE_S,
    BoardProgress,
    SweepProgress,
    SweepReport,
    fleet_boards,
    run_sweep,
    stored_result,
)

__all__ = [
    "CELL_RECORD_KIND",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_ORPHAN_GRACE_S",
    "EXTRA_HINT",
    "RESOURCE_PREFIX",
    "BoardProgress",
    "CellOutcome",
    "CellRecord",
    "FleetCell",
    "FleetUnavailableError",
    "SweepProgress",
    "SweepReport",
    "fleet_boards",
    "import_ray",
    "resource_name",
    "run_sweep",
    "stored_result",
]
