"""Progress on stderr: nothing when piped or --quiet, step lines with -v, a spinner naming the step on a TTY."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from edgekit.cli import _common
from edgekit.cli._progress import Steps
from edgekit.cli.main import app
from tests.targets._graphs import classifier, save

runner = CliRunner()


def _export(tmp_path: Path, name: str, *flags: str) -> tuple[str, str]:
    source = save(classifier(), tmp_path / "tiny.onnx")
    out = tmp_path / name
    result = runner.invoke(app, ["export", str(source), "-t", "onnxruntime-cpu", "--out", str(out), "--samples", "2",
                                 *flags])  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def test_piped_runs_print_nothing_extra(tmp_path: Path) -> None:
    stdout, stderr = _export(tmp_path, "plain")
    assert stderr == ""  # stderr is not a terminal here: no spinner, no step lines
    quiet_stdout, quiet_stderr = _export(tmp_path, "quiet", "--quiet")
    assert quiet_stderr == ""
    assert quiet_stdout.replace("/quiet", "/plain") == stdout  # --quiet changes nothing but progress


def test_verbose_prints_each_step_on_stderr(tmp_path: Path) -> None:
    stdout, stderr = _export(tmp_path, "verbose", "-v")
    steps = [re.sub(r"^\s*[\d.]+ s  ", "", line) for line in stderr.splitlines()]
    assert steps == [
        "pre-flight for onnxruntime-cpu",
        "converting for onnxruntime-cpu and checking parity on onnxruntime",
    ]
    assert all(re.match(r"^\s*\d+\.\d s  ", line) for line in stderr.splitlines())
    assert "parity ok" in stdout  # the result still goes to stdout
    _, silenced = _export(tmp_path, "silenced", "-v", "--quiet")
    assert silenced == ""  # --quiet wins


def test_steps_never_reach_a_root_handler_a_library_installed() -> None:
    seen: list[logging.LogRecord] = []
    root = logging.getLogger()
    handler = logging.Handler()
    handler.emit = seen.append  # type: ignore[method-assign]
    root.addHandler(handler)  # as logging.basicConfig() in a third-party module would
    try:
        with Steps("export", verbose=False):
            logging.getLogger("edgekit.targets.export").info("pre-flight for %s", "rknn")
    finally:
        root.removeHandler(handler)
    assert seen == []
    assert logging.getLogger("edgekit").propagate is True  # restored


def test_the_helper_shows_the_running_step_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(_common, "err_console", Console(file=screen, force_terminal=True, width=100))
    with Steps("optimize resnet18 int8"):
        logging.getLogger("edgekit.chain").info("pass %s", "static_int8")
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
    assert "optimize resnet18 int8 · pass static_int8 · 0 s" in shown
    assert logging.getLogger("edgekit").handlers == []  # detached afterwards
    screen.truncate(0)
    with Steps("optimize resnet18 int8", quiet=True):
        logging.getLogger("edgekit.chain").info("pass %s", "static_int8")
    assert screen.getvalue() == ""
