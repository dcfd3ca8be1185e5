"""edgekit calibrate: a board's stored measurements correct later predictions on its profile, with a t interval."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edgekit.cli.main import app
from edgekit.errors import EdgekitWarning
from edgekit.predict import Coordinates, predict
from edgekit.predict._board_calibration import SIGMA_FLOOR, CalibrationRow, calibration_path, t_quantile
from edgekit.predict._board_fit import calibrate, fit
from edgekit.store import ResultsStore
from tests.test_measured import PI5, PI5_BOARD, _row

runner = CliRunner()
PI5_ORT = Coordinates(device_id="raspberry-pi-5", model="mobilenet_v3_large", runtime="onnxruntime")
# p50 of each model as measured on the board (ms); ten equal samples make p50 exactly this figure.
MEASURED_MS = {"mobilenet_v2": 30.0, "resnet18": 80.0, "squeezenet1_1": 20.0}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of its own: a saved calibration changes every later prediction on its profile."""
    monkeypatch.setenv("EDGEKIT_HOME", str(tmp_path))
    return tmp_path


def _measure_on_pi5(models: dict[str, float], variant: str = "fp32") -> None:
    store = ResultsStore()
    for model, ms in models.items():
        store.put(_row(model, variant, "onnxruntime-cpu", samples=[ms / 1000] * 10, board=PI5_BOARD, where=PI5))


def _row_of(model: str, runtime: str, precision: str, log_ratio: float) -> CalibrationRow:
    return CalibrationRow(model=model, runtime=runtime, unit="cpu", precision=precision, bench_runtime="x",
                          measured_ms=10 * math.exp(log_ratio), predicted_ms=10.0, board="b", run_id="r")  # fmt: skip


def test_t_quantiles_match_the_tables() -> None:
    # two-sided 90%: t(0.95; dof) from any t table
    assert [round(t_quantile(0.9, d), 3) for d in (1, 2, 5, 30)] == [6.314, 2.920, 2.015, 1.697]


def test_fit_own_and_pooled_factors_and_t_intervals() -> None:
    rows = [_row_of("a", "onnxruntime", "fp32", -1.0), _row_of("b", "onnxruntime", "fp32", -0.8),
            _row_of("c", "onnxruntime", "fp32", -0.9), _row_of("d", "openvino", "fp32", -0.3)]  # fmt: skip
    calibration = fit("rk3588", rows, "p", 0.9)
    (own,) = calibration.own
    assert (own.runtime, own.basis, own.n, own.dof) == ("onnxruntime", "own", 3, 2)  # 4 rows - 1 group - 1 rest
    assert own.factor == pytest.approx(math.exp(-0.9))
    within = math.sqrt((0.1**2 + 0.1**2) / 2)  # the lone openvino row sits on its own mean
    assert own.sigma == pytest.approx(within)
    assert own.half_width == pytest.approx(2.920 * within * math.sqrt(1 + 1 / 3), rel=1e-3)
    pooled = calibration.pooled
    logs = [-1.0, -0.8, -0.9, -0.3]
    mean = sum(logs) / 4
    assert pooled.factor == pytest.approx(math.exp(mean))
    assert pooled.sigma == pytest.approx(math.sqrt(sum((x - mean) ** 2 for x in logs) / 3))
    assert pooled.dof == 3
    openvino = calibration.correction_for(Coordinates(device_id="rk3588", model="m", runtime="openvino"))
    assert openvino.basis == "pooled"
    assert calibration.correction_for(Coordinates(device_id="rk3588", model="m", runtime="rknn", unit="npu")) is None


def test_agreeing_rows_never_give_a_zero_width_interval() -> None:
    rows = [_row_of(m, "onnxruntime", "fp32", -0.5) for m in "abc"]
    calibration = fit("host", rows, "p", 0.9)
    assert calibration.own[0].sigma == SIGMA_FLOOR
    assert calibration.own[0].half_width > 0


def test_calibrate_a_board_and_later_predictions_on_its_profile_use_it(home: Path) -> None:
    # setup: three models measured on a Pi 5 board
    _measure_on_pi5(MEASURED_MS)
    before = predict(PI5_ORT)
    rk3588_before = predict(PI5_ORT.model_copy(update={"device_id": "rk3588"}))
    # execute
    result = calibrate("raspberry-pi-5")
    after = predict(PI5_ORT)
    ncnn = predict(PI5_ORT.model_copy(update={"runtime": "ncnn"}))
    # assert: the factor is the geometric mean of measured / predicted over the three rows
    rows = result.calibration.rows
    assert sorted(r.model for r in rows) == sorted(MEASURED_MS)
    assert all(r.board == "pi5" for r in rows)
    ratios = [MEASURED_MS[r.model] / r.predicted_ms for r in rows]
    factor = math.exp(sum(map(math.log, ratios)) / 3)
    assert after.latency_ms.value == pytest.approx(before.latency_ms.value * factor)
    assert after.tier == "board-calibrated"
    assert after.latency_ms.provenance.note.startswith(
        "predicted, calibrated on 3 measurements (profile raspberry-pi-5): "
    )
    interval = after.latency_ms.provenance.interval
    half = result.calibration.own[0].half_width
    assert (interval.low, interval.high) == pytest.approx((after.latency_ms.value / math.exp(half),
                                                           after.latency_ms.value * math.exp(half)))  # fmt: skip
    assert "(pooled: all rows pooled, 3 rows)" in ncnn.latency_ms.provenance.note  # ncnn was not measured
    # ... saved where it says, and other profiles are untouched
    assert result.path == calibration_path("raspberry-pi-5") == home / "calibration" / "raspberry-pi-5.json"
    assert json.loads(result.path.read_text())["profile"] == "raspberry-pi-5"
    assert predict(PI5_ORT.model_copy(update={"device_id": "rk3588"})) == rk3588_before
    assert predict(PI5_ORT, calibrate=False).latency_ms.value == before.latency_ms.value


def test_cli_calibrate_json_and_too_few_rows(home: Path) -> None:
    # setup: two rows on the Pi 5, and one whose recipe is no precision
    _measure_on_pi5({"mobilenet_v2": 30.0, "resnet18": 80.0})
    _measure_on_pi5({"squeezenet1_1": 20.0}, variant="int8-pruned")
    # execute
    few = runner.invoke(app, ["calibrate", "raspberry-pi-5"])
    nothing_saved = not (home / "calibration").exists()
    _measure_on_pi5({"squeezenet1_1": 20.0})
    enough = runner.invoke(app, ["calibrate", "raspberry-pi-5", "--json"])
    # assert
    assert few.exit_code == 2
    assert few.stderr.strip() == (
        "error: only 2 usable measurement(s) on profile raspberry-pi-5 (need 3); 1 stored row(s) left out: "
        "squeezenet1_1 int8-pruned onnxruntime-cpu: recipe int8-pruned is not one of fp32, fp16, int8"
    )
    assert nothing_saved
    assert enough.exit_code == 0, enough.stderr
    doc = json.loads(enough.stdout)
    assert len(doc["calibration"]["rows"]) == 3
    assert doc["calibration"]["own"][0]["runtime"] == "onnxruntime"
    assert doc["skipped"][0]["variant"] == "int8-pruned"


def test_no_rows_on_the_profile_is_one_error_line(home: Path) -> None:
    result = runner.invoke(app, ["calibrate", "rk3588"])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: only 0 usable measurement(s) on profile rk3588; calibrating needs at least 3"
    )


def test_a_corrupt_calibration_file_is_one_error_line_and_a_new_calibrate_replaces_it(home: Path) -> None:
    # setup: a calibration, then its file cut short
    _measure_on_pi5(MEASURED_MS)
    path = calibrate("raspberry-pi-5").path
    path.write_text(path.read_text()[:100])
    # execute
    broken = runner.invoke(app, ["predict", "resnet18", "-p", "raspberry-pi-5", "--runtime", "onnxruntime"])
    table = home / "t.csv"
    table.write_text("device_id,model,runtime\nrk3588,resnet18,ncnn\nraspberry-pi-5,resnet18,onnxruntime\n")
    broken_table = runner.invoke(app, ["predict", "--table", str(table), "--json"])
    again = runner.invoke(app, ["calibrate", "raspberry-pi-5"])
    fixed = runner.invoke(app, ["predict", "resnet18", "-p", "raspberry-pi-5", "--runtime", "onnxruntime", "--json"])
    # assert
    assert broken.exit_code == 2
    assert broken.stderr.startswith(f"error: calibration file {path} is corrupt (")
    assert len(broken.stderr.strip().splitlines()) == 1
    assert (broken_table.exit_code, broken_table.stdout) == (2, "")  # the home's file, not a row's error
    assert broken_table.stderr.startswith(f"error: calibration file {path} is corrupt (")
    assert again.exit_code == 0, again.stderr
    assert json.loads(fixed.stdout)["tier"] == "board-calibrated"
    assert sorted(p.name for p in path.parent.iterdir()) == ["raspberry-pi-5.json"]  # no temp file left beside it


def test_a_calibration_fitted_against_other_parameters_is_ignored_with_a_warning(home: Path) -> None:
    _measure_on_pi5(MEASURED_MS)
    path = calibrate("raspberry-pi-5").path
    doc = json.loads(path.read_text())
    path.write_text(json.dumps({**doc, "predictor": "edgekit.predict.latency@0 (params 000000000000)"}))
    with pytest.warns(EdgekitWarning, match=r"fitted against edgekit.predict.latency@0 .*: ignored; run `edgekit cal"):
        stale = predict(PI5_ORT)
    assert stale.tier == "new-device"
    assert stale.latency_ms.value == predict(PI5_ORT, calibrate=False).latency_ms.value


def test_recommend_on_a_calibrated_profile_marks_the_corrected_figures(home: Path) -> None:
    _measure_on_pi5(MEASURED_MS)
    calibrate("raspberry-pi-5")
    args = ["recommend", "--ram", "512MB", "--fps", "1", "--profile", "raspberry-pi-5", "--models",
            "mobilenet_v3_large", "--targets", "onnxruntime-cpu"]  # fmt: skip
    table = runner.invoke(app, args, env={"COLUMNS": "250"})
    as_json = runner.invoke(app, [*args, "--json"])
    assert (table.exit_code, as_json.exit_code) == (0, 0), table.stderr + as_json.stderr
    fp32 = next(c for c in json.loads(as_json.stdout)["feasible"] if c["recipe"] == "fp32")
    assert fp32["tier"] == "board-calibrated"
    assert fp32["latency_note"].startswith("predicted, calibrated on 3 measurements (profile raspberry-pi-5)")
    assert "(c)" in table.stdout
