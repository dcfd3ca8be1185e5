"""`bench --on fleet` and `compare --on fleet` on the real three-node cluster: each cell on a board of its profile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edgekit.bench import BenchConfig, BenchResult, fingerprint
from edgekit.cli.main import app
from edgekit.devices.candidates import measure_candidates
from edgekit.devices.on import resolve_on
from edgekit.fleet._ray import alive_boards
from edgekit.paths import HOME_ENV
from edgekit.recommend import Constraints, recommend
from edgekit.store import ResultsStore
from tests.fleet.conftest import JETSON, PI, LocalFleet

pytestmark = pytest.mark.fleet
runner = CliRunner()
QUICK = ["-r", "onnxruntime", "--threads", "1", "--warmup", "1", "--min-iters", "5", "--min-seconds", "0.2"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    return tmp_path / "home"


def _fleet_profiles() -> list[str]:
    """The profiles with an alive board now (the two of the fixture, plus any another test left joining)."""
    import ray

    return sorted(alive_boards(ray))


def test_bench_on_fleet_measures_each_cell_on_every_profile_and_reuses_the_store(
    fleet: LocalFleet, tiny_models: list[Path], home: Path
) -> None:
    model = str(tiny_models[0])
    done = runner.invoke(app, ["bench", model, *QUICK, "--on", "fleet", "--json"])
    assert done.exit_code == 0, done.output
    rows = json.loads(done.stdout)["results"]
    assert sorted(r["result"]["board"]["profile"] for r in rows) == _fleet_profiles()  # default: every profile
    for row in rows:
        board = row["result"]["board"]
        assert board["id"] in fleet.boards[board["profile"]]
        assert board["link"] == f"ray://{board['id']}"
        assert BenchResult.model_validate(row["result"]).fingerprint.id == fingerprint().id  # the nodes are this host
        assert row["cached"] is False
    stored = ResultsStore(home / "results.sqlite").query()
    assert sorted(r.run_id for r in stored) == sorted(r["result"]["run_id"] for r in rows)  # stored as they came

    again = runner.invoke(app, ["bench", model, *QUICK, "--on", "fleet", "--profile", PI])
    assert again.exit_code == 0, again.output
    assert "measured on raspberry-pi-5 (" in again.stdout
    assert "ray://" in again.stdout
    assert "jetson" not in again.stdout  # one profile asked for
    assert "measured: reused from the results store" in again.stdout
    assert ResultsStore(home / "results.sqlite").count() == len(rows)  # nothing measured twice


def test_bench_on_fleet_a_failed_cell_is_one_line_exit_1_and_the_others_are_kept(
    fleet: LocalFleet, tiny_models: list[Path], home: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx file")
    done = runner.invoke(app, ["bench", str(tiny_models[1]), str(broken), *QUICK, "--on", "fleet", "--profile", JETSON])
    assert done.exit_code == 1, done.output
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert errors[0].startswith(f"error: broken.onnx/file onnxruntime-cpu b1 t1 @{JETSON}: ")
    assert "tiny1.onnx" in done.stdout  # the table of what was measured
    (row,) = ResultsStore(home / "results.sqlite").query()
    assert (row.spec.model, row.board.profile) == ("tiny1.onnx", JETSON)
    assert row.board.id in fleet.boards[JETSON]


def test_on_fleet_bad_input_is_one_line_exit_2(fleet: LocalFleet, tiny_models: list[Path], home: Path) -> None:
    model = str(tiny_models[0])
    cases = [
        (["bench", model, "--on", "fleet", "--profile", "stm32h747"],
         "error: no board in the fleet advertises edgekit-device:stm32h747 (boards by profile: "
         f"{', '.join(f'{p} (1)' for p in _fleet_profiles())}); add one with `edgekit fleet join --profile stm32h747 "
         "--address ...`"),
        (["bench", model, "--address", "127.0.0.1:1"],
         "error: --address names the Ray cluster of --on fleet; pass --on fleet with it"),
        (["compare", model, "-r", "onnxruntime", "--on", "fleet"],
         f"error: a comparison is of one device: pass --profile with one of {', '.join(_fleet_profiles())} (the "
         "fleet's boards)"),
    ]  # fmt: skip
    for args, line in cases:
        done = runner.invoke(app, args)
        assert done.exit_code == 2, done.output
        assert done.stderr.splitlines() == [line]
    assert not (home / "results.sqlite").exists() or ResultsStore(home / "results.sqlite").count() == 0


def test_compare_on_fleet_measures_its_latency_cells_on_the_profile(
    fleet: LocalFleet, tiny_models: list[Path], home: Path, tmp_path: Path
) -> None:
    args = ["compare", str(tiny_models[0]), *QUICK, "--batch", "2", "--on", "fleet", "--profile", PI]
    done = runner.invoke(app, [*args, "--out", str(tmp_path / "report"), "--json"])
    assert done.exit_code == 0, done.output
    (row,) = json.loads(done.stdout)["comparison"]["rows"]
    assert row["cells"]["latency_ms_per_image_b1"]["provenance"]["kind"] == "measured"
    stored = ResultsStore(home / "results.sqlite").query()
    assert sorted(r.spec.batch for r in stored) == [1, 2]
    for r in stored:
        assert r.board.profile == PI
        assert r.board.id in fleet.boards[PI]
    assert (tmp_path / "report" / "report.md").is_file()
    table = runner.invoke(app, [*args, "--out", str(tmp_path / "report")])
    assert table.exit_code == 0, table.output
    assert f"board {PI} of the fleet" in table.stdout
    assert ResultsStore(home / "results.sqlite").count() == 2  # the second table reused both cells


def test_recommend_on_fleet_without_measure_or_without_a_fleet_board_says_so(fleet: LocalFleet, home: Path) -> None:
    base = ["recommend", "--ram", "4GB", "--fps", "1", "--models", "squeezenet1_1"]
    done = runner.invoke(app, [*base, "--on", "fleet"])
    assert done.exit_code == 2, done.output
    assert done.stderr.splitlines() == [
        "error: --on and --address say where --measure measures; pass --measure with them"
    ]
    done = runner.invoke(app, [*base, "--profile", "jetson-nano", "--measure", "--on", "fleet"])
    assert done.exit_code == 0, done.output
    assert done.stderr.strip() == ("warning: --measure: no board in the fleet for jetson-nano times these candidates; "
                                   "nothing was measured")  # fmt: skip
    assert not (home / "results.sqlite").exists() or ResultsStore(home / "results.sqlite").count() == 0


@pytest.mark.slow  # exports and quantizes a torchvision model
def test_recommend_measure_on_fleet_measures_the_top_candidates_on_the_profiles_boards(
    fleet: LocalFleet, home: Path
) -> None:
    first = recommend(Constraints(ram_mb=4096, fps=1), PI, ["squeezenet1_1"], ["onnxruntime-cpu"])
    done = measure_candidates(first, BenchConfig(warmup=1, min_iters=3, min_seconds=0), top=2,
                              where=resolve_on("fleet"))  # fmt: skip
    assert done.failures == []
    assert done.measured == {f"fleet:{PI}": 2}  # the fleet's Jetson is not a profile this ranking asked for
    stored = ResultsStore(home / "results.sqlite").query(model="squeezenet1_1")
    assert [r.spec.variant for r in stored] == [c.recipe for c in first.feasible if c.profile == PI][:2]
    for r in stored:
        assert r.board.profile == PI
        assert r.board.id in fleet.boards[PI]
        assert (r.spec.runtime, r.spec.batch) == ("onnxruntime-cpu", 1)
