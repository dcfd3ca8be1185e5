"""`edgekit recommend`: exit 0 when something fits, 1 with closest misses, 2 for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edgekit.cli.main import app

runner = CliRunner()


def test_demo_budget_fits_and_shows_best_per_device() -> None:
    result = runner.invoke(app, ["recommend", "--ram", "512MB", "--fps", "30"])
    assert result.exit_code == 0, result.stderr
    assert "best per device" in result.stdout
    assert "fit (hard limits use the pessimistic end of each interval)" in result.stdout
    assert "predicted by edgekit.predict.latency@1" in result.stdout


def test_impossible_budget_exits_1_with_closest_misses() -> None:
    result = runner.invoke(app, ["recommend", "--ram", "4MB", "--fps", "1000"])
    assert result.exit_code == 1
    assert "nothing fits — closest misses" in result.stdout
    assert "RAM: needs" in result.stdout
    assert "(pessimistic) < 1000" in result.stdout


def test_bad_unit_exits_2_with_one_line() -> None:
    result = runner.invoke(app, ["recommend", "--ram", "512XB", "--fps", "30"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: unknown memory unit 'xb' in '512XB': use B, KB, MB, GB, TB (or K, M, G, KiB, MiB, GiB)"
    ]


def test_json_lists_every_candidate_with_reasons() -> None:
    result = runner.invoke(app, ["recommend", "--ram", "512MB", "--fps", "30", "-p", "raspberry-pi-4", "--json"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["fits"] is True
    assert doc["candidates"] == len(doc["feasible"]) + len(doc["rejected"])
    best = doc["best_per_device"][0]
    assert set(best["latency_ms"]) == {"value", "low", "high"}
    assert best["top1_pct"]["kind"] == "published"
    assert all(r["reasons"] for r in doc["rejected"])


def test_unknown_target_exits_2() -> None:
    result = runner.invoke(app, ["recommend", "--ram", "512MB", "--fps", "30", "--targets", "tensorflow"])
    assert result.exit_code == 2
    assert "unknown target 'tensorflow'" in result.stderr


@pytest.mark.slow
def test_export_writes_the_verified_artifact_through_the_targets_path(tmp_path: Path) -> None:
    out = tmp_path / "exports"
    result = runner.invoke(app, ["recommend", "--ram", "512MB", "--fps", "10", "-p", "host", "-t", "onnxruntime-cpu",
                                 "-m", "mobilenet_v3_small", "--export", str(out), "--json"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    (folder,) = doc["exported"]
    best = doc["feasible"][0]
    assert Path(folder).name == f"host-mobilenet_v3_small-{best['recipe']}-onnxruntime-cpu"
    manifest = json.loads((Path(folder) / "manifest.json").read_text())
    assert manifest["target"] == "onnxruntime-cpu"


def test_microcontroller_resnet18_rejection_reason_on_the_command_line() -> None:
    result = runner.invoke(app, ["recommend", "--ram", "512MB", "--fps", "0.01", "-p", "stm32h747", "-m", "resnet18",
                                 "--rejected"])  # fmt: skip
    assert result.exit_code == 1
    assert "usable on stm32h747" in result.stdout
    assert "RAM: needs" in result.stdout


def test_rejected_listing_when_something_fits() -> None:
    result = runner.invoke(app, ["recommend", "--ram", "512MB", "--fps", "30", "-p", "raspberry-pi-4", "--rejected"])
    assert result.exit_code == 0
    assert "rejected, closest first" in result.stdout
    assert "(pessimistic) < 30" in result.stdout


@pytest.mark.slow
def test_export_writes_the_best_of_each_device_and_says_what_was_not_verified(tmp_path: Path) -> None:
    out = tmp_path / "exports"
    args = ["recommend", "--ram", "512MB", "--fps", "10", "-p", "raspberry-pi-4,rk3588", "-m", "squeezenet1_1",
            "-t", "ncnn,rknn", "--export-top", "2"]  # fmt: skip
    doc = json.loads(runner.invoke(app, [*args, "--export", str(out), "--json"]).stdout)
    expected = [c for p in ("raspberry-pi-4", "rk3588") for c in [f for f in doc["feasible"] if f["profile"] == p][:2]]
    assert {c["profile"] for c in expected} == {"raspberry-pi-4", "rk3588"}  # both devices have candidates
    assert [e["profile"] for e in doc["exports"]] == [c["profile"] for c in expected]
    for export, candidate in zip(doc["exports"], expected, strict=True):
        folder = Path(export["out_dir"])
        assert folder.name == f"{candidate['profile']}-squeezenet1_1-{candidate['recipe']}-{candidate['target']}"
        assert (folder / "manifest.json").is_file()
    text = runner.invoke(app, [*args, "--export", str(tmp_path / "again")]).stdout
    rknn = [line for line in text.splitlines() if line.startswith("exported:") and "via rknn" in line]
    assert rknn
    assert all("NOT verified here: rknn-toolkit2" in line for line in rknn), rknn
