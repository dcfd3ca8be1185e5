"""Fuzzing the loaders: properties part (see the package docstring)."""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from edgekit.analysis import analyze_onnx
from edgekit.errors import EdgekitError
from edgekit.paths import HOME_ENV
from edgekit.profiles import load_profile_file, load_profiles
from edgekit.targets import load_target_file, load_targets
from tests.hostile._fuzz._common import CLI_EXIT_CODES, SENTINEL, TRACEBACK_MARK
from tests.hostile._fuzz._onnx import EXTERNAL_DATA_NAME, external_data, hostile_onnx_protos, mutated_onnx_bytes
from tests.hostile._fuzz._yaml import _FOLDER, YamlCase, mutated_yaml

# --------------------------------------------------------------------------------------------------------
# The properties
# --------------------------------------------------------------------------------------------------------


class PropertyError(AssertionError):
    """The property failed: a loader or command did something other than succeed or refuse in one line."""


def _refusal(exc: EdgekitError) -> str:
    message = str(exc)
    if "\n" in message or not message.strip():
        raise PropertyError(f"{type(exc).__name__} with a message that is not one line: {message[:300]!r}")
    return "refused"


@contextlib.contextmanager
def _home(folder: Path) -> Iterator[Path]:
    """Point ``$EDGEKIT_HOME`` at ``folder`` for the duration."""
    previous = os.environ.get(HOME_ENV)
    os.environ[HOME_ENV] = str(folder)
    try:
        yield folder
    finally:
        if previous is None:
            os.environ.pop(HOME_ENV, None)
        else:
            os.environ[HOME_ENV] = previous


def _check_analysis(analysis: Any) -> str:
    per_node = ("macs", "weight_bytes", "input_bytes", "output_bytes")
    figures = {
        "params": analysis.params, "macs": analysis.macs, "peak_activation_bytes": analysis.peak_activation_bytes,
        **{f"weight_bytes[{k}]": v for k, v in analysis.weight_bytes_by_dtype.items()},
        **{f"{n.name}.{key}": getattr(n, key) for n in analysis.nodes for key in per_node},
    }  # fmt: skip
    negative = {k: v for k, v in figures.items() if v < 0}
    if negative:
        raise PropertyError(f"analysis returned negative figures: {dict(list(negative.items())[:4])}")
    _require_strict_json(analysis, "the analysis")
    return "ok"


def _require_strict_json(item: Any, what: str) -> None:
    """A loaded result must serialize as JSON (what ``--json`` prints): no NaN or Infinity anywhere."""
    try:
        json.dumps(item.model_dump(mode="json"), allow_nan=False)
    except ValueError as exc:
        raise PropertyError(f"{what} holds a non-finite number ({exc})") from None


def check_onnx(data: bytes, folder: Path) -> str:
    """Property (a)/(b): ``analyze_onnx`` on a file of these bytes returns a sane analysis or refuses in one line."""
    path = folder / "model.onnx"
    path.write_bytes(data)
    (folder / EXTERNAL_DATA_NAME).write_bytes(external_data())
    try:
        analysis = analyze_onnx(path)
    except EdgekitError as exc:
        return _refusal(exc)
    return _check_analysis(analysis)


def check_yaml(case: YamlCase, folder: Path) -> str:
    """Property (c): the file loader and the registry (user folder) load the file or refuse in one line; no tag runs."""
    loader = load_profile_file if case.kind == "profile" else load_target_file
    registry = load_profiles if case.kind == "profile" else load_targets
    path = case.place(folder / "home" / _FOLDER[case.kind])
    with _home(folder / "home"):
        try:
            item = loader(path)
            outcome = "ok"
        except EdgekitError as exc:
            outcome = _refusal(exc)
        else:
            _require_strict_json(item, f"the loaded {case.kind}")
        if SENTINEL.exists():
            raise PropertyError(f"a YAML tag ran code: {SENTINEL} was created")
        # The registry over bundled + user folder: a refused file is refused there the same way, but a folder
        # entry that is not a file is listed by the registry's own glob.
        if outcome == "ok" or case.entry != "file":
            try:
                loaded = registry()
            except EdgekitError as exc:  # e.g. the mutated id now equals a bundled one
                return f"{outcome}, registry " + _refusal(exc)
            if outcome == "ok" and Path(case.file_name).stem not in loaded:
                raise PropertyError(f"{case.file_name} loads alone but is missing from the registry")
    return outcome


@dataclass(frozen=True)
class CliCase:
    """One CLI sample: an ONNX file (bytes) or a user data file, and the commands run over it."""

    onnx: bytes | None = None
    yaml: YamlCase | None = None

    def __repr__(self) -> str:
        return f"CliCase(onnx={self.onnx[:2000]!r})" if self.onnx is not None else f"CliCase({self.yaml!r})"


def cli_cases() -> st.SearchStrategy[CliCase]:
    """ONNX files of both kinds and mutated data files, for the in-process CLI check."""
    return st.one_of(
        st.builds(CliCase, onnx=mutated_onnx_bytes() | hostile_onnx_protos()),
        st.builds(CliCase, yaml=mutated_yaml()),
    )


def _commands(case: CliCase, folder: Path) -> list[list[str]]:
    if case.onnx is not None:
        path = folder / "model.onnx"
        path.write_bytes(case.onnx)
        (folder / EXTERNAL_DATA_NAME).write_bytes(external_data())
        return [["analyze", str(path)], ["analyze", str(path), "--json"]]
    assert case.yaml is not None
    case.yaml.place(folder / "home" / _FOLDER[case.yaml.kind])
    item_id = Path(case.yaml.file_name).stem
    if case.yaml.kind == "target":
        return [["targets"], ["targets", "--json"]]
    return [["profiles", item_id], ["profiles", "--json"], ["predict", "mobilenet_v2", "--profile", item_id, "--json"]]


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def check_cli(case: CliCase, folder: Path) -> str:
    """Property (CLI): each command exits 0, 1 or 2, prints no traceback, and a refusal is one ``error:`` line."""
    from typer.testing import CliRunner

    from edgekit.cli.main import app

    runner = CliRunner()
    codes = []
    for args in _commands(case, folder):
        with warnings.catch_warnings():
            warnings.simplefilter("always")  # as in a fresh process: a warning shows on every run, not only once
            result = runner.invoke(app, args, env={HOME_ENV: str(folder / "home"), "COLUMNS": "200"})
        shown = " ".join(args[:1] + [Path(a).name if "/" in a else a for a in args[1:]])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise PropertyError(
                f"`edgekit {shown}` raised {type(result.exception).__name__}: {result.exception}"
            ) from result.exception
        if result.exit_code not in CLI_EXIT_CODES:
            raise PropertyError(f"`edgekit {shown}` exited {result.exit_code}")
        if TRACEBACK_MARK in result.stdout or TRACEBACK_MARK in result.stderr:
            raise PropertyError(f"`edgekit {shown}` printed a traceback")
        if result.exit_code == 2:
            lines = result.stderr.strip().splitlines()
            if len(lines) != 1 or not lines[0].startswith("error: "):
                raise PropertyError(f"`edgekit {shown}` exit 2 without one error line: {result.stderr[:300]!r}")
        if SENTINEL.exists():
            raise PropertyError(f"`edgekit {shown}`: a YAML tag ran code ({SENTINEL} was created)")
        if result.exit_code == 0 and "--json" in args:
            try:
                json.loads(result.stdout, parse_constant=_reject_constant)
            except ValueError as exc:
                raise PropertyError(f"`edgekit {shown}` printed invalid JSON ({exc})") from None
        codes.append(result.exit_code)
    return "exit " + "/".join(map(str, codes))
