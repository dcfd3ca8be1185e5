"""The Python API: edgekit.recommend / optimize / bench / export return the typed results the CLI renders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

import edgekit
from edgekit.cli.main import app
from edgekit.errors import BadInputError
from tests.targets._graphs import classifier, save

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "onnx", "onnxruntime", "numpy", "pydantic", "rich", "typer")


def test_import_edgekit_stays_light() -> None:
    code = ("import json, sys, edgekit; heavy = sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[1:])); "
            "print(','.join(heavy)); print(json.dumps(edgekit.__all__))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code, *HEAVY], capture_output=True, text=True, check=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "PATH": ""}).stdout.splitlines()  # fmt: skip
    assert out[0] == ""  # none of them
    assert {"recommend", "optimize", "bench", "export", "Constraints"} <= set(json.loads(out[1]))


def test_recommend_takes_the_budget_as_the_cli_does_and_returns_what_it_renders() -> None:
    result = edgekit.recommend("512MB", fps=30, profile="raspberry-pi-4,rk3588")
    assert isinstance(result, edgekit.Recommendation)
    cli = json.loads(CliRunner().invoke(app, ["recommend", "--ram", "512MB", "--fps", "30", "-p",
                                              "raspberry-pi-4,rk3588", "--json"]).stdout)  # fmt: skip
    assert [c.summary() for c in result.best_per_device] == cli["best_per_device"]
    same = edgekit.recommend(edgekit.Constraints(ram="512MB", fps=30), profile="raspberry-pi-4,rk3588")
    assert same.best_per_device == result.best_per_device
    from edgekit.recommend import Candidate, recommend  # the module stays a module

    assert isinstance(result.best_per_device[0], Candidate)
    assert callable(recommend)


def test_constraints_accept_units_and_refuse_a_bare_size() -> None:
    k = edgekit.Constraints(ram="0.5GiB", fps="30fps", power="5W")
    assert (k.ram_mb, k.fps, k.power_w) == (512.0, 30.0, 5.0)
    assert edgekit.Constraints(ram_mb=512, fps=30) == edgekit.Constraints(ram="512MiB", fps=30)
    with pytest.raises(ValidationError, match="memory size '512' needs a unit, e.g. 512MB or 512MiB"):
        edgekit.Constraints(ram="512", fps=30)
    with pytest.raises(BadInputError, match="give the budget once"):
        edgekit.recommend(edgekit.Constraints(ram="512MB", fps=30), fps=10)


def test_optimize_bench_and_export_return_typed_results(tmp_path: Path) -> None:
    source = save(classifier(), tmp_path / "tiny.onnx")
    variant = edgekit.optimize(str(source), "int8", out_dir=tmp_path / "int8")
    assert isinstance(variant, edgekit.OptimizeResult)
    assert variant.verdict == "passed"
    assert variant.artifact_path == tmp_path / "int8" / "tiny-int8.onnx"
    assert variant.artifact_path.is_file()

    quick = edgekit.BenchConfig(warmup=1, min_iters=3, min_seconds=0)
    (row,) = edgekit.bench(str(variant.artifact_path), runtimes=["onnxruntime-cpu"], threads=1, config=quick)
    assert isinstance(row, edgekit.BenchResult)
    assert row.spec.runtime == "onnxruntime-cpu"
    assert row.stats.iters >= 3
    (again,) = edgekit.bench(str(variant.artifact_path), runtimes=["onnxruntime-cpu"], threads=1, config=quick)
    assert again.run_id == row.run_id  # reused from the results store, as the CLI would

    exported = edgekit.export(source, "onnxruntime-cpu", out_dir=tmp_path / "export", samples=2)
    assert isinstance(exported, edgekit.ExportResult)
    assert exported.manifest.verification.status == "passed"
