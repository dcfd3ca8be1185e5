"""The board runner bundle: exactly the protocol modules local bench uses, portable, and runnable without edgekit."""

from __future__ import annotations

import ast
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from edgekit.bench import fingerprint
from edgekit.devices._board_main import BOARD_PROTOCOL, REPLY_MARK
from edgekit.devices.bundle import bundled_modules, module_path, runner_bundle

# The protocol modules local bench imports; the runner must ship these very files, not copies.
PROTOCOL_MODULES = ["edgekit._ort_options", "edgekit._ov_options", "edgekit._versions", "edgekit.bench._loop",
                    "edgekit.bench._pixels", "edgekit.bench._probe", "edgekit.bench._rss",
                    "edgekit.bench._summary"]  # fmt: skip
BOARD_PACKAGES = {"numpy", "onnxruntime", "openvino", "psutil"}  # psutil only where installed (a fallback otherwise)
_PY39 = (3, 9)


def test_the_bundle_is_the_runner_and_the_protocol_modules() -> None:
    assert bundled_modules() == sorted([*PROTOCOL_MODULES, "edgekit.devices._board_main"])
    archive = zipfile.ZipFile(io.BytesIO(runner_bundle()))
    for module in bundled_modules():
        assert archive.read(module.replace(".", "/") + ".py") == module_path(module).read_bytes()  # verbatim
    assert {n for n in archive.namelist() if n.endswith("__init__.py")} == {
        "edgekit/__init__.py", "edgekit/bench/__init__.py", "edgekit/devices/__init__.py"}  # fmt: skip
    assert all(archive.read(n) == b"" for n in archive.namelist() if n.endswith("__init__.py"))
    assert runner_bundle() == runner_bundle.__wrapped__()  # reproducible bytes: the sha256 names it


def test_local_bench_uses_those_modules() -> None:
    # measure() is the loop of _loop, summarize() the percentiles of _summary, _child the RSS of _rss.
    uses = {"edgekit.bench.measure": "edgekit.bench._loop", "edgekit.bench._stats": "edgekit.bench._summary",
            "edgekit.bench._child": "edgekit.bench._rss", "edgekit.bench.host": "edgekit.bench._probe",
            "edgekit.bench._inputs": "edgekit.bench._pixels", "edgekit.ort": "edgekit._ort_options",
            "edgekit.runtimes.openvino": "edgekit._ov_options"}  # fmt: skip
    for user, used in uses.items():
        tree = ast.parse(module_path(user).read_text())
        assert used in {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}, user


@pytest.mark.parametrize("module", bundled_modules())
def test_bundled_modules_are_python_39_and_import_only_the_stdlib_numpy_and_runtimes(module: str) -> None:
    tree = ast.parse(module_path(module).read_text(), feature_version=_PY39)
    allowed = set(sys.stdlib_module_names) | BOARD_PACKAGES | {"edgekit"}
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            assert name.split(".")[0] in allowed, f"{module} imports {name}"
            if name.startswith("edgekit"):
                assert name in bundled_modules(), f"{module} imports {name}, which is not shipped"


def _run(python: list[str], bundle: Path, request: dict[str, object]) -> dict[str, object]:
    process = subprocess.Popen([*python, str(bundle), "probe"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True)  # fmt: skip
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(json.dumps(request) + "\n")
    process.stdin.flush()
    line = process.stdout.readline()
    assert process.wait(60) == 0  # stdin still open: its end would tell the runner that edgekit is gone
    process.stdin.close()
    return json.loads(line.removeprefix(REPLY_MARK))


def test_the_runner_runs_without_edgekits_dependencies(tmp_path: Path) -> None:
    bundle = tmp_path / "runner.pyz"
    bundle.write_bytes(runner_bundle())
    # A meta-path hook makes pydantic, psutil, torch and onnx unimportable, as on a board.
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text("import sys\nclass _Block:\n    def find_spec(self, name, path=None, target=None):\n"
                       "        if name.split('.')[0] in ('pydantic', 'psutil', 'torch', 'onnx', 'typer', 'yaml'):\n"
                       "            raise ImportError(f'{name} is not on the board')\n"
                       "sys.meta_path.insert(0, _Block())\n")  # fmt: skip
    start = (
        f"import sys, runpy; sys.path.insert(0, {str(tmp_path)!r}); import sitecustomize; "
        "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    env_python = [sys.executable, "-c", start]
    reply = _run(env_python, bundle, {"protocol": BOARD_PROTOCOL, "packages": ["onnxruntime", "numpy"]})
    machine = reply["result"]["machine"]  # type: ignore[index]
    here = fingerprint()
    fields = ("cpu_model", "physical_cores", "memory_total_mb")
    assert {k: machine[k] for k in fields} == {k: getattr(here, k) for k in fields}
    assert reply["result"]["runtimes"]["onnxruntime-cpu"] is None  # type: ignore[index]


@pytest.mark.parametrize("version", ["3.9"])
def test_the_runner_answers_on_the_oldest_supported_python(tmp_path: Path, version: str) -> None:
    candidates = [Path(f"/usr/bin/python{version}"), *Path.home().glob(f".pyenv/versions/{version}.*/bin/python")]
    python = next((p for p in candidates if p.is_file()), None)
    if python is None:
        pytest.skip(f"no Python {version} here")
    bundle = tmp_path / "runner.pyz"
    bundle.write_bytes(runner_bundle())
    reply = _run([str(python), "-I"], bundle, {"protocol": BOARD_PROTOCOL, "packages": []})
    assert reply["result"]["machine"]["python"].startswith(f"{version}.")  # type: ignore[index]


def test_an_older_python_gets_one_line_not_a_syntax_error(tmp_path: Path) -> None:
    python = next(iter(Path.home().glob(".pyenv/versions/3.8.*/bin/python")), None)
    if python is None:
        pytest.skip("no Python 3.8 here")
    bundle = tmp_path / "runner.pyz"
    bundle.write_bytes(runner_bundle())
    done = subprocess.run([str(python), str(bundle), "probe"], input="{}\n", capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert (done.returncode, done.stdout) == (9, "")
    assert done.stderr == "the edgekit board runner needs Python >= 3.9; this is 3.8\n"
