"""Profiles: every bundled file validates, cross-references hold, derived numbers recompute."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from edgekit.errors import BadInputError, UnknownNameError
from edgekit.paths import bundled_data_dir
from edgekit.profiles import get_profile, list_profiles, load_profile_file, load_profiles, profile_json_schema
from edgekit.profiles._load import PROFILES, SCHEMA_FILE

# The devices issue #6 requires, plus this machine.
REQUIRED = {
    "raspberry-pi-4", "raspberry-pi-5", "jetson-nano", "jetson-orin-nano", "jetson-agx-orin", "rk3588",
    "coral-dev-board", "snapdragon-8-gen-2", "snapdragon-8-gen-3", "qcs6490", "esp32-s3", "stm32h747", "host",
}  # fmt: skip


def test_every_bundled_profile_validates_and_required_ones_exist() -> None:
    profiles = load_profiles()
    assert set(profiles) >= REQUIRED
    assert all(p.schema_version == 1 for p in profiles.values())


def test_every_profile_target_exists() -> None:
    from edgekit.targets import load_targets

    targets = load_targets()
    missing = {(p.id, t) for p in load_profiles().values() for t in p.targets if t not in targets}
    assert missing == set()


def test_published_figures_cite_a_source() -> None:
    for profile in load_profiles().values():
        for value in _sourced_values(profile.model_dump()):
            if value["kind"] == "published":
                assert "http" in value["source"] or "device-specs.csv" in value["source"], (profile.id, value)


def test_host_profile_is_measured_or_derived_only() -> None:
    kinds = {v["kind"] for v in _sourced_values(get_profile("host").model_dump())}
    assert kinds <= {"measured", "derived"}


@pytest.mark.parametrize(
    ("profile_id", "expected_gflops"),
    [("raspberry-pi-4", 48.0), ("jetson-nano", 45.76), ("raspberry-pi-5", 153.6)],
)
def test_cpu_peak_recomputes_the_spec_sheet(profile_id: str, expected_gflops: float) -> None:
    # device-specs.csv fp32_gflops: 48 (RPi 4), 45.8 (Jetson Nano, 4 x 1.43 x 8), 153.6 (RPi 5)
    assert get_profile(profile_id).cpu.peak_gflops("fp32") == pytest.approx(expected_gflops)


def test_core_selection_big_little_and_thread_cap() -> None:
    cpu = get_profile("rk3588").cpu
    assert cpu.peak_gflops("fp32", "big") == pytest.approx(153.6)  # spec: A76 cluster peak
    assert cpu.peak_gflops("fp32", "little") == pytest.approx(4 * 1.8 * 8)
    assert cpu.peak_gflops("fp16", "big", threads=2) == pytest.approx(2 * 2.4 * 32)
    assert cpu.peak_gflops("fp32", "big", threads=16) == cpu.peak_gflops("fp32", "big")  # capped at 4 cores
    assert cpu.fastest_core_ghz("little") == 1.8


def test_fp16_falls_back_to_fp32_rate_without_fp16_arithmetic() -> None:
    cpu = get_profile("raspberry-pi-4").cpu  # Cortex-A72: ARMv8.0, no FP16 arithmetic
    assert cpu.peak_gflops("fp16") == cpu.peak_gflops("fp32")


def test_unknown_profile_suggests_close_ids() -> None:
    with pytest.raises(UnknownNameError, match=r"unknown profile 'jetson-nanoo'; did you mean jetson-nano"):
        get_profile("jetson-nanoo")


def test_list_profiles_filters_by_pattern() -> None:
    assert list_profiles("snapdragon*") == ["snapdragon-8-gen-2", "snapdragon-8-gen-3", "snapdragon-888"]


def test_schema_json_is_generated_from_the_model() -> None:
    shipped = json.loads((bundled_data_dir("profiles") / SCHEMA_FILE).read_text())
    assert shipped == profile_json_schema()


def _write(folder: Path, name: str, doc: dict) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _rpi4_doc() -> dict:
    return yaml.safe_load((bundled_data_dir("profiles") / "raspberry-pi-4.yaml").read_text())


def test_unknown_key_is_rejected_naming_file_and_field(tmp_path: Path) -> None:
    doc = _rpi4_doc() | {"ram_gigs": 4}
    with pytest.raises(BadInputError, match=r"invalid profile raspberry-pi-4.yaml: ram_gigs: Extra inputs"):
        load_profile_file(_write(tmp_path, "raspberry-pi-4", doc))


def test_estimate_without_reason_is_rejected(tmp_path: Path) -> None:
    doc = _rpi4_doc()
    doc["memory"]["ram_usable_mb"] = {"value": 3700, "kind": "estimated", "source": "guess"}
    with pytest.raises(BadInputError, match="an estimated value needs a note"):
        load_profile_file(_write(tmp_path, "raspberry-pi-4", doc))


def test_l3_cluster_needs_a_core_count_and_a_source(tmp_path: Path) -> None:
    doc = _rpi4_doc()
    doc["cpu"]["clusters"][0]["l3"] = {"cores": 0, "source": "TRM"}
    with pytest.raises(BadInputError, match=r"cpu.clusters.0.l3.cores: Input should be greater than or equal to 1"):
        load_profile_file(_write(tmp_path, "raspberry-pi-4", doc))
    doc["cpu"]["clusters"][0]["l3"] = {"cores": 4}
    with pytest.raises(BadInputError, match=r"cpu.clusters.0.l3.source: Field required"):
        load_profile_file(_write(tmp_path, "raspberry-pi-4", doc))


def test_file_name_must_match_id(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match=r"declares id 'raspberry-pi-4'; the file must be named"):
        load_profile_file(_write(tmp_path, "pi", _rpi4_doc()))


def test_default_power_mode_must_exist(tmp_path: Path) -> None:
    doc = _rpi4_doc() | {"default_power_mode": "turbo"}
    with pytest.raises(BadInputError, match=r"default_power_mode 'turbo' is not one of \['default'\]"):
        load_profile_file(_write(tmp_path, "raspberry-pi-4", doc))


def test_user_folder_adds_profiles_and_refuses_duplicates(edgekit_home: Path) -> None:
    user = edgekit_home / "profiles"
    user.mkdir(exist_ok=True)
    doc = _rpi4_doc() | {"id": "my-board", "name": "My board"}
    try:
        _write(user, "my-board", doc)
        assert get_profile("my-board").name == "My board"
        _write(user, "raspberry-pi-4", _rpi4_doc())
        with pytest.raises(BadInputError, match="duplicate profile id 'raspberry-pi-4'"):
            load_profiles()
    finally:
        for path in user.glob("*.yaml"):
            path.unlink()
        PROFILES.cache_clear()
    assert "my-board" not in load_profiles()


def _sourced_values(node: object) -> list[dict]:
    """Every {value, kind, source} mapping in a dumped profile."""
    found = []
    if isinstance(node, dict):
        if {"value", "kind", "source"} <= set(node):
            found.append(node)
        for child in node.values():
            found += _sourced_values(child)
    elif isinstance(node, list):
        for child in node:
            found += _sourced_values(child)
    return found


def test_every_accelerator_names_its_architecture_family() -> None:
    """The predictor shares a fitted factor between accelerators of one architecture (gpu:Adreno …)."""
    missing = [f"{p.id}/{a.kind}" for p in load_profiles().values() for a in p.accelerators if not a.architecture]
    assert missing == []
