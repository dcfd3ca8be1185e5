"""Hand-off scripts never run code the user did not write: hostile input names, file names and --param values.

Each case is rendered into a real ``handoff.sh`` and run in a sandbox (see ``_handoff_sandbox``): vendor
tools are recorders, Python heredocs run for real. An injected command would create a marker file; a
value broken by bad quoting would not reach the tool whole.
"""

from __future__ import annotations

import stat
import string
from pathlib import Path

import numpy as np
import onnx
import pytest
from typer.testing import CliRunner

from edgekit.cli.main import app
from edgekit.errors import BadInputError
from edgekit.fileio import current_umask
from edgekit.targets import TargetSpec, load_target_file, load_targets
from edgekit.targets.calibration import write_calibration
from edgekit.targets.handoff import HANDOFF_SCRIPT, handoff_context, render_handoff
from tests.hostile._handoff_sandbox import ScriptRun, make_bin, run_script
from tests.targets._graphs import CLASSES, SIDE, classifier, save
from tests.targets.test_schema import _raw, _write

runner = CliRunner()
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
PAIRS = [(t, p) for t, spec in sorted(load_targets().items()) for p in spec.precisions]
REAL_PYTHON_TARGETS = {"onnxruntime-cpu", "onnxruntime-cuda"}  # their hand-off runs onnxruntime, installed here


MARKER = "injected"  # relative: a script runs in its own folder, so an injected `touch` would land there


def _payloads() -> tuple[str, str, str]:
    """(input name, file stem, --param value): shell and Python injections plus quotes, spaces, braces."""
    shell = f"$(touch {MARKER}) `touch {MARKER}` ;touch {MARKER}; | touch {MARKER} && touch {MARKER}"
    python = f"'); __import__('os').system('touch {MARKER}'); (' \"\"\" \\ {{onnx}} %s EOF ü"
    return f"in {shell} {python}", f"m {shell}", f"v {python} {shell}"


def with_input_name(name: str) -> onnx.ModelProto:
    """The tiny classifier whose graph input is called ``name``."""
    model = classifier()
    model.graph.input[0].name = name
    for node in model.graph.node:
        node.input[:] = [name if i == "input" else i for i in node.input]
    return model


@pytest.fixture(scope="module")
def bin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bin(tmp_path_factory.mktemp("handoff-bin"))


def _used(spec: TargetSpec, precision: str) -> set[str]:
    """Placeholders the commands of ``precision`` use (per-precision values included)."""
    templates = [*spec.handoff.commands, *spec.handoff.per_precision.get(precision, {}).values()]  # type: ignore[call-overload]
    return {field for t in templates for _, field, _, _ in string.Formatter().parse(t) if field}


def _assert_nothing_injected(run: ScriptRun, *folders: Path) -> None:
    assert run.code == 0, run.stderr
    assert not [f for f in folders if (f / MARKER).exists()], "an injected command ran"
    assert "Traceback" not in run.stderr, run.stderr


@pytest.mark.parametrize(("target_id", "precision"), PAIRS, ids=[f"{t}-{p}" for t, p in PAIRS])
def test_every_handoff_script_runs_hostile_names_as_data(target_id: str, precision: str, tmp_path: Path,
                                                         bin_dir: Path) -> None:  # fmt: skip
    input_name, stem, value = _payloads()
    spec = load_targets()[target_id]
    folder = tmp_path / f"export $(touch {MARKER}) dir"
    save(with_input_name(input_name), folder / f"{stem}.onnx")
    pixels = np.random.default_rng(0).standard_normal((2, 3, SIDE, SIDE)).astype(np.float32)
    write_calibration(folder, pixels, MEAN, STD, ["png-list", "npy-nchw", "npy-nhwc-unnormalized", "raw-nhwc-list"])
    context = handoff_context(input_name, (1, 3, SIDE, SIDE), MEAN, STD, precision, f"{stem}.onnx")
    handoff = render_handoff(spec, precision, context, dict.fromkeys(spec.handoff.parameters, value))
    script = folder / HANDOFF_SCRIPT
    script.write_text(handoff.script())
    script.chmod(0o755)

    run = run_script(script, bin_dir)

    _assert_nothing_injected(run, tmp_path, folder)
    if target_id in REAL_PYTHON_TARGETS:  # onnxruntime loaded the hostile file name and fed the hostile input name
        assert f"(1, {CLASSES})" in run.stdout
        return
    received = run.received()
    used = _used(spec, precision)
    wanted = {"onnx": f"{stem}.onnx", "stem": stem, "input_name": input_name}
    wanted |= dict.fromkeys(spec.handoff.parameters, value)
    for placeholder, text in wanted.items():
        if placeholder in used:
            assert any(text in arg for arg in received), f"{placeholder} did not arrive whole: {received}"


def test_onnxruntime_export_with_a_command_in_the_input_name(tmp_path: Path, bin_dir: Path) -> None:
    source = save(with_input_name(f"x$(touch {MARKER})"), tmp_path / "inj.onnx")
    result = runner.invoke(app, ["export", str(source), "--target", "onnxruntime-cpu", "--out", str(tmp_path / "o"),
                                 "--samples", "2"])  # fmt: skip
    assert result.exit_code == 0, result.output
    script = tmp_path / "o" / HANDOFF_SCRIPT
    assert stat.S_IMODE(script.stat().st_mode) == 0o777 & ~current_umask()  # 0755 under the usual umask 022
    assert f"dict([('x$(touch {MARKER})', np.zeros((1,3,{SIDE},{SIDE}), np.float32))])" in script.read_text()
    run = run_script(script, bin_dir)
    _assert_nothing_injected(run, tmp_path, script.parent)
    assert run.stdout.strip() == f"(1, {CLASSES})"


def test_tensorrt_export_of_a_file_named_like_a_command(tmp_path: Path, bin_dir: Path) -> None:
    source = save(classifier(), tmp_path / f"x;touch {MARKER};.onnx")
    result = runner.invoke(app, ["export", str(source), "--target", "tensorrt", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    run = run_script(tmp_path / "o" / HANDOFF_SCRIPT, bin_dir)
    _assert_nothing_injected(run, tmp_path, tmp_path / "o")
    build, load = (call["args"] for call in run.calls)
    assert build[:2] == [f"--onnx=x;touch {MARKER};.onnx", f"--saveEngine=x;touch {MARKER};.engine"]
    assert load[0] == f"--loadEngine=x;touch {MARKER};.engine"


def test_a_dotted_input_name_is_valid_python_in_the_onnxruntime_handoff(tmp_path: Path, bin_dir: Path) -> None:
    source = save(with_input_name("input.1"), tmp_path / "dotted.onnx")
    result = runner.invoke(app, ["export", str(source), "--target", "onnxruntime-cpu", "--out", str(tmp_path / "o"),
                                 "--samples", "2"])  # fmt: skip
    assert result.exit_code == 0, result.output
    run = run_script(tmp_path / "o" / HANDOFF_SCRIPT, bin_dir)
    assert run.code == 0, run.stderr
    assert run.stdout.strip() == f"(1, {CLASSES})"


def test_a_param_value_with_a_command_reaches_rknn_as_one_string(tmp_path: Path, bin_dir: Path) -> None:
    value = f"rk3588'); __import__('os').system('touch {MARKER}'); ('"
    source = save(classifier(), tmp_path / "tiny.onnx")
    result = runner.invoke(app, ["export", str(source), "-t", "rknn", "--precision", "fp16", "--out",
                                 str(tmp_path / "o"), "--param", f"target_platform={value}"])  # fmt: skip
    assert result.exit_code == 0, result.output
    run = run_script(tmp_path / "o" / HANDOFF_SCRIPT, bin_dir)
    _assert_nothing_injected(run, tmp_path, tmp_path / "o")
    config = next(call for call in run.calls if call["tool"] == "rknn.config")
    assert value in config["args"]


@pytest.mark.parametrize(
    ("case", "args", "fragment"),
    [
        ("newline input name", [], "input name 'in\\nrm -rf x' cannot be written into a hand-off script: it contains "
                                   "a control or non-printable character"),
        ("option-like file name", [], "file name '-rf.onnx' cannot be written into a hand-off script: it starts with "
                                      "'-', which a command would read as an option"),
        ("control character in a param", ["--param", "target_platform=rk\x1b[2J"],
         "--param target_platform 'rk\\x1b[2J' cannot be written into a hand-off script: it contains a control"),
    ],
)  # fmt: skip
def test_names_no_quoting_keeps_on_one_line_are_refused(case: str, args: list[str], fragment: str,
                                                        tmp_path: Path) -> None:  # fmt: skip
    model = with_input_name("in\nrm -rf x") if case == "newline input name" else classifier()
    source = save(model, tmp_path / ("-rf.onnx" if case == "option-like file name" else "tiny.onnx"))
    out = tmp_path / "out"
    result = runner.invoke(app, ["export", str(source), "-t", "rknn", "--precision", "fp16", "--out", str(out), *args])
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert fragment in line
    assert not out.exists()


def test_library_refuses_a_control_character_in_the_input_name() -> None:
    with pytest.raises(BadInputError, match=r"^input name 'a\\tb' cannot be written into a hand-off script"):
        handoff_context("a\tb", (1, 3, 224, 224), MEAN, STD, "fp32")


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("trtexec --onnx={onnx}", r"\{onnx\} holds user text: write \{onnx:sh\} there"),
        ("python - <<'EOF'\nprint({input_name:sh})\nEOF", r"\{input_name\} holds user text: write \{input_name:py\}"),
        ("python - <<EOF\nprint({onnx:py})\nEOF", r"heredoc <<EOF must quote its delimiter \(<<'EOF'\)"),
        ("trtexec --shapes={input_shape_x:sh}", r"\{input_shape_x:sh\}: only user text .* takes a quoting spec"),
        ("trtexec --onnx={onnx!r}", r"conversions are not supported"),
    ],
)
def test_schema_refuses_templates_that_would_render_user_text_unquoted(command: str, message: str,
                                                                       tmp_path: Path) -> None:  # fmt: skip
    data = _raw("tensorrt")
    data["handoff"]["commands"] = [command]
    with pytest.raises(BadInputError, match=message):
        load_target_file(_write(tmp_path, "tensorrt", data))


def test_export_output_prints_a_markup_like_file_name_as_it_is(tmp_path: Path) -> None:
    source = save(classifier(), tmp_path / "[" / "b]x[bold].onnx")  # the path holds "[/b]": a rich closing tag
    result = runner.invoke(app, ["export", str(source), "-t", "tensorrt", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith(f"{source} → target tensorrt")
    assert "--onnx='b]x[bold].onnx'" in result.stdout
