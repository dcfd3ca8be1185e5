"""The CLI's one error boundary: expected failures become one line and exit 2; bugs keep their traceback."""

from __future__ import annotations

import errno
import importlib
import shutil
import sqlite3
import warnings

import pytest
import typer

from edgekit.cli._common import describe_expected_error, guarded, print_json
from edgekit.cli.main import COMMANDS
from edgekit.errors import SkippedInputWarning, StoreError, summarize_message


def test_every_command_goes_through_the_boundary() -> None:
    # Commands load on first use (cli/main.py), so each is looked up where COMMANDS says it lives.
    callbacks = {
        name: getattr(importlib.import_module(f"edgekit.cli.{module}"), fn) for name, (module, fn) in COMMANDS.items()
    }
    assert len(callbacks) == len(COMMANDS) == 16  # every command in the table, each behind the boundary
    assert [name for name, fn in callbacks.items() if not getattr(fn, "__edgekit_boundary__", False)] == []


def _raising(exc: BaseException):  # noqa: ANN202
    @guarded
    def command() -> None:
        raise exc

    return command


@pytest.mark.parametrize(
    ("exc", "line"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "error: no space left on device (ENOSPC); free some space"),
        (PermissionError(errno.EACCES, "Permission denied", "/srv/x"),
         "error: permission denied: /srv/x (EACCES); write elsewhere or fix the permissions"),
        (OSError(errno.EROFS, "Read-only file system", "/a", None, "/b"),
         "error: read-only file system: /a -> /b (EROFS)"),
        (shutil.Error([("/s/m.json", "/d/m.json", "[Errno 28] No space left on device: '/s/m.json'"),
                       ("/s/x", "/d/x", "[Errno 28] No space left on device: '/s/x'")]),
         "error: no space left on device: /d/m.json and 1 more file(s) (ENOSPC); free some space"),
        (sqlite3.DatabaseError("file is not a database"), "error: database error: file is not a database"),
        (StoreError("results store /h/r.sqlite was written by a newer edgekit"), "error: results store /h/r.sqlite"),
        (MemoryError(), "error: out of memory"),
    ],
)  # fmt: skip
def test_expected_errors_become_one_line_and_exit_2(exc: BaseException, line: str, capsys) -> None:  # noqa: ANN001
    with pytest.raises(typer.Exit) as exit_info:
        _raising(exc)()
    assert exit_info.value.exit_code == 2
    (printed,) = capsys.readouterr().err.splitlines()
    assert printed.startswith(line), printed


def test_image_and_model_file_errors_are_expected() -> None:
    import onnx
    from google.protobuf.message import DecodeError
    from PIL import Image

    assert describe_expected_error(Image.DecompressionBombError("Image size (2500000000 pixels) exceeds")) == (
        "image rejected: Image size (2500000000 pixels) exceeds"
    )
    assert describe_expected_error(onnx.checker.ValidationError("Field 'type' is required\n\n")) == (
        "invalid ONNX model: Field 'type' is required"
    )
    assert describe_expected_error(DecodeError("Error parsing message")).startswith("not a readable protobuf")


@pytest.mark.parametrize("bug", [TypeError("unsupported operand"), KeyError("x"), AttributeError("y")])
def test_bugs_keep_their_traceback(bug: Exception) -> None:
    assert describe_expected_error(bug) is None
    with pytest.raises(type(bug)):
        _raising(bug)()


def test_library_warnings_print_as_one_line_each_once(capsys) -> None:  # noqa: ANN001
    @guarded
    def command() -> None:
        for _ in range(2):  # e.g. the calibration folder read for calibration, then for fidelity
            warnings.warn("skipped image /d/bomb.png: too many pixels", SkippedInputWarning, stacklevel=1)

    command()
    assert capsys.readouterr().err == "warning: skipped image /d/bomb.png: too many pixels\n"


def test_openvino_chains_keep_their_informative_line() -> None:
    text = ("Exception from src/inference/src/cpp/core.cpp:84:\n"
            "Exception from src/inference/src/model_reader.cpp:148:\n"
            'Unable to read the model: "m.xml" Please check that model format: ".xml" is supported\n\n')  # fmt: skip
    assert (
        summarize_message(text)
        == 'Unable to read the model: "m.xml" Please check that model format: ".xml" is supported'
    )
    nested = ("Exception from src/inference/src/cpp/core.cpp:84:\n"
              "Check 'util::file_exists(path)' failed at src/frontends/common/src/frontend.cpp:117:\n"
              "FrontEnd API failed with GeneralFailure:\nonnx: Could not open the file: \"x.onnx\"\n")  # fmt: skip
    assert summarize_message(nested) == 'onnx: Could not open the file: "x.onnx"'
    assert summarize_message("Exception from src/inference/src/cpp/core.cpp:84:\n") == (
        "Exception from src/inference/src/cpp/core.cpp:84:"  # nothing better to keep
    )


def test_json_output_is_strict(capsys) -> None:  # noqa: ANN001
    print_json({"value": 1.5, "missing": None})
    assert capsys.readouterr().out == '{\n  "value": 1.5,\n  "missing": null\n}\n'
    with pytest.raises(ValueError, match="not JSON compliant"):
        print_json({"value": float("inf")})
