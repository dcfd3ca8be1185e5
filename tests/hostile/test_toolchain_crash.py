"""A native crash inside a vendor toolchain is one error in edgekit, not the end of the process.

Pre-flight now refuses the rank-2 model that crashed ncnn before ncnn starts; these tests drive the
layer below it on purpose: ncnn runs in a child interpreter (``_isolated``), so even an input the
bindings do not expect ends with a BadInputError, and the parent's temporary folders are cleaned up.
"""

from __future__ import annotations

import math
import signal
from pathlib import Path

import numpy as np
import pytest

from edgekit.errors import BadInputError, VerificationError
from edgekit.targets import get_target
from edgekit.targets._isolated import call_isolated
from edgekit.targets.handoff import check_text
from tests.hostile import _odd_models as odd
from tests.targets import _vendor
from tests.targets._graphs import save


def test_a_segfault_in_the_child_is_one_bad_input_error() -> None:
    with pytest.raises(BadInputError, match=r"^the tool crashed \(SIGSEGV\); the toolchain cannot run this model$"):
        call_isolated("the tool", signal.raise_signal, signal.SIGSEGV)  # what a C++ library's bad read does


def test_results_and_typed_errors_come_back_as_they_are() -> None:
    assert call_isolated("sqrt", math.sqrt, 6.25) == 2.5
    with pytest.raises(BadInputError, match=r"^file name '' cannot be written into a hand-off script: it is empty$"):
        call_isolated("check", check_text, "file name", "")


def test_a_call_past_its_time_is_stopped() -> None:
    import time

    with pytest.raises(VerificationError, match=r"^sleeping did not finish in 0.5 s$"):
        call_isolated("sleeping", time.sleep, 30, timeout_s=0.5)


@_vendor.requires_ncnn
def test_ncnn_runs_in_a_child_whose_crash_is_one_bad_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: ``ncnn.Extractor.extract`` on an input its graph does not expect could end the Python process with
    SIGSEGV (exit 139). Whether a given out-of-bounds read faults depends on the memory layout, so the crash is
    made certain here: the converter's child runs a function that faults, and the parent gets one error."""
    from edgekit.runtimes import ncnn as ncnn_runtime

    converter = ncnn_runtime.NcnnConverter(get_target("ncnn"))
    files = converter.convert(save(odd.rank2(), tmp_path / "rank2.onnx"), tmp_path, "fp32")
    logits = converter.run(tmp_path, files, np.ones((2, 16), np.float32))  # the real run, in its child
    np.testing.assert_allclose(logits, np.full((2, 10), 16.0))

    calls: list[object] = []

    def isolated_crash(label: str, fn: object, *args: object) -> object:
        calls.append(fn)
        return call_isolated(label, signal.raise_signal, signal.SIGSEGV)

    monkeypatch.setattr(ncnn_runtime, "call_isolated", isolated_crash)
    with pytest.raises(BadInputError, match=r"^ncnn running rank2.ncnn.param crashed \(SIGSEGV\)"):
        converter.run(tmp_path, files, np.zeros((2, 3, 32, 32), np.float32))
    assert calls == [ncnn_runtime.run_ncnn]


def test_a_vendor_runtime_error_while_verifying_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenVINO and onnxruntime raise bare RuntimeError (or unexported types) from C++; they become one line."""
    from typer.testing import CliRunner

    from edgekit.cli.main import app
    from edgekit.runtimes.onnxruntime import OnnxruntimeConverter
    from tests.targets._graphs import classifier

    def fail(*_: object) -> None:
        raise RuntimeError("Exception from src/inference/src/cpp/infer_request.cpp:223:\nout of device memory\n")

    monkeypatch.setattr(OnnxruntimeConverter, "run", fail)
    source = save(classifier(), tmp_path / "tiny.onnx")
    result = CliRunner().invoke(app, ["export", str(source), "-t", "onnxruntime-cpu", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines() == [
        "error: target onnxruntime-cpu: onnxruntime failed on tiny.onnx: out of device memory"
    ]
    assert not (tmp_path / "o").exists()


def test_edgekit_bugs_while_verifying_stay_visible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edgekit.runtimes.onnxruntime import OnnxruntimeConverter
    from edgekit.targets.export import export_for_target
    from tests.targets._graphs import classifier

    def bug(*_: object) -> None:
        raise KeyError("a bug of edgekit's own")

    monkeypatch.setattr(OnnxruntimeConverter, "run", bug)
    with pytest.raises(KeyError, match="a bug of edgekit's own"):
        export_for_target(save(classifier(), tmp_path / "tiny.onnx"), "onnxruntime-cpu", out_dir=tmp_path / "o")
