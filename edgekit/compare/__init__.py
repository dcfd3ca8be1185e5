"""Comparing: the seed's table done right (``compare``), built on measuring (:mod:`edgekit.bench`).

Variants (registered builders and optimization recipes), vendor-target rows (exported through
:mod:`edgekit.targets`, timed with the runtime's runner), accuracy and graph columns, and the
results-store cache. :mod:`edgekit.report` renders a :class:`Comparison`.
"""

from edgekit.compare.table import (
    COMPARE_BENCH,
    LARGE_BATCH,
    CompareConfig,
    CompareRow,
    Comparison,
    compare,
    list_variants,
    register_variant,
)

__all__ = [
    "COMPARE_BENCH",
    "LARGE_BATCH",
    "CompareConfig",
    "CompareRow",
    "Comparison",
    "compare",
    "list_variants",
    "register_variant",
]
