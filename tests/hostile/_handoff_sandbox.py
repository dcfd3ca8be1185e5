"""A sandbox that runs rendered ``handoff.sh`` scripts for real, with the vendor tools replaced by recorders.

* Shell tools (trtexec, onnx2tf, pnnx, ovc, qnn-*, stedgeai, ...) are stubs on ``PATH`` that append
  their argv, as received, to a JSON-lines log and exit 0.
* ``python`` is the test's own interpreter, so the scripts' Python heredocs run for real: onnxruntime
  loads and runs the model; the vendor SDKs that are not installed here (rknn, esp_ppq, tensorflow,
  and torch, to keep each run fast) are small fake modules that record the arguments they get.
* ``PATH`` holds only the stubs and the system folders (``touch`` stays reachable, so an injected
  ``touch`` would leave its marker file).

What a test then asserts: the script exits 0, no marker file appeared, and each hostile value reached
the tool whole, as one argument or one Python string.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from edgekit.targets import TargetSpec, load_targets
from edgekit.targets.handoff import handoff_context, render_handoff

SCRIPT_TIMEOUT_S = 120
_SYSTEM_PATH = "/usr/bin:/bin"

_STUB = """#!{python}
import json, os, sys
with open(os.environ["HANDOFF_CALLS"], "a") as log:
    log.write(json.dumps({{"tool": os.path.basename(sys.argv[0]), "args": sys.argv[1:]}}) + "\\n")
"""
_RECORDER = """import json, os


def record(tool, **values):
    with open(os.environ["HANDOFF_CALLS"], "a") as log:
        log.write(json.dumps({"tool": tool, "args": [str(v) for v in values.values()]}) + "\\n")
"""
_FAKES = {
    "_handoff_recorder.py": _RECORDER,
    "rknn/__init__.py": "",
    "rknn/api.py": """import os
from _handoff_recorder import record


class RKNN:
    def config(self, **kwargs):
        record("rknn.config", **kwargs)

    def load_onnx(self, model):
        record("rknn.load_onnx", model=model)
        return 0 if os.path.isfile(model) else -1

    def build(self, do_quantization, dataset):
        record("rknn.build", do_quantization=do_quantization, dataset=dataset)
        return 0 if dataset is None or os.path.isfile(dataset) else -1

    def export_rknn(self, path):
        record("rknn.export_rknn", path=path)
        return 0
""",
    "esp_ppq/__init__.py": "",
    "esp_ppq/api.py": """import os
from _handoff_recorder import record


def espdl_quantize_onnx(onnx_import_file, espdl_export_file, calib_dataloader, calib_steps, input_shape, target,
                        num_of_bits, device):
    assert os.path.isfile(onnx_import_file), onnx_import_file
    record("esp_ppq.espdl_quantize_onnx", onnx_import_file=onnx_import_file, espdl_export_file=espdl_export_file,
           target=target, calib_steps=calib_steps)
""",
    "tensorflow/__init__.py": """from _handoff_recorder import record


class _Interpreter:
    def __init__(self, path):
        record("tf.lite.Interpreter", path=path)

    def allocate_tensors(self):
        pass

    def get_input_details(self):
        return [{"shape": [1, 32, 32, 3]}]


class lite:
    Interpreter = _Interpreter
""",
    "torch/__init__.py": "from torch import utils\n\n\ndef from_numpy(array):\n    return array\n",
    "torch/utils/__init__.py": "from torch.utils import data\n",
    "torch/utils/data.py": "class DataLoader(list):\n    def __init__(self, data, batch_size, shuffle):\n"
    "        super().__init__(data)\n",
}


@dataclass(frozen=True)
class ScriptRun:
    """What one run of a hand-off script did."""

    code: int
    stdout: str
    stderr: str
    calls: list[dict]  # {"tool": name, "args": [...]} per stub or fake call, in order

    def received(self) -> list[str]:
        """Every argument any tool received."""
        return [arg for call in self.calls for arg in call["args"]]


def vendor_tools(specs: dict[str, TargetSpec] | None = None) -> set[str]:
    """The shell tools every bundled template calls (the first word of each command that is not python)."""
    tools = set()
    for spec in (specs or load_targets()).values():
        for precision in spec.precisions:
            context = handoff_context("input", (1, 3, 32, 32), (0.5,) * 3, (0.25,) * 3, precision, "m.onnx")
            for command in render_handoff(spec, precision, context).commands:
                tools.add(shlex.split(command.splitlines()[0])[0])
    return tools - {"python"}


def make_bin(folder: Path) -> Path:
    """A folder with a stub per vendor tool, ``python`` (the test interpreter plus the fake SDKs)."""
    bin_dir, fakes = folder / "bin", folder / "fakes"
    bin_dir.mkdir(parents=True)
    for tool in vendor_tools():
        _executable(bin_dir / tool, _STUB.format(python=sys.executable))
    for relative, text in _FAKES.items():
        (fakes / relative).parent.mkdir(parents=True, exist_ok=True)
        (fakes / relative).write_text(text)
    _executable(bin_dir / "python", f'#!/bin/sh\nPYTHONPATH={shlex.quote(str(fakes))} exec {sys.executable} "$@"\n')
    return bin_dir


def run_script(script: Path, bin_dir: Path) -> ScriptRun:
    """Run ``script`` as ``./handoff.sh`` would be run (it must be executable), with only the stubs on PATH."""
    calls = script.parent / ".calls.jsonl"
    calls.unlink(missing_ok=True)
    env = {"PATH": f"{bin_dir}:{_SYSTEM_PATH}", "HANDOFF_CALLS": str(calls), "HOME": str(script.parent),
           "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8"}  # fmt: skip
    done = subprocess.run([str(script)], cwd=script.parent.parent, env=env, capture_output=True, text=True,
                          timeout=SCRIPT_TIMEOUT_S, check=False)  # fmt: skip
    lines = calls.read_text().splitlines() if calls.is_file() else []
    return ScriptRun(done.returncode, done.stdout, done.stderr, [json.loads(line) for line in lines])


def _executable(path: Path, text: str) -> None:
    path.write_text(text)
    os.chmod(path, 0o755)  # noqa: PTH101 (mode of a file the test just wrote)
