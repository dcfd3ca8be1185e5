"""Warm start-up of `edgekit recommend --ram 512MB --fps 30` for several source trees, in one run.

Each tree runs with its own ``$EDGEKIT_HOME`` (warmed by one untimed run first); the trees are
timed in alternation so that the host's drift affects them alike.

    python benchmarks/startup.py BEFORE_TREE AFTER_TREE [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMAND = ["-c", "import sys; from edgekit.cli.main import main; sys.argv[0] = 'edgekit'; main()",
           "recommend", "--ram", "512MB", "--fps", "30"]  # fmt: skip


def _run(tree: Path, home: Path) -> float:
    env = os.environ | {"PYTHONPATH": str(tree), "EDGEKIT_HOME": str(home)}
    start = time.perf_counter()
    subprocess.run([sys.executable, *COMMAND], env=env, cwd=tree, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="+", type=Path)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        homes = {tree: Path(folder) / str(i) for i, tree in enumerate(args.trees)}
        for tree, home in homes.items():
            _run(tree.resolve(), home)  # warm the caches
        times: dict[Path, list[float]] = {tree: [] for tree in args.trees}
        for _ in range(args.rounds):
            for tree, home in homes.items():
                times[tree].append(_run(tree.resolve(), home))
    for tree, values in times.items():
        print(f"{tree}: median {statistics.median(values):.2f} s, min {min(values):.2f} s over {len(values)} runs")


if __name__ == "__main__":
    main()
