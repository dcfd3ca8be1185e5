"""`edgekit predict`: one prediction or a table of them; JSON spans; clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from edgekit.cli.main import app

runner = CliRunner()


def test_predict_json_has_spans() -> None:
    result = runner.invoke(app, ["predict", "resnet18", "--profile", "rk3588", "--runtime", "ncnn", "--precision",
                                 "fp16", "--cores", "big", "--threads", "4", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    latency = doc["latency_ms"]
    assert latency["low"] < latency["value"] < latency["high"]
    assert doc["peak_ram_mb"]["value"] > 0
    assert doc["energy_mj"]["value"] > 0
    assert doc["tier"] == "calibrated"


def test_predict_defaults_runtime_from_profile_targets() -> None:
    result = runner.invoke(app, ["predict", "mobilenet_v2", "-p", "coral-dev-board", "--unit", "tpu", "--precision",
                                 "int8", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["coordinates"]["runtime"] == "edgetpu"


def test_predict_table_keeps_row_order(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text("device_id,model,runtime,unit,cores,precision,threads,batch,input_size\n"
                     "jetson-nano,resnet18,tensorrt,gpu,,fp16,,1,224\n"
                     "raspberry-pi-4,mobilenet_v2,ncnn,cpu,all,fp32,4,1,224\n")  # fmt: skip
    result = runner.invoke(app, ["predict", "--table", str(table), "--json"])
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["coordinates"]["device_id"] for r in rows] == ["jetson-nano", "raspberry-pi-4"]
    assert all(r["observed_latency_ms"] is None for r in rows)


def test_predict_table_unplaceable_row_is_reported_per_row_and_the_rest_predicted(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text("device_id,model,runtime,unit,precision\nesp32-p4,mobilenet_v2,esp-dl,cpu,int8\n"
                     "rk3588,resnet18,ncnn,cpu,fp16\n")  # fmt: skip
    as_json = runner.invoke(app, ["predict", "--table", str(table), "--json"])
    human = runner.invoke(app, ["predict", "--table", str(table)], env={"COLUMNS": "250"})
    assert (as_json.exit_code, human.exit_code) == (0, 0), as_json.stderr + human.stderr
    bad, good = json.loads(as_json.stdout)
    assert (bad["line"], good["line"]) == (2, 3)
    assert bad["error"].startswith("t.csv line 2: unknown profile 'esp32-p4'")
    assert "latency_ms" not in bad
    assert good["error"] is None
    assert good["latency_ms"]["value"] > 0
    assert "unknown profile 'esp32-p4'" in human.stdout
    assert "1 of 2 rows could not be placed" in human.stdout


def test_predict_table_malformed_file_exits_2(tmp_path: Path) -> None:
    no_column = tmp_path / "a.csv"
    no_column.write_text("device_id,model,unit\nrk3588,resnet18,cpu\n")
    bad_value = tmp_path / "b.csv"
    bad_value.write_text("device_id,model,runtime,unit,precision\nrk3588,resnet18,ncnn,cpu,fp8\n")
    missing = runner.invoke(app, ["predict", "--table", str(no_column), "--json"])
    malformed = runner.invoke(app, ["predict", "--table", str(bad_value), "--json"])
    assert (missing.exit_code, malformed.exit_code, missing.stdout, malformed.stdout) == (2, 2, "", "")
    assert missing.stderr.strip() == f"error: table {no_column} lacks column(s) runtime"
    assert malformed.stderr.startswith("error: b.csv line 2: precision: Input should be")
    assert len(malformed.stderr.strip().splitlines()) == 1


def test_predict_needs_model_and_profile() -> None:
    result = runner.invoke(app, ["predict", "resnet18"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: give MODEL and --profile (or --table FILE.csv)"


def test_predict_unit_missing_on_device_exits_2() -> None:
    result = runner.invoke(app, ["predict", "resnet18", "-p", "raspberry-pi-4", "--unit", "npu", "--runtime", "qnn"])
    assert result.exit_code == 2
    assert "device raspberry-pi-4 has no npu" in result.stderr


def test_predict_human_output_labels_kinds() -> None:
    result = runner.invoke(app, ["predict", "mobilenet_v2", "-p", "stm32h747", "--precision", "int8"])
    assert result.exit_code == 0, result.stderr
    assert "flash (weights)" in result.stdout
    assert "computed" in result.stdout
    assert "no power figure" in result.stdout
