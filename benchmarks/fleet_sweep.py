"""A sweep on a local three-node Ray cluster, a board killed mid-sweep, and what Ray costs commands that don't use it.

Usage:
    .venv/bin/python benchmarks/fleet_sweep.py [--models squeezenet1_1 mobilenet_v3_small] [--recipes fp32 int8]

1. ``ray.cluster_utils.Cluster`` on this machine: a head (no CPUs for tasks) and two worker nodes advertising
   ``edgekit-device:raspberry-pi-5`` and ``edgekit-device:jetson-orin-nano`` (both nodes are this host: the stored
   fingerprint says so). A sweep of models x recipes x those 2 profiles through :func:`edgekit.fleet.run_sweep`:
   node id per cell, the overlap check per board (start/end on the board's clock), and the wall time against the
   same sweep submitted one cell at a time (``max_in_flight=1``).
2. Two ``rk3588`` nodes and one ``coral-dev-board`` node join; ``edgekit sweep`` runs as a user runs it (its own
   process); once each victim (one rk3588 node, the coral node) has a measured cell and is running the next one,
   it is removed. The printed lines, exit status, and the rows kept.
3. ``edgekit recommend --ram 512MB --fps 30`` warm wall time (median of N processes) as installed, and with
   ``import ray`` made to fail (a sitecustomize on PYTHONPATH), plus whether Ray was imported at all.

Writes results/fleet_sweep.md. Every figure comes from this run.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
NO_RAY = ROOT / "tests" / "fleet" / "_no_ray"
PI, JETSON, RK, CORAL = "raspberry-pi-5", "jetson-orin-nano", "rk3588", "coral-dev-board"
HEAD_CONFIG = {"health_check_period_ms": 500, "health_check_failure_threshold": 2, "health_check_timeout_ms": 500}
CLI = "import sys; from edgekit.cli.main import main; sys.argv[0] = 'edgekit'; main()"


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def _sweep_file(path: Path, models: list[str], recipes: list[str], profiles: list[str], seconds: float) -> Path:
    path.write_text(f"models: [{', '.join(models)}]\nrecipes: [{', '.join(recipes)}]\nprofiles: [{', '.join(profiles)}]"
                    f"\nprotocol: {{warmup: 5, min_iters: 20, min_seconds: {seconds}}}\n")  # fmt: skip
    return path


def _overlaps(records: list) -> dict[str, int]:  # noqa: ANN001 (CellRecord)
    """Per board: how many pairs of its cells overlapped in time (must be 0)."""
    counts = {}
    for node in sorted({r.node_id for r in records if r.node_id}):
        spans = sorted((r.started_at, r.ended_at) for r in records if r.node_id == node and r.started_at)
        counts[node] = sum(a0 < b1 and b0 < a1 for (a0, a1), (b0, b1) in itertools.combinations(spans, 2))
    return counts


def part_sweep(fleet: dict, models: list[str], recipes: list[str], seconds: float, work: Path) -> list[str]:
    from edgekit.bench import fingerprint
    from edgekit.fleet import CELL_RECORD_KIND, CellRecord, run_sweep
    from edgekit.fleet._sweepfile import load_sweep, sweep_cells
    from edgekit.store import ResultsStore

    plan = load_sweep(_sweep_file(work / "sweep.yaml", models, recipes, [PI, JETSON], seconds))
    started = time.monotonic()
    cells = sweep_cells(plan)
    build_s = time.monotonic() - started
    store = ResultsStore(work / "sweep.sqlite")
    load = os.getloadavg()[0]
    parallel = run_sweep(cells, plan.protocol.config(), store=store)
    serial = run_sweep(cells, plan.protocol.config(), store=store, fresh=True, max_in_flight=1)
    lines = [
        f"## 1. {len(models)} models x {len(recipes)} recipes x 2 profiles = {len(cells)} cells on 3 nodes", "",
        f"Nodes: head (0 CPUs for tasks), `{fleet[PI]}` advertising `edgekit-device:{PI}`, `{fleet[JETSON]}` "
        f"advertising `edgekit-device:{JETSON}` (each `num_cpus=1`). Protocol warm-up 5, >= 20 iterations, >= "
        f"{seconds} s, 1 thread, one child process per cell. Artifacts built once on the workstation in "
        f"{build_s:.1f} s (edgekit recipes, each verified against its parent), shipped by digest. Load average "
        f"before: {load:.2f}.", "",
        "| model | recipe | profile | node id (stored row) | holds the resource | fingerprint = this host "
        "| start → end (s from sweep start) | p50 ms (parallel) | p50 ms (one at a time) |",
        "|---|---|---|---|---|---|---|---:|---:|",
    ]  # fmt: skip
    records = [CellRecord.model_validate_json(p) for p in store.records(CELL_RECORD_KIND, parallel.sweep_id)]
    t0 = min(r.started_at for r in records)
    here = fingerprint().id
    for o, s in zip(parallel.outcomes, serial.outcomes, strict=True):
        r, rec = o.result, o.record
        holds = r.board.id == fleet[o.cell.profile]
        span = f"{(rec.started_at - t0).total_seconds():.2f} → {(rec.ended_at - t0).total_seconds():.2f}"
        lines.append(f"| {r.spec.model} | {r.spec.variant} | {o.cell.profile} | `{r.board.id[:16]}…` | "
                     f"{'yes' if holds else 'NO'} | {'yes' if r.fingerprint.id == here else 'NO'} | {span} | "
                     f"{r.stats.latency_ms_p50:.2f} | {s.result.stats.latency_ms_p50:.2f} |")  # fmt: skip
    overlaps = _overlaps(records)
    lines += ["", "Overlapping cells per board (pairs whose start/end intervals intersect; must be 0): "
              + ", ".join(f"`{n[:12]}` {c}" for n, c in overlaps.items()) + ".", "",
              f"Wall time: **{parallel.wall_seconds:.1f} s** with both boards busy at once, "
              f"**{serial.wall_seconds:.1f} s** submitting one cell at a time: "
              f"{serial.wall_seconds / parallel.wall_seconds:.2f}x. Failed cells: {len(parallel.failed)} / "
              f"{len(serial.failed)}. Both nodes are this 2-core host, so the parallel p50s include the other "
              "board's measurement competing for the CPU; on real boards each has its own.", ""]  # fmt: skip
    return lines


def _killer(fleet: dict, cluster: object, store_path: Path, victims: list[str], killed: list) -> None:
    from edgekit.fleet._cluster import status
    from edgekit.store import ResultsStore

    deadline = time.monotonic() + 300
    while victims and time.monotonic() < deadline:
        store = ResultsStore(store_path, read_only=True)
        measured_on = {r.board.id for r in store.query() if r.board is not None}
        running = {b.node_id: b.running for b in status(cluster.address).boards if b.running}
        for node in [v for v in victims if v in measured_on and v in running]:
            cluster.remove_node(fleet["handles"][node], allow_graceful=False)
            killed.append((node, running[node], time.monotonic()))
            victims.remove(node)
        time.sleep(0.05)


def part_kill(fleet: dict, cluster: object, models: list[str], recipes: list[str], seconds: float,
              work: Path) -> list[str]:  # fmt: skip
    from edgekit.fleet import CELL_RECORD_KIND, CellRecord
    from edgekit.store import ResultsStore

    rk_a, rk_b, coral = (_add(cluster, fleet, p) for p in (RK, RK, CORAL))
    home = Path(os.environ["EDGEKIT_HOME"])
    store_path = home / "results.sqlite"
    killed: list = []
    thread = threading.Thread(target=_killer, args=(fleet, cluster, store_path, [rk_a, coral], killed))
    sweep = _sweep_file(work / "kill.yaml", models, recipes, [RK, CORAL], seconds)
    thread.start()
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", CLI, "sweep", str(sweep), "--address", cluster.address,
                           "--wait-for-boards", "2"], capture_output=True, text=True, check=False)  # fmt: skip
    thread.join()
    store = ResultsStore(store_path, read_only=True)
    records = [CellRecord.model_validate_json(p) for p in store.records(CELL_RECORD_KIND)]
    rows = {r.run_id: r for r in store.query()}
    lines = ["## 2. A board killed mid-sweep", "",
             f"Two `{RK}` nodes (`{rk_a[:12]}`, `{rk_b[:12]}`) and one `{CORAL}` node (`{coral[:12]}`) joined; "
             f"`edgekit sweep kill.yaml` ran in its own process ({len(records)} cells). Removed (no graceful "
             "shutdown), each once it had a measured cell in the store and was running the next:", ""]  # fmt: skip
    lines += [f"- `{n[:12]}` at {t - started:.1f} s while running `{cell}`" for n, cell, t in killed]
    lines += ["", f"Exit status: **{done.returncode}**. What it printed on stderr:", "", "```"]
    lines += [line for line in done.stderr.splitlines() if line.startswith(("failed:", "error:", "warning:"))]
    other = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith(("failed:", "error:"))]
    example = f", e.g. `{other[0][:160]}`" if other else ""
    lines += ["```", "", f"Other stderr lines (Ray's own): {len(other)}{example}.",
              "", "| cell | status | starts | nodes tried | row in the store |", "|---|---|---:|---|---|"]  # fmt: skip
    for r in records:
        kept = r.run_id in rows and rows[r.run_id].board.id == r.node_id
        tried = " → ".join(f"`{n[:12]}`" for n in r.nodes_tried)
        lines.append(f"| {r.cell} | {r.status} | {r.attempts} | {tried} | {'yes' if kept else '—'} |")
    measured = sum(r.status == "measured" for r in records)
    lines += ["", f"{measured} cells measured and stored, {len(records) - measured} failed; the store holds "
              f"{sum(r.run_id in rows for r in records)} rows of this sweep.", ""]  # fmt: skip
    return lines


def _timed(args: list[str], envs: list[dict[str, str]], runs: int) -> list[list[float]]:
    """Wall seconds per run of each environment, the environments interleaved (A B A B ...) so that a load
    change on this shared host falls on both alike; one untimed warm-up round first."""
    times: list[list[float]] = [[] for _ in envs]
    for round_ in range(runs + 1):
        for index, env in enumerate(envs):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", CLI, *args], env=env, capture_output=True, check=True)
            if round_:
                times[index].append(time.perf_counter() - start)
    return times


def part_recommend(runs: int) -> list[str]:
    args = ["recommend", "--ram", "512MB", "--fps", "30"]
    base = os.environ | {"PYTHONPATH": str(ROOT)}
    blocked = base | {"PYTHONPATH": os.pathsep.join([str(NO_RAY), str(ROOT)])}
    probe = ("import sys; from edgekit.cli.main import app\ntry:\n    app(['recommend', '--ram', '512MB', '--fps', "
             "'30'], standalone_mode=False)\nfinally:\n    print('RAY', any(m == 'ray' or m.startswith('ray.') "
             "for m in sys.modules))")  # fmt: skip
    imported = {}
    for name, env in (("installed", base), ("unimportable", blocked)):
        out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
        imported[name] = out.stdout.strip().splitlines()[-1]
    load = os.getloadavg()[0]
    with_times, without_times = _timed(args, [base, blocked], runs)
    with_ray, without = statistics.median(with_times), statistics.median(without_times)
    fmt = ", ".join
    return ["## 3. `edgekit recommend --ram 512MB --fps 30` with and without Ray", "",
            f"Median of {runs} warm processes each, the two cases interleaved (one warm-up round first), load "
            f"average {load:.2f}:", "",
            "| Ray | median wall s | runs (s) | Ray imported during the command |", "|---|---:|---|---|",
            f"| installed (2.60.0) | {with_ray:.3f} | {fmt(f'{t:.3f}' for t in with_times)} | "
            f"{imported['installed'] == 'RAY True'} |",
            f"| made unimportable | {without:.3f} | {fmt(f'{t:.3f}' for t in without_times)} | "
            f"{imported['unimportable'] == 'RAY True'} |", "",
            f"Ratio of medians (installed / unimportable): {with_ray / without:.3f}.", ""]  # fmt: skip


def _add(cluster: object, fleet: dict, profile: str) -> str:
    node = cluster.add_node(num_cpus=1, resources={f"edgekit-device:{profile}": 1})
    cluster.wait_for_nodes()
    fleet.setdefault("handles", {})[node.node_id] = node
    fleet.setdefault(profile, node.node_id)
    return node.node_id


def main() -> None:
    """Run the three parts and write the markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["squeezenet1_1", "mobilenet_v3_small"])
    parser.add_argument("--recipes", nargs="+", default=["fp32", "int8"])
    parser.add_argument("--seconds", type=float, default=1.0, help="min_seconds per cell")
    parser.add_argument("--recommend-runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="edgekit-fleet-bench-"))
    os.environ["EDGEKIT_HOME"] = str(work / "home")  # a throwaway store: these rows are not real boards
    os.environ["PYTHONPATH"] = str(ROOT)  # the nodes' workers import this edgekit
    sys.path.insert(0, str(ROOT))
    import ray
    from ray.cluster_utils import Cluster

    load_start = os.getloadavg()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "_system_config": HEAD_CONFIG})
    fleet: dict = {}
    for profile in (PI, JETSON):
        _add(cluster, fleet, profile)
    ray.init(address=cluster.address, namespace="edgekit", log_to_driver=False, logging_level="ERROR")
    try:
        body = part_sweep(fleet, args.models, args.recipes, args.seconds, work)
        print("\n".join(body), flush=True)
        body += part_kill(fleet, cluster, args.models, args.recipes, args.seconds, work)
        print("\n".join(body[-20:]), flush=True)
    finally:
        ray.shutdown()
        cluster.shutdown()
    body += part_recommend(args.recommend_runs)
    head = ["# Fleet sweeps on Ray (local three-node cluster)", "",
            f"Generated by `python benchmarks/fleet_sweep.py --models {' '.join(args.models)} --recipes "
            f"{' '.join(args.recipes)} --seconds {args.seconds}` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; "
            f"host {_cpu()}, {os.cpu_count()} CPUs; 1/5/15-min load average at start "
            f"{', '.join(f'{x:.2f}' for x in load_start)}; Ray {ray.__version__}. The boards are Ray nodes on this "
            "host (profiles are labels here), so their latencies are this host's.", ""]  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "fleet_sweep.md").write_text("\n".join(head + body))
    print("\n".join(body[-12:]))


if __name__ == "__main__":
    main()
