"""Device links on loopback: `device check`, remote vs local `bench` p50 of one artifact, first-run overhead.

The board is this machine reached through a real OpenSSH server on 127.0.0.1 (throwaway keys), running
a Python that has only numpy and onnxruntime. Local and remote runs of mobilenet_v2 (the same ONNX
artifact) alternate, so drift on this shared host hits both alike; the figure is the ratio of the
medians of their p50s (same CPU: expect about 1). The overhead of a `bench --on` beyond the
measurement itself is the CLI's wall time minus the timed loop, for a first run (empty board cache:
the runner and the 14 MB model are copied) and a second one (both cached).

Usage: PYTHONPATH=. .venv/bin/python benchmarks/device_link_check.py [--rounds 3] [--min-seconds 5]
Writes benchmarks/results/device_link.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edgekit.bench import fingerprint  # noqa: E402
from edgekit.store import ResultsStore  # noqa: E402
from tests.bench._tiny import tiny_onnx  # noqa: E402
from tests.devices._boards import faulty_python, minimal_python  # noqa: E402
from tests.devices._sshd import Sshd, keygen, loopback_sshd  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "device_link.md"
MODEL = "mobilenet_v2"


def edgekit(args: list[str], env: dict[str, str], check: bool = True) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run the CLI in a fresh process; return it and its wall time."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", "from edgekit.cli.main import main; main()", *args], env=env,
                          capture_output=True, text=True, timeout=900, check=False)  # fmt: skip
    wall = time.perf_counter() - start
    if check and done.returncode != 0:
        raise SystemExit(f"edgekit {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done, wall


def bench_row(args: list[str], env: dict[str, str]) -> tuple[dict[str, object], float]:
    done, wall = edgekit([*args, "--json", "--fresh"], env)
    return json.loads(done.stdout)["results"][0]["result"], wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--min-seconds", type=float, default=5.0)
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="edgekit-device-link-"))
    home = work / "home"
    home.mkdir()
    python = minimal_python(work / "board-python")
    timing = ["--min-seconds", f"{opts.min_seconds:g}"]
    with loopback_sshd(work / "sshd") as sshd:
        env = os.environ | {"EDGEKIT_HOME": str(home), "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore",
                            "EDGEKIT_SSH_OPTIONS": shlex.join(sshd.client_options()), "COLUMNS": "160"}  # fmt: skip

        def configure(cache: Path) -> None:
            board = {"id": "loopback", "profile": "host", "link": sshd.link, "python": str(python),
                     "cache_dir": str(cache)}  # fmt: skip
            (home / "devices.yaml").write_text(yaml.safe_dump({"schema_version": 1, "boards": [board]}))

        configure(work / "cache-ratio")
        check, _ = edgekit(["device", "check", sshd.link, "--profile", "host"], env)
        local_cmd = ["bench", MODEL, "--runtime", "onnxruntime", *timing]
        remote_cmd = ["bench", MODEL, "--on", sshd.link, "--profile", "host", *timing]
        edgekit(["bench", MODEL, "--runtime", "onnxruntime", "--min-seconds", "0", "--min-iters", "1"], env)  # export
        edgekit([*remote_cmd[:6], "--min-seconds", "0", "--min-iters", "1", "--fresh"], env)  # ship the artifact
        rounds, loads = [], [os.getloadavg()[0]]
        for _ in range(opts.rounds):
            local, _ = bench_row(local_cmd, env)
            remote, _ = bench_row(remote_cmd, env)
            rounds.append((local["stats"]["latency_ms_p50"], remote["stats"]["latency_ms_p50"], local, remote))
            loads.append(os.getloadavg()[0])
        overhead = []
        configure(work / "cache-overhead")  # an empty board cache: the first run copies runner and model
        for label in ("first (empty board cache)", "second (cached)"):
            row, wall = bench_row(remote_cmd, env)
            overhead.append((label, wall, row["stats"]["measured_seconds"]))
        _, local_wall = bench_row(local_cmd, env)
        local_loop = rounds[-1][2]["stats"]["measured_seconds"]
        fault_rows = faults(sshd, work, python, env)
    write_report(check.stdout, rounds, loads, overhead, opts, local_wall, local_loop, remote_cmd, sshd.link)
    write_faults(fault_rows)


# (name, what devices.yaml / the environment changes, extra bench options); each run times batch 1 and 2 of a
# tiny ONNX file, the fault hitting the batch-2 cell where it can (the board python's 2nd bench call).
FAULTS = [
    ("board unreachable", {"link": "closed-port"}, []),
    ("authentication refused", {"key": "stranger"}, []),
    ("runtime missing on the board", {"python": "numpy-only"}, []),
    ("runner prints garbage", {"python": "garbage"}, []),
    ("runner hangs", {"python": "hang"}, ["--timeout", "2"]),
    ("runner killed mid-run", {"python": "killed"}, ["--min-seconds", "4"]),
]


def faults(sshd: Sshd, work: Path, python: Path, env: dict[str, str]) -> list[tuple]:
    """Run each fault through the CLI; return (name, command, exit code, stderr, rows kept)."""
    tiny_onnx(work / "tiny.onnx")
    rows = []
    for name, change, extra in FAULTS:
        case = work / "faults" / name.replace(" ", "-")
        (case / "home").mkdir(parents=True)
        board_python = python
        run_env = dict(env) | {"EDGEKIT_HOME": str(case / "home")}
        link = sshd.link
        if change.get("python") == "numpy-only":
            board_python = minimal_python(case / "numpy-only", packages=("numpy",))
        elif change.get("python"):
            board_python = faulty_python(case / "faulty", python, change["python"], from_call=2)
        if change.get("link"):
            link = f"ssh://{sshd.user}@127.0.0.1:{sshd.port + 1}"
        if change.get("key"):
            run_env["EDGEKIT_SSH_OPTIONS"] = shlex.join(sshd.client_options(key=keygen(case / "stranger")))
        board = {"id": "loopback", "profile": "host", "link": link, "python": str(board_python),
                 "cache_dir": str(case / "cache")}  # fmt: skip
        (case / "home" / "devices.yaml").write_text(yaml.safe_dump({"schema_version": 1, "boards": [board]}))
        args = ["bench", "tiny.onnx", "--on", "loopback", "--batch", "1,2", "--warmup", "1", "--min-iters", "3",
                "--min-seconds", "0", *extra]  # fmt: skip
        command = [sys.executable, "-c", "from edgekit.cli.main import main; main()", *args]
        done = subprocess.run(command, env=run_env, cwd=work, capture_output=True, text=True, timeout=300,
                              check=False)  # fmt: skip
        kept = [r.spec.batch for r in ResultsStore(case / "home" / "results.sqlite", read_only=True).query()]
        rows.append((name, " ".join(["edgekit", *args]), done.returncode, done.stderr.strip(), kept))
    return rows


def write_faults(rows: list[tuple]) -> None:
    lines = [
        "",
        "## Faults (each against the loopback sshd; `bench tiny.onnx --on loopback --batch 1,2`)",
        "",
        "The fault hits the batch-2 cell where it can (a board Python that misbehaves from its 2nd bench call on).",
        "",
        "| fault | exit | rows kept (batch) | what it printed (stderr) |",
        "|---|---|---|---|",
        *[
            f"| {name} | {code} | {kept or 'none'} | `{err}` |".replace("\n", "` `")
            for name, _, code, err, kept in rows
        ],
        "",
    ]
    with OUT.open("a") as out:
        out.write("\n".join(lines))
    print("\n".join(lines))


def write_report(check: str, rounds: list[tuple], loads: list[float], overhead: list[tuple[str, float, float]],
                 opts: argparse.Namespace, local_wall: float, local_loop: float, remote_cmd: list[str],
                 link: str) -> None:  # fmt: skip
    host = fingerprint()
    local_p50 = statistics.median(r[0] for r in rounds)
    remote_p50 = statistics.median(r[1] for r in rounds)
    remote = rounds[-1][3]
    lines = [
        "# Device links on loopback: device check, remote vs local p50, first-run overhead",
        "",
        f"Host: {host.cpu_model}, {host.usable_cores} usable cores, {host.os}; 1-min load average "
        f"{min(loads):.1f}-{max(loads):.1f} during the runs (other jobs share this machine).",
        f"Board: this machine over a real OpenSSH server on 127.0.0.1, Python with numpy + onnxruntime only; "
        f"board fingerprint `{remote['fingerprint']['cpu_model']}` "
        f"({remote['board']['id']}, profile {remote['board']['profile']}).",
        f"Regenerate: `PYTHONPATH=. .venv/bin/python benchmarks/device_link_check.py --rounds {opts.rounds} "
        f"--min-seconds {opts.min_seconds:g}`",
        "",
        f"## `edgekit device check {link} --profile host`",
        "",
        "```",
        check.rstrip(),
        "```",
        "",
        f"## Remote vs local p50, {MODEL} fp32 ONNX, onnxruntime-cpu, batch 1, same artifact, alternating runs",
        "",
        f"Remote: `edgekit {' '.join(remote_cmd)} --fresh`; local: `edgekit bench {MODEL} --runtime onnxruntime "
        f"--min-seconds {opts.min_seconds:g} --fresh`.",
        "",
        "| round | local p50 ms | remote p50 ms | remote / local |",
        "|---|---|---|---|",
        *[f"| {i + 1} | {lo:.2f} | {re:.2f} | {re / lo:.3f} |" for i, (lo, re, _, _) in enumerate(rounds)],
        f"| **median** | **{local_p50:.2f}** | **{remote_p50:.2f}** | **{remote_p50 / local_p50:.3f}** |",
        "",
        f"Peak RSS: remote {remote['memory']['peak_rss_mb']:.0f} MB (runner: stdlib + numpy + onnxruntime), local "
        f"{rounds[-1][2]['memory']['peak_rss_mb']:.0f} MB (edgekit's child also imports pydantic, onnx and edgekit).",
        "",
        "## Overhead of `bench --on` beyond the measurement itself",
        "",
        "Wall time of the whole CLI process minus the timed loop (`measured_seconds`): start-up, probe, copies, "
        "ssh connections, the board's interpreter and onnxruntime start-up, session creation, warm-up.",
        "",
        "| run | wall s | timed loop s | overhead s |",
        "|---|---|---|---|",
        *[f"| {label} | {wall:.2f} | {loop:.2f} | {wall - loop:.2f} |" for label, wall, loop in overhead],
        f"| local `bench` (for comparison) | {local_wall:.2f} | {local_loop:.2f} | {local_wall - local_loop:.2f} |",
        "",
        f"First-run cost of copying the runner ({_runner_kb():.0f} KB) and the model: "
        f"{(overhead[0][1] - overhead[0][2]) - (overhead[1][1] - overhead[1][2]):.2f} s on loopback.",
        "",
    ]
    OUT.write_text("\n".join(lines))
    print("\n".join(lines))


def _runner_kb() -> float:
    from edgekit.devices.bundle import runner_bundle

    return len(runner_bundle()) / 1024


if __name__ == "__main__":
    main()
