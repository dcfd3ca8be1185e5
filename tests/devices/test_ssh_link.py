"""Device links end to end through a real OpenSSH server on 127.0.0.1: check, bench --on, the board's cache.

The board is this machine reached over loopback ssh, running a Python that has only numpy and
onnxruntime; nothing of the transport is mocked.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edgekit.bench import BenchConfig, fingerprint
from edgekit.cli.main import app
from edgekit.devices import load_devices, resolve_board
from edgekit.devices.bundle import runner_sha256
from edgekit.devices.candidates import measure_candidates
from edgekit.fileio import sha256_file
from edgekit.recommend import Constraints, recommend
from edgekit.store import ResultsStore
from tests.devices._boards import minimal_python
from tests.devices._sshd import Sshd
from tests.devices.conftest import loop_board, write_devices

runner = CliRunner()
QUICK = ["--warmup", "1", "--min-iters", "3", "--min-seconds", "0"]


def test_device_check_reads_the_boards_own_fingerprint(home: Path, sshd: Sshd) -> None:
    result = runner.invoke(app, ["device", "check", "loop", "--json"])
    assert result.exit_code == 0, result.output
    check = json.loads(result.stdout)
    here = fingerprint()
    fp = check["fingerprint"]
    # The same CPU answers over ssh: the machine fields read on the board equal this host's.
    for field in ("cpu_model", "logical_cores", "physical_cores", "usable_cores", "memory_total_mb", "machine", "os"):
        assert fp[field] == getattr(here, field), field
    # Read on the board: its python has onnxruntime and numpy only — no edgekit, torch or pydantic.
    assert fp["tool_versions"]["onnxruntime"] == here.tool_versions["onnxruntime"]
    assert "edgekit" not in fp["tool_versions"]
    assert "torch" not in fp["tool_versions"]
    assert fp["tool_versions"]["edgekit-board-runner"] == here.tool_versions["edgekit"]
    assert check["runtimes"] == {"onnxruntime-cpu": None, "openvino-cpu": "openvino is not installed"}
    assert check["profile"] == "host"
    assert check["mismatches"] == []
    assert check["facts"]["page_size"] > 0
    assert check["facts"]["kernel"]
    assert check["fingerprint_id"] != here.id  # board rows never mix with this host's


def test_device_check_text_and_profile_mismatch_warning(home: Path) -> None:
    result = runner.invoke(app, ["device", "check", "loop", "--profile", "raspberry-pi-5"])
    assert result.exit_code == 0, result.output
    assert "can time     onnxruntime-cpu" in result.stdout
    assert "profile      raspberry-pi-5: DOES NOT MATCH" in result.stdout
    warnings = result.stderr.strip().splitlines()
    assert (f"warning: the board does not match profile raspberry-pi-5: raspberry-pi-5 has 4x Cortex-A76; "
            f"the board reports {fingerprint().cpu_model}") in warnings  # fmt: skip
    assert all(line.startswith("warning: the board does not match profile raspberry-pi-5: ") for line in warnings)


def test_bench_on_an_ssh_link_measures_there_and_stores_board_rows(home: Path, sshd: Sshd, tiny: Path) -> None:
    args = ["bench", str(tiny), "--on", sshd.link, "--profile", "host", "--batch", "1,2", "--json", *QUICK]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["results"]
    assert [r["cached"] for r in rows] == [False, False]
    store = ResultsStore()
    stored = store.query(model="tiny.onnx")
    assert [r.spec.batch for r in stored] == [1, 2]
    board_fp = stored[0].fingerprint
    for r in stored:
        assert r.board is not None
        assert (r.board.id, r.board.profile, r.board.link) == ("loop", "host", sshd.link)
        assert r.fingerprint.id == board_fp.id != fingerprint().id
        assert r.stats.iters >= 3
        assert r.stats.latency_ms_p50 > 0
        assert r.memory is not None
        assert r.memory.peak_rss_mb > r.memory.baseline_rss_mb > 0
        assert r.settings["intra_op_threads"] == str(board_fp.usable_cores)
        prov = r.metric("latency_ms_p50").provenance
        assert prov.kind == "measured"
        assert prov.device_profile == "host"
        assert prov.host == board_fp.id
        assert prov.note.startswith("measured on host (loop), batch ")
    # The runner and the artifact sit in the board's cache under their digests.
    cache = Path(load_devices().boards[0].cache_dir)
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        [f"runner-{runner_sha256()[:16]}.pyz", f"{sha256_file(tiny)[:16]}.onnx"]
    )
    # A second run finds both results in the store (same board fingerprint), measuring nothing.
    again = runner.invoke(app, args)
    assert [r["cached"] for r in json.loads(again.stdout)["results"]] == [True, True]
    assert store.count() == 2


def test_files_already_on_the_board_are_not_copied_again(home: Path, tiny: Path) -> None:
    board = resolve_board("loop")
    assert board is not None
    names = board.ship([tiny])
    cache = Path(board.cache_dir)
    before = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    assert board.missing([board.runner_name, names[tiny]]) == []
    assert board.ship([tiny]) == names
    assert {p.name: p.stat().st_mtime_ns for p in cache.iterdir()} == before
    assert not [p for p in cache.iterdir() if p.name.endswith(".partial")]


def test_bench_on_prints_the_board_in_the_table(home: Path, tiny: Path) -> None:
    result = runner.invoke(app, ["bench", str(tiny), "--on", "loop", *QUICK])
    assert result.exit_code == 0, result.output
    assert "measured on host (loop, ssh://" in result.stdout
    assert "tiny" in result.stdout
    assert "onnxruntime-cpu" in result.stdout


def test_devices_lists_boards_with_their_last_check(home: Path) -> None:
    before = json.loads(runner.invoke(app, ["devices", "--json"]).stdout)
    assert [(b["id"], b["last_check"]) for b in before["boards"]] == [("loop", None)]
    assert runner.invoke(app, ["device", "check", "loop"]).exit_code == 0
    after = json.loads(runner.invoke(app, ["devices", "--json"]).stdout)
    last = after["boards"][0]["last_check"]
    assert last["board"] == "loop"
    assert last["runtimes"]["onnxruntime-cpu"] is None
    assert last["mismatches"] == []
    text = runner.invoke(app, ["devices"])
    assert "host: matches, times onnxruntime-cpu" in text.stdout


@pytest.mark.slow  # exports a torchvision model
def test_compare_on_a_board_measures_its_latency_cells_there(home: Path, sshd: Sshd, tmp_path: Path) -> None:
    args = ["compare", "squeezenet1_1", "--on", "loop", "--warmup", "1", "--min-iters", "3", "--min-seconds", "0",
            "--batch", "2", "--out", str(tmp_path / "report"), "--json"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    comparison = json.loads(result.stdout)["comparison"]
    board_fp = ResultsStore().query(model="squeezenet1_1")[0].fingerprint
    assert comparison["fingerprint"] == json.loads(board_fp.model_dump_json())
    (row,) = comparison["rows"]
    assert row["runtime"] == "onnxruntime-cpu"
    latency = row["cells"]["latency_ms_per_image_b1"]["provenance"]
    assert latency["host"] == board_fp.id != fingerprint().id
    assert latency["device_profile"] == "host"
    assert latency["note"].startswith("measured on host (loop), batch 1, ")
    stored = ResultsStore().query(model="squeezenet1_1")
    assert sorted(r.spec.batch for r in stored) == [1, 2]
    assert all(r.board is not None and r.board.id == "loop" for r in stored)


@pytest.mark.slow  # exports and quantizes a torchvision model
def test_recommend_measure_measures_the_top_candidates_on_the_profiles_board(home: Path) -> None:
    constraints = Constraints(ram_mb=4096, fps=1)
    first = recommend(constraints, "host", ["squeezenet1_1"], ["onnxruntime-cpu"])
    config = BenchConfig(warmup=1, min_iters=3, min_seconds=0)
    done = measure_candidates(first, config, top=2)
    assert done.failures == []
    assert done.measured == {"loop": 2}
    stored = ResultsStore().query(model="squeezenet1_1")
    expected = [c.recipe for c in first.feasible if c.profile == "host"][:2]
    assert [r.spec.variant for r in stored] == expected
    assert all(r.board is not None and (r.board.id, r.board.profile) == ("loop", "host") for r in stored)
    assert all(r.spec.runtime == "onnxruntime-cpu" and r.spec.batch == 1 for r in stored)


def test_recommend_measure_without_a_board_for_the_profile_says_so(home: Path) -> None:
    result = runner.invoke(app, ["recommend", "--ram", "4GB", "--fps", "1", "--profile", "rk3588", "--measure",
                                 "--models", "squeezenet1_1"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == ("warning: --measure: no board in devices.yaml for rk3588 times these "
                                     "candidates; nothing was measured")  # fmt: skip


def test_export_verify_on_runs_the_parity_check_on_the_board(home: Path, tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    result = runner.invoke(app, ["export", str(tiny), "--target", "onnxruntime-cpu", "--out", str(out),
                                 "--verify-on", "loop", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    verification = json.loads(result.stdout)["manifest"]["verification"]
    assert verification["status"] == "passed"
    assert verification["verifier"] == "onnxruntime on board loop"
    assert verification["tool_versions"]["onnxruntime"] == fingerprint().tool_versions["onnxruntime"]
    assert "edgekit-board-runner" in verification["tool_versions"]
    (check,) = verification["checks"]
    assert check["passed"]
    assert check["candidate"] == "onnxruntime-cpu (onnxruntime on board loop)"
    # Same CPU, same onnxruntime: the board's outputs equal this machine's run of the file.
    assert check["fidelity"]["max_abs_error"] < 1e-4
    assert check["fidelity"]["n_samples"] == 8
    refused = runner.invoke(app, ["export", str(tiny), "--target", "openvino-cpu", "--out", str(tmp_path / "o"),
                                  "--verify-on", "loop"])  # fmt: skip
    assert refused.exit_code == 2
    assert refused.stderr.strip() == ("error: --verify-on runs the parity check of onnxruntime CPU targets on a "
                                      "board; target openvino-cpu is verified with openvino")  # fmt: skip
    assert not (tmp_path / "o").exists()


def test_bench_on_times_openvino_on_a_board_that_has_it(home: Path, sshd: Sshd, tiny: Path, tmp_path: Path) -> None:
    python = minimal_python(tmp_path / "ov-python", packages=("numpy", "openvino"))
    write_devices(home, loop_board(sshd, python, tmp_path / "board-cache", runtimes=["openvino-cpu"]))
    result = runner.invoke(app, ["bench", str(tiny), "--on", "loop", "--json", "--warmup", "1", "--min-iters", "3",
                                 "--min-seconds", "0"])  # fmt: skip
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)["results"]
    stored = row["result"]
    assert stored["spec"]["runtime"] == "openvino-cpu"
    # Compiled on the board exactly as the local runner compiles (one module: edgekit/_ov_options.py).
    threads = str(fingerprint().usable_cores)
    assert stored["settings"] == {"PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": "1", "INFERENCE_PRECISION_HINT": "f32",
                                  "INFERENCE_NUM_THREADS": threads, "device": "CPU"}  # fmt: skip
    assert set(stored["runtime_versions"]) == {"openvino", "edgekit-board-runner"}
    check = json.loads(runner.invoke(app, ["device", "check", "loop", "--json"]).stdout)
    assert check["runtimes"] == {"onnxruntime-cpu": "onnxruntime is not installed", "openvino-cpu": None}
