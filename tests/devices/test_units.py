"""Device links without a board: link parsing, devices.yaml, the profile comparison, the runner's protocol."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edgekit.bench import BoardLabel, fingerprint
from edgekit.cli.main import app
from edgekit.devices import Board, load_devices, parse_link, profile_mismatches, resolve_board
from edgekit.devices._board_main import BOARD_PROTOCOL, REPLY_MARK
from edgekit.devices.bundle import runner_bundle
from edgekit.devices.ssh import SshReply, SshTransport
from edgekit.errors import BadInputError, BoardError, BoardProtocolError, UnknownNameError
from edgekit.paths import HOME_ENV
from edgekit.profiles import get_profile
from tests.devices.conftest import write_devices

runner = CliRunner()


@pytest.mark.parametrize(
    ("text", "user", "host", "port", "back"),
    [
        ("ssh://pi@pi5.local", "pi", "pi5.local", 22, "ssh://pi@pi5.local"),
        ("ssh://root@127.0.0.1:2222", "root", "127.0.0.1", 2222, "ssh://root@127.0.0.1:2222"),
        ("ssh://a.b@[fe80::1]:22/", "a.b", "[fe80::1]", 22, "ssh://a.b@[fe80::1]"),
    ],
)
def test_links_parse_and_print_back(text: str, user: str, host: str, port: int, back: str) -> None:
    link = parse_link(text)
    assert (link.kind, link.user, link.host, link.port, str(link)) == ("ssh", user, host, port, back)


@pytest.mark.parametrize(
    "text", ["pi5.local", "ssh://pi5.local", "ssh://pi:secret@pi5", "ssh://pi@pi5:0", "ssh://pi@pi5:99999",
             "ssh://pi@-oProxyCommand=x", "ssh://pi@pi5/path", "scp://pi@pi5"],
)  # fmt: skip
def test_anything_else_is_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(BadInputError, match=r"^not a device link: .*; use local or ssh://user@host\[:port\]"):
        parse_link(text)


def test_local_is_this_machine() -> None:
    assert parse_link("local").kind == "local"
    assert resolve_board("local") is None


def test_devices_yaml_is_schema_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HOME_ENV, str(tmp_path))
    good = {"id": "pi5", "profile": "raspberry-pi-5", "link": "ssh://pi@pi5.local"}
    write_devices(tmp_path, good)
    (board,) = load_devices().boards
    assert (board.python, board.runtimes, board.cache_dir) == ("python3", ["onnxruntime-cpu"], "~/.cache/edgekit-board")
    cases = [
        (good | {"colour": "red"}, "boards.0.colour: Extra inputs are not permitted"),
        (good | {"profile": "raspbery-pi-5"}, "unknown profile 'raspbery-pi-5'"),
        (good | {"link": "pi@pi5"}, "not a device link: 'pi@pi5'"),
        (
            good | {"runtimes": ["tflite"]},
            "runtimes the board runner times: onnxruntime-cpu, openvino-cpu; got ['tflite']",
        ),
    ]
    for entry, message in cases:
        write_devices(tmp_path, entry)
        with pytest.raises(BadInputError, match=r"^invalid devices devices\.yaml: ") as caught:
            load_devices()
        assert message in str(caught.value)
    write_devices(tmp_path, good, good)
    with pytest.raises(BadInputError, match="board id\\(s\\) defined twice: pi5"):
        load_devices()


def test_boards_resolve_by_name_or_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HOME_ENV, str(tmp_path))
    write_devices(tmp_path, {"id": "pi5", "profile": "raspberry-pi-5", "link": "ssh://pi@pi5.local:22",
                             "python": "~/venv/bin/python", "ssh_options": ["-i", "~/.ssh/pi"]})  # fmt: skip
    by_name, by_link = resolve_board("pi5"), resolve_board("ssh://pi@pi5.local")
    assert by_name == by_link
    assert by_name is not None
    assert by_name.label == BoardLabel(id="pi5", profile="raspberry-pi-5", link="ssh://pi@pi5.local")
    assert by_name.transport.options == ("-i", "~/.ssh/pi")
    with pytest.raises(UnknownNameError, match="pi4"):
        resolve_board("pi4")
    with pytest.raises(BadInputError, match="^board pi5 is configured as profile raspberry-pi-5, not rk3588$"):
        resolve_board("pi5", "rk3588")
    with pytest.raises(BadInputError, match="^which device does ssh://pi@other stand for\\? pass --profile"):
        resolve_board("ssh://pi@other")
    adhoc = resolve_board("ssh://pi@other:2200", "rk3588")
    assert adhoc is not None
    assert adhoc.label == BoardLabel(id="other", profile="rk3588", link="ssh://pi@other:2200")


def test_ssh_command_puts_batch_mode_first_and_takes_user_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEKIT_SSH_OPTIONS", "-i '/keys/my key' -o BatchMode=no")
    command = SshTransport(parse_link("ssh://pi@pi5:2200"), ("-F", "/cfg")).command("true")
    assert command[1:4] == ["-T", "-o", "BatchMode=yes"]  # ssh keeps the first value: no prompt can come back
    assert command[-9:] == ["-F", "/cfg", "-i", "/keys/my key", "-o", "BatchMode=no", "--", "pi@pi5", "true"]
    assert command[command.index("-p") : command.index("-p") + 2] == ["-p", "2200"]
    assert command.index("BatchMode=yes") < command.index("BatchMode=no")
    monkeypatch.setenv("EDGEKIT_SSH_OPTIONS", "-i 'unbalanced")
    with pytest.raises(BadInputError, match="^\\$EDGEKIT_SSH_OPTIONS is not valid shell words"):
        SshTransport(parse_link("ssh://pi@pi5")).command("true")


def test_board_named_raspberry_pi_5_reporting_cortex_a72_does_not_match() -> None:
    here = fingerprint()
    pi4ish = here.model_copy(update={"cpu_model": "4x Cortex-A72", "logical_cores": 4, "machine": "aarch64",
                                     "memory_total_mb": 7800.0})  # fmt: skip
    assert profile_mismatches(pi4ish, {"core_types": {"Cortex-A72": 4}}, get_profile("raspberry-pi-5")) == [
        "raspberry-pi-5 has 4x Cortex-A76; the board reports 4x Cortex-A72"
    ]
    pi5 = pi4ish.model_copy(update={"cpu_model": "4x Cortex-A76"})
    assert profile_mismatches(pi5, {"core_types": {"Cortex-A76": 4}}, get_profile("raspberry-pi-5")) == []
    assert profile_mismatches(here, {}, get_profile("host")) == []


class _Canned:
    """A transport that answers every command with one canned reply (unit tests of the reply parser)."""

    def __init__(self, reply: SshReply) -> None:
        self.reply = reply
        self.link = parse_link("ssh://pi@pi5")

    def run(self, remote: str, **_: object) -> SshReply:
        return self.reply


def _board(stdout: str, returncode: int = 0, stderr: str = "") -> Board:
    label = BoardLabel(id="pi5", profile="raspberry-pi-5", link="ssh://pi@pi5")
    return Board(label=label, transport=_Canned(SshReply(returncode, stdout, stderr)))  # type: ignore[arg-type]


def test_a_reply_of_another_protocol_version_is_an_error_never_a_number() -> None:
    other = REPLY_MARK + json.dumps({"protocol": "edgekit.board@2", "result": {"stats": {}}})
    with pytest.raises(BoardProtocolError, match="speaks 'edgekit.board@2', edgekit edgekit.board@1$"):
        _board(other).call("bench", {}, 10)
    with pytest.raises(BoardProtocolError, match="reply is not JSON"):
        _board(REPLY_MARK + "{not json").call("bench", {}, 10)
    with pytest.raises(BoardError, match="^ssh://pi@pi5: python3 not found on the board"):
        _board("", 127, "sh: 1: python3: not found").call("probe", {}, 10)
    with pytest.raises(BoardError, match="^ssh://pi@pi5: boom$"):
        _board(REPLY_MARK + json.dumps({"protocol": BOARD_PROTOCOL, "error": {"message": "boom"}})).call("x", {}, 1)


def test_the_runner_refuses_a_request_of_another_protocol(tmp_path: Path) -> None:
    bundle = tmp_path / "runner.pyz"
    bundle.write_bytes(runner_bundle())
    request = json.dumps({"protocol": "edgekit.board@0"}) + "\n"
    process = subprocess.Popen([sys.executable, "-I", str(bundle), "probe"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert process.stdin is not None
    process.stdin.write(request)
    process.stdin.flush()
    stdout = process.stdout.readline() if process.stdout else ""
    assert process.wait(30) == 0  # stdin still open: its end would tell the runner that edgekit is gone
    process.stdin.close()
    reply = json.loads(stdout.removeprefix(REPLY_MARK))
    assert reply == {
        "protocol": BOARD_PROTOCOL,
        "error": {
            "type": "BoardProtocolError",
            "message": "board runner speaks edgekit.board@1, the request 'edgekit.board@0'",
        },
    }


def test_bench_on_refuses_runtimes_a_board_cannot_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      tiny: Path) -> None:  # fmt: skip
    monkeypatch.setenv(HOME_ENV, str(tmp_path))
    write_devices(tmp_path, {"id": "pi5", "profile": "raspberry-pi-5", "link": "ssh://pi@pi5.invalid"})
    result = runner.invoke(app, ["bench", "squeezenet1_1", "--on", "pi5", "--runtime", "torch"])
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: torch-cpu cannot be timed on a board yet; board runtimes: "
                                     "onnxruntime-cpu, openvino-cpu (pass --runtime onnxruntime)")  # fmt: skip
    local = runner.invoke(app, ["bench", str(tiny), "--profile", "host"])
    assert local.exit_code == 2
    assert local.stderr.strip() == "error: --profile names the device an --on board stands for; pass --on LINK with it"


@pytest.mark.parametrize(
    ("profile", "cpu_model", "cores", "named"),
    [
        ("jetson-orin-nano", "6x Cortex-A78AE", {"Cortex-A78AE": 6}, True),
        ("raspberry-pi-5", "4x Cortex-A72", {"Cortex-A72": 4}, False),
        ("raspberry-pi-4", "4x Cortex-A72", {"Cortex-A72": 4}, True),
        ("celeron-n5105", "Intel(R) Celeron(R) N5105 @ 2.00GHz", {}, True),
        ("celeron-n5105", "Intel(R) Celeron(R) J4125 CPU @ 2.00GHz", {}, False),
        ("qcs6490", "1x Cortex-A78 + 3x Cortex-A78 + 4x Cortex-A55", {"Cortex-A78": 4, "Cortex-A55": 4}, True),
        ("jetson-agx-xavier", "8x Carmel", {"Carmel": 8}, True),
    ],
)
def test_core_names_are_matched_as_boards_report_them(profile: str, cpu_model: str, cores: dict[str, int],
                                                      named: bool) -> None:  # fmt: skip
    fp = fingerprint().model_copy(update={"cpu_model": cpu_model})
    messages = profile_mismatches(fp, {"core_types": cores}, get_profile(profile))
    core_lines = [m for m in messages if m.startswith(f"{profile} has ") and "x " in m.split(";")[0]]
    assert (core_lines == []) is named, messages
