"""Print the import facts of a source tree: function-level imports of edgekit modules and import cycles.

python benchmarks/import_facts.py [TREE]   # TREE: a checkout (default: this one)
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.structure._imports import import_cycles, import_facts  # noqa: E402


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1])
    lazy, graph = import_facts(root)
    by_module = Counter(module for module, _, _ in lazy)
    print(f"function-level imports of edgekit modules: {len(lazy)} in {len(by_module)} modules")
    for module, count in by_module.most_common():
        print(f"  {count:3d}  {module}")
    cycles = import_cycles(graph)
    print(f"import cycles: {len(cycles)}")
    for cycle in cycles:
        print("  ", " <-> ".join(cycle))


if __name__ == "__main__":
    main()
