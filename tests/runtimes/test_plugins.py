"""Runtimes from plug-ins: a toy runtime from the tests folder, installed as a real entry point (a
dist-info on sys.path) with its target file in the user folder, runs ``targets``, ``export --target``
and ``bench`` without any file under edgekit/ naming it; a broken plug-in costs one warning line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from edgekit.bench.runners import RUNNERS
from edgekit.cli.main import app
from edgekit.paths import bundled_data_dir
from edgekit.runtimes import ENTRY_POINT_GROUP, RUNTIMES
from tests.targets._graphs import classifier, save

runner = CliRunner()


def install_entry_points(site: Path, group: str, points: dict[str, str]) -> None:
    """Write a minimal installed distribution (dist-info) declaring ``points`` under ``group``."""
    info = site / "edgekit_test_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: edgekit-test-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in points.items()))


@pytest.fixture
def plugin_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path for dist-infos; the runtime and runner registries are restored afterwards."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    RUNNERS.discover()  # the built-ins first: the snapshot restored afterwards holds them
    runtimes, runners = dict(RUNTIMES.entries), dict(RUNNERS.entries)
    RUNTIMES.rediscover()
    yield site
    RUNTIMES.entries.clear()
    RUNTIMES.entries.update(runtimes)
    RUNNERS.entries.clear()
    RUNNERS.entries.update(runners)
    RUNTIMES.rediscover()


@pytest.fixture
def toy_target(edgekit_home: Path) -> Iterator[Path]:
    """targets/toy-cpu.yaml in the user folder: the onnxruntime-cpu file, verified by the toy runtime."""
    spec = yaml.safe_load((bundled_data_dir("targets") / "onnxruntime-cpu.yaml").read_text())
    spec |= {"id": "toy-cpu", "name": "Toy runtime (tests)", "vendor": "edgekit tests",
             "verification": {"verifier": "toy", "python_packages": ["onnxruntime"]}}  # fmt: skip
    path = edgekit_home / "targets" / "toy-cpu.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(spec))
    yield path
    path.unlink()


def test_a_toy_runtime_plugs_in_through_an_entry_point(plugin_site: Path, toy_target: Path, tmp_path: Path) -> None:
    install_entry_points(plugin_site, ENTRY_POINT_GROUP, {"toy": "tests.runtimes._toy_runtime"})

    listed = runner.invoke(app, ["targets", "toy*", "--json"])
    assert listed.exit_code == 0, listed.output
    (row,) = json.loads(listed.stdout)
    assert row["id"] == "toy-cpu"
    assert row["verifiable_here"] is True

    out = tmp_path / "out"
    source = save(classifier(), tmp_path / "tiny.onnx")
    exported = runner.invoke(app, ["export", str(source), "--target", "toy-cpu", "--out", str(out), "--samples", "2"])
    assert exported.exit_code == 0, exported.output
    assert "parity ok" in exported.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["verification"]["verifier"] == "toy"
    assert {"path": "toy/tiny.toy", "role": "toy"}.items() <= next(
        f for f in manifest["files"] if f["path"].endswith(".toy")
    ).items()

    timed = runner.invoke(app, ["bench", str(out / "toy" / "tiny.toy"), "-r", "toy-cpu", "--warmup", "1",
                                "--min-iters", "3", "--min-seconds", "0", "--json"])  # fmt: skip
    assert timed.exit_code == 0, timed.output
    (row,) = json.loads(timed.stdout)["results"]
    result = row["result"]
    assert result["spec"]["runtime"] == "toy-cpu"
    assert result["stats"]["iters"] >= 3
    assert result["settings"]["toy"] == "yes"


def test_a_broken_runtime_plugin_is_one_warning_line(plugin_site: Path) -> None:
    install_entry_points(plugin_site, ENTRY_POINT_GROUP, {"broken": "tests.runtimes._no_such_module"})
    listed = runner.invoke(app, ["targets"])
    assert listed.exit_code == 0, listed.output
    rows = {line.split()[1] for line in listed.stdout.splitlines() if line.startswith("│")}
    assert {"onnxruntime-cpu", "openvino-cpu", "ncnn"} <= rows  # the built-in runtimes still work
    warnings = [line for line in listed.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: plug-in 'broken' (edgekit.runtimes = tests.runtimes._no_such_module) failed to load: "
        "ModuleNotFoundError: No module named 'tests.runtimes._no_such_module'"
    ]
