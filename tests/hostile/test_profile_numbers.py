"""Hostile numbers in profiles, targets and tables: inf, NaN, 1e308, zero and negative figures are refused.

Each is refused in one line naming the file, the field and the value; JSON output never holds
``Infinity`` or ``NaN``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from edgekit.errors import BadInputError
from edgekit.paths import bundled_data_dir
from edgekit.profiles import load_profile_file
from edgekit.targets._schema import TargetSpec
from tests.hostile._boundary import assert_one_error_line, run_cli, seed_cache

BASE = bundled_data_dir("profiles") / "raspberry-pi-4.yaml"


def _hostile_profile(
    folder: Path, field: tuple[str | int, ...], value: object, profile_id: str = "pi4-hostile"
) -> Path:
    """raspberry-pi-4 as ``<folder>/<profile_id>.yaml`` with one figure replaced by ``value``."""
    doc = yaml.safe_load(BASE.read_text())
    doc["id"] = profile_id
    node = doc
    for key in field[:-1]:
        node = node[key]
    node[field[-1]] = value
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{profile_id}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


GHZ = ("cpu", "clusters", 0, "max_ghz", "value")
CASES = [
    (GHZ, float("inf"), "cpu.clusters.0.max_ghz.value: Value error, value inf must be a finite number > 0"),
    (GHZ, float("nan"), "cpu.clusters.0.max_ghz.value: Value error, value nan must be a finite number > 0"),
    (GHZ, "inf", "cpu.clusters.0.max_ghz.value: Value error, value inf must be a finite number > 0"),
    (GHZ, 1e308, "cpu.clusters.0.max_ghz: Value error, value 1e+308 is out of range: at most 10 GHz"),
    (GHZ, 0, "cpu.clusters.0.max_ghz.value: Value error, value 0.0 must be a finite number > 0"),
    (GHZ, -1.5, "cpu.clusters.0.max_ghz.value: Value error, value -1.5 must be a finite number > 0"),
    (("cpu", "clusters", 0, "count"), 10**6, "cpu.clusters.0.count: Input should be less than or equal to 1024"),
    (("memory", "ram_total_mb", "value"), 1e308, "memory.ram_total_mb: Value error, value 1e+308 is out of range"),
    (("memory", "bandwidth_gbs", "value"), float("-inf"), "memory.bandwidth_gbs.value: Value error, value -inf"),
    (("power_modes", 0, "watts", "value"), 0, "power_modes.0.watts.value: Value error, value 0.0 must be"),
    (("power_modes", 0, "clock_scale", "value"), 1e9, "power_modes.0.clock_scale: Value error, value 1e+09 is out"),
]


@pytest.mark.parametrize(("field", "value", "message"), CASES)
def test_hostile_figures_are_refused_naming_file_field_and_value(tmp_path: Path, field: tuple, value: object,
                                                                 message: str) -> None:  # fmt: skip
    path = _hostile_profile(tmp_path, field, value)
    with pytest.raises(BadInputError) as refused:
        load_profile_file(path)
    assert str(refused.value).startswith(f"invalid profile {path.name}: {message}")


def test_a_user_profile_at_inf_ghz_stops_the_cli_in_one_line(tmp_path: Path) -> None:
    # setup: "4x Cortex-A72 @inf GHz" in the user folder
    home = seed_cache(tmp_path / "home")
    _hostile_profile(home / "profiles", GHZ, float("inf"))
    # execute
    run = run_cli(["recommend", "--ram", "512MB", "--fps", "30", "--profile", "pi4-hostile", "--json"], home)
    # assert
    assert_one_error_line(run, "invalid profile pi4-hostile.yaml: cpu.clusters.0.max_ghz.value:", "value inf")
    assert run.stdout == ""


def test_json_output_of_a_valid_profile_is_strict_json(tmp_path: Path) -> None:
    home = seed_cache(tmp_path / "home")
    _hostile_profile(home / "profiles", GHZ, 9.9, profile_id="pi4-fast")  # high but within bounds
    run = run_cli(["predict", "mobilenet_v2", "--profile", "pi4-fast", "--runtime", "ncnn", "--json"], home)
    assert run.code == 0, run.stderr

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in JSON output")

    assert json.loads(run.stdout, parse_constant=refuse)["latency_ms"]["value"] > 0


def _target_doc() -> dict:
    return yaml.safe_load((bundled_data_dir("targets") / "onnxruntime-cpu.yaml").read_text())


@pytest.mark.parametrize("value", [float("inf"), float("nan"), -1.0, 1e308])
def test_target_runtime_overhead_must_be_finite_and_bounded(value: float) -> None:
    doc = _target_doc()
    doc["runtime_overhead_mb"]["value"] = value
    with pytest.raises(ValueError, match=r"runtime_overhead_mb\.value"):
        TargetSpec.model_validate(doc)


@pytest.mark.parametrize("latency", ["inf", "nan", "0", "-3"])
def test_table_latency_must_be_finite_and_positive(tmp_path: Path, latency: str) -> None:
    source = bundled_data_dir("published") / "published-latency.csv"
    header, first = source.read_text().splitlines()[:2]
    columns = header.split(",")
    row = first.split(",")
    row[columns.index("latency_ms")] = latency
    table = tmp_path / "t.csv"
    table.write_text(f"{header}\n{','.join(row)}\n")
    run = run_cli(["predict", "--table", str(table), "--json"], seed_cache(tmp_path / "home"))
    assert_one_error_line(run, f"latency_ms: must be a finite number > 0, got '{latency}'")
    assert run.code == 2
    assert run.stdout == "", run.stdout  # a malformed table predicts nothing
