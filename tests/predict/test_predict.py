"""Predictions: tiers, intervals, memory, energy, power modes, tables; all labelled predicted."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from edgekit.errors import BadInputError, UnknownNameError
from edgekit.fileio import sha256_file
from edgekit.predict import (
    LATENCY_CSV,
    Coordinates,
    Prediction,
    load_calibration,
    load_params,
    predict,
    predict_table,
)
from edgekit.predict._calibration import source_key
from edgekit.predict._params import LatencyParams
from edgekit.profiles import get_profile

RK_NCNN = Coordinates(device_id="rk3588", model="resnet18", runtime="ncnn", cores="big", threads=4, precision="fp16")


def test_calibration_rows_and_exclusions() -> None:
    rows, skipped = load_calibration(LATENCY_CSV, devices=None)
    assert len(rows) == 503  # 508 published rows, 5 marked excluded
    profiled, skipped = load_calibration(LATENCY_CSV, devices={r.coords.device_id for r in rows} - {"x86-desktop"})
    assert (len(profiled), skipped) == (501, 2)


def test_source_keys_group_by_publisher() -> None:
    assert source_key("https://github.com/Tencent/ncnn/blob/a4d2/benchmark/README.md#L102 (run 1)") == (
        "github.com/Tencent/ncnn"
    )
    assert source_key("https://coral.ai/docs/edgetpu/benchmarks/") == "coral.ai"


def test_shipped_parameters_match_the_shipped_csv() -> None:
    params = load_params()
    assert params.calibration_sha256 == sha256_file(LATENCY_CSV)
    assert params.calibration_rows == 490
    assert set(params.interval_quantiles) == {"calibrated", "new-device", "new-runtime"}
    assert params.validation["lodo_nested_coverage"] >= 0.8


def test_params_digest_ignores_last_bit_refit_noise_only() -> None:
    params = load_params()
    ncnn = params.runtime_coefficients["ncnn/cpu"]

    def nudged(factor: float) -> LatencyParams:
        coefficients = {**params.runtime_coefficients, "ncnn/cpu": [ncnn[0] * factor, *ncnn[1:]]}
        return params.model_copy(update={"runtime_coefficients": coefficients})

    assert nudged(1 + 4 * math.ulp(1.0)).digest() == params.digest()  # a refit differs about this much
    assert nudged(1 + 1e-6).digest() != params.digest()


def test_calibrated_prediction_is_predicted_with_interval() -> None:
    result = predict(RK_NCNN)
    latency = result.latency_ms
    assert result.tier == "calibrated"
    assert latency.provenance.kind == "predicted"
    assert latency.provenance.interval.low < latency.value < latency.provenance.interval.high
    assert "edgekit.predict.latency@1" in latency.provenance.predictor
    assert result.fps.value == pytest.approx(1000 / latency.value)
    assert result.fps.provenance.interval.low == pytest.approx(1000 / latency.provenance.interval.high)


def test_tiers_widen_with_what_the_calibration_lacks() -> None:
    new_device = predict(RK_NCNN.model_copy(update={"device_id": "raspberry-pi-5", "cores": None, "threads": 4}))
    new_runtime = predict(Coordinates(device_id="host", model="resnet18", runtime="openvino"))
    assert (new_device.tier, new_runtime.tier) == ("new-device", "new-runtime")
    params = load_params()
    width = {t: q["all"].high - q["all"].low for t, q in params.interval_quantiles.items()}
    assert width["calibrated"] < width["new-device"] < width["new-runtime"]


def test_energy_is_latency_times_mode_power() -> None:
    result = predict(RK_NCNN)
    assert result.energy_mj.value == pytest.approx(result.latency_ms.value * 10.0)  # rk3588 default: 10 W


def test_power_mode_scales_latency_by_clock() -> None:
    coords = Coordinates(device_id="jetson-orin-nano", model="resnet18", runtime="tensorrt", unit="gpu",
                         precision="fp16")  # fmt: skip
    base = predict(coords, power_mode="15W").latency_ms.value
    assert predict(coords, power_mode="MAXN_SUPER").latency_ms.value == pytest.approx(base / 1.63)
    with pytest.raises(UnknownNameError, match="unknown power mode of jetson-orin-nano 'MAXN'; did you mean"):
        predict(coords, power_mode="MAXN")


def test_microcontroller_weights_count_against_flash_not_ram() -> None:
    coords = Coordinates(device_id="stm32h747", model="mobilenet_v2", runtime="stm32cube-ai", precision="int8")
    result = predict(coords)
    assert result.flash_mb.value == pytest.approx(3_504_872 / 2**20)  # params x 1 byte
    assert "weights 0.00" in result.peak_ram_mb.provenance.note
    assert get_profile("stm32h747").memory.weights_in == "flash"


def test_unknown_names_are_clear() -> None:
    with pytest.raises(UnknownNameError, match="unknown runtime 'ncnnn'; did you mean ncnn"):
        predict(RK_NCNN.model_copy(update={"runtime": "ncnnn"}))
    with pytest.raises(UnknownNameError, match="unknown model 'resnet19'"):
        predict(RK_NCNN.model_copy(update={"model": "resnet19"}))


def test_table_predicts_rows_in_order(tmp_path: Path) -> None:
    table = tmp_path / "rows.csv"
    table.write_text("device_id,model,runtime,unit,cores,precision,threads,batch,input_size,latency_ms\n"
                     "rk3588,resnet18,ncnn,cpu,big,fp16,4,1,224,9.93\n"
                     "coral-dev-board,mobilenet_v2,edgetpu,tpu,,int8,,1,224,\n")  # fmt: skip
    first, second = predict_table(table)
    assert (first.coordinates.model, second.coordinates.device_id) == ("resnet18", "coral-dev-board")
    assert (first.observed_latency_ms, second.observed_latency_ms) == (9.93, None)
    assert first.latency_ms.value == pytest.approx(predict(RK_NCNN).latency_ms.value)


def test_table_rows_are_predicted_as_calibration_compares_them(tmp_path: Path) -> None:
    """A board naming a power mode is predicted in that mode; a stated graph variant on that graph."""
    table = tmp_path / "rows.csv"
    table.write_text(
        "device_id,board,model,model_variant,runtime,unit,cores,precision,threads,batch,input_size\n"
        'jetson-orin-nano,"Super/MAXN_SUPER 25W, JetPack 6",resnet18,,tensorrt,gpu,,fp16,,1,224\n'
        'rk3588,,resnet50,"Caffe ResNet-50 v1 (stride 2 on the 1x1 conv; 3.86 vs 4.09 GMACs)",ncnn,cpu,big,fp16,4,1,\n'
    )  # fmt: skip
    super_mode, caffe = predict_table(table)
    reference = predict(super_mode.coordinates)
    assert (super_mode.power_mode, reference.power_mode) == ("MAXN_SUPER", "15W")
    assert super_mode.latency_ms.value == pytest.approx(reference.latency_ms.value / 1.63)
    torchvision = predict(caffe.coordinates)
    compute = torchvision.detail["term_ms:dense_compute"]
    assert caffe.detail["term_ms:dense_compute"] == pytest.approx(compute * 3.86 / 4.089, rel=2e-3)
    assert caffe.latency_ms.value < torchvision.latency_ms.value


def test_table_rows_that_cannot_be_placed_get_their_own_error_and_the_rest_is_predicted(tmp_path: Path) -> None:
    table = tmp_path / "rows.csv"
    table.write_text("device_id,model,runtime,unit,precision\nrk3588,resnet18,ncnn,cpu,fp16\n"
                     "rk3576,mobilenet_v2,rknn,npu,int8\nrk3588,resnet19,ncnn,cpu,fp16\n"
                     "rk3588,resnet18,ncnnn,cpu,fp16\nraspberry-pi-4,resnet18,qnn,npu,int8\n"
                     "rk3588,mobilenet_v2,ncnn,cpu,fp32\n")  # fmt: skip
    first, device, model, runtime, unit, last = predict_table(table)
    assert isinstance(first, Prediction)
    assert isinstance(last, Prediction)
    assert last.coordinates.model == "mobilenet_v2"
    assert last.latency_ms.value == pytest.approx(predict(last.coordinates).latency_ms.value)
    assert [(e.line, e.coordinates.model) for e in (device, model, runtime, unit)] == [
        (3, "mobilenet_v2"), (4, "resnet19"), (5, "resnet18"), (6, "resnet18")]  # fmt: skip
    assert device.error.startswith("rows.csv line 3: unknown profile 'rk3576'; did you mean rk3588")
    assert model.error.startswith("rows.csv line 4: unknown model 'resnet19'")
    assert runtime.error.startswith("rows.csv line 5: unknown runtime 'ncnnn'; did you mean ncnn")
    assert "device raspberry-pi-4 has no npu" in unit.error


def test_table_with_bad_value_names_line_and_field(tmp_path: Path) -> None:
    table = tmp_path / "rows.csv"
    table.write_text("device_id,model,runtime,unit,precision\nrk3588,resnet18,ncnn,cpu,fp8\n")
    with pytest.raises(BadInputError, match=r"rows.csv line 2: precision: Input should be"):
        predict_table(table)
