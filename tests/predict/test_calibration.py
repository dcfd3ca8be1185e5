"""Calibration rows: rows measured in a named power mode are brought to the profile's reference clocks."""

from __future__ import annotations

import pytest

from edgekit.predict import Coordinates
from edgekit.predict._calibration import CalibrationRow, load_calibration, power_mode_named_in
from edgekit.profiles import get_profile, load_profiles


def _row(device: str, board: str, latency_ms: float = 1.0) -> CalibrationRow:
    coords = Coordinates(device_id=device, model="resnet18", runtime="tensorrt", unit="gpu", precision="fp16")
    return CalibrationRow(coords, latency_ms, "test", 2, board)


def test_a_board_naming_a_power_mode_scales_the_row_to_reference_clocks() -> None:
    orin_nano = get_profile("jetson-orin-nano")
    row = _row("jetson-orin-nano", "Super/MAXN_SUPER 25W, JetPack 6", latency_ms=0.758)
    assert power_mode_named_in(row.board, orin_nano).name == "MAXN_SUPER"
    assert row.reference_latency_ms(orin_nano) == pytest.approx(0.758 * 1.63)  # GPU 1.02 / 0.625 GHz


def test_power_modes_match_whole_tokens_only() -> None:
    agx = get_profile("jetson-agx-orin")  # has a MAXN mode, which must not match inside MAXN_SUPER
    assert power_mode_named_in("Super/MAXN_SUPER 25W", agx) is None
    assert power_mode_named_in("maxn, jetson_clocks", agx).name == "MAXN"
    assert _row("rk3588", "Orange Pi 5 (RK3588S)", 9.93).reference_latency_ms(get_profile("rk3588")) == 9.93


def test_shipped_calibration_names_power_modes_only_where_the_board_says_so() -> None:
    profiles = load_profiles()
    rows, _ = load_calibration(devices=set(profiles))
    moded = {(r.coords.device_id, power_mode_named_in(r.board, profiles[r.coords.device_id]).name)
             for r in rows if power_mode_named_in(r.board, profiles[r.coords.device_id])}  # fmt: skip
    assert moded == {("jetson-orin-nano", "MAXN_SUPER")}
    assert sum(power_mode_named_in(r.board, profiles[r.coords.device_id]) is not None for r in rows) == 7
