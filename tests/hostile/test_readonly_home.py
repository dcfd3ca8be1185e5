"""A read-only ``$EDGEKIT_HOME``: commands that only read work; those that write say so in one line.

The home is a small tmpfs remounted read-only (chmod does not stop root), holding a results store with
a measurement of this host and a user profile. Caches the home cannot hold go to a private folder under
the system temp dir (here ``TMPDIR``). Skipped where the tests cannot mount (not root, no mount).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from edgekit.errors import StoreError
from edgekit.store import ResultsStore
from tests.hostile._boundary import CliRun, assert_one_error_line, remount_read_only, run_cli, tiny_onnx, tmpfs
from tests.test_measured import _stored

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ReadOnlyHome:
    home: Path
    tmp: Path  # the system temp dir of every run
    model: Path  # a tiny ONNX outside the home

    def run(self, *args: str) -> CliRun:
        return run_cli(list(args), self.home, tmp=self.tmp, cwd=self.tmp)


@pytest.fixture(scope="module")
def ro_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReadOnlyHome]:
    root = tmp_path_factory.mktemp("ro-home")
    (root / "tmp").mkdir()
    with tmpfs(root / "home", size="8m") as home:
        _stored(ResultsStore(home / "results.sqlite"), "mobilenet_v2", "fp32", "onnxruntime-cpu")
        (home / "profiles").mkdir()
        profile = (REPO / "profiles" / "raspberry-pi-4.yaml").read_text()
        (home / "profiles" / "my-board.yaml").write_text(profile.replace("id: raspberry-pi-4", "id: my-board"))
        remount_read_only(home)
        yield ReadOnlyHome(home, root / "tmp", tiny_onnx(root / "tiny.onnx"))


def _ok(run: CliRun) -> CliRun:
    assert "Traceback" not in run.stderr, run.stderr
    assert run.code == 0, run.stderr
    assert run.stderr == ""
    return run


def test_home_really_is_read_only(ro_home: ReadOnlyHome) -> None:
    with pytest.raises(OSError, match="Read-only file system"):
        (ro_home.home / "probe").write_text("x")


def test_models_works_and_caches_in_a_private_temp_folder(ro_home: ReadOnlyHome) -> None:
    run = _ok(ro_home.run("models", "mobilenet*"))
    assert "3 models" in run.stdout
    fallback = ro_home.tmp / f"edgekit-cache-{os.getuid()}"
    assert [p.suffix for p in (fallback / "registry").iterdir()] == [".json"]
    assert fallback.stat().st_mode & 0o777 == 0o700


def test_profiles_and_targets_list_the_user_folder(ro_home: ReadOnlyHome) -> None:
    assert "my-board" in _ok(ro_home.run("profiles")).stdout
    assert "onnxruntime-cpu" in _ok(ro_home.run("targets")).stdout


def test_predict_on_a_user_profile(ro_home: ReadOnlyHome) -> None:
    run = _ok(ro_home.run("predict", "mobilenet_v2", "--profile", "my-board", "--runtime", "ncnn", "--json"))
    assert json.loads(run.stdout)["latency_ms"]["value"] > 0


def test_recommend_reads_the_measurement_from_the_read_only_store(ro_home: ReadOnlyHome) -> None:
    run = _ok(ro_home.run("recommend", "--ram", "512MB", "--fps", "1", "--profile", "host", "--models",
                          "mobilenet_v2", "--targets", "onnxruntime-cpu", "--json"))  # fmt: skip
    result = json.loads(run.stdout)
    tiers = {c["recipe"]: c["tier"] for c in result["feasible"] + result["closest_misses"]}
    assert tiers["fp32"] == "measured"


def test_analyze_a_registry_model(ro_home: ReadOnlyHome) -> None:
    run = _ok(ro_home.run("analyze", "squeezenet1_1", "--json"))
    assert json.loads(run.stdout)[0]["params"] == 1235496


def test_bench_says_in_one_line_that_it_needs_a_writable_store(ro_home: ReadOnlyHome) -> None:
    run = ro_home.run("bench", str(ro_home.model), "-r", "onnxruntime", "--min-iters", "1", "--min-seconds", "0")
    line = assert_one_error_line(run, f"results store {ro_home.home / 'results.sqlite'} is not writable",
                                 "set EDGEKIT_HOME to a writable folder")  # fmt: skip
    assert run.code == 2
    assert line.startswith("error: results store "), line


def test_export_into_the_home_says_read_only_file_system(ro_home: ReadOnlyHome) -> None:
    out = ro_home.home / "out"
    run = ro_home.run("export", str(ro_home.model), "--target", "onnxruntime-cpu", "--out", str(out))
    assert_one_error_line(run, "read-only file system: ", "(EROFS); write elsewhere, or set EDGEKIT_HOME")
    assert not out.exists()


def test_the_store_opens_read_only_and_refuses_writes(ro_home: ReadOnlyHome) -> None:
    store = ResultsStore(ro_home.home / "results.sqlite", read_only=True)
    assert [r.spec.model for r in store.query()] == ["mobilenet_v2"]
    with pytest.raises(StoreError, match="is not writable"):
        ResultsStore(ro_home.home / "results.sqlite")


def test_a_shared_fallback_cache_of_another_user_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edgekit import paths

    home = tmp_path / "home"
    home.mkdir()
    (home / "cache").write_text("a file where the cache folder belongs")  # the home cannot hold a cache
    monkeypatch.setenv(paths.HOME_ENV, str(home))
    monkeypatch.setattr(paths, "_SYSTEM_TEMP", tmp_path)
    assert paths.cache_dir("registry") == tmp_path / f"edgekit-cache-{os.getuid()}" / "registry"
    shutil.rmtree(tmp_path / f"edgekit-cache-{os.getuid()}")
    planted = tmp_path / f"edgekit-cache-{os.getuid()}"
    planted.mkdir(mode=0o777)
    planted.chmod(0o777)  # anyone could have put files there
    with pytest.raises(PermissionError, match="not private to this user"):
        paths.cache_dir("registry")
