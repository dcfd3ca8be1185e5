"""The ssh transport: run a command on a board, or write a file there, through the system OpenSSH client.

The user's keys, agent and ``~/.ssh/config`` apply; ``BatchMode=yes`` comes first on the command line
(ssh keeps the first value of an option), so nothing ever prompts for a password or a host key and a
missing key fails at once. Extra client options come from the board's ``ssh_options`` and from
``$EDGEKIT_SSH_OPTIONS`` (shell words, e.g. ``-i ~/.ssh/pi -o UserKnownHostsFile=~/.ssh/known_pi``).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import threading
from dataclasses import dataclass, field

from edgekit.devices.link import Link
from edgekit.errors import BadInputError, BoardError, MissingDependencyError

SSH_OPTIONS_ENV = "EDGEKIT_SSH_OPTIONS"
DEFAULT_CONNECT_TIMEOUT_S = 10
_SSH_FAILED = 255  # ssh's own exit status when it (not the remote command) failed
# A dead board or network is noticed within about 5 s x 3 missed keep-alives.
_KEEPALIVE = ("-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3")
_AUTH_REFUSED = ("permission denied", "too many authentication failures", "no supported authentication")
# What ssh itself says when it fails (exit 255). A remote command killed by a signal also makes ssh exit 255,
# but silently: an exit 255 without one of these is the command's, not the link's.
_LOST = ("closed by remote host", "timeout, server", "connection reset", "broken pipe")
_SSH_SAYS = ("ssh:", "connection closed", "kex_exchange", "could not resolve", "host key verification",
             "no route to host", "connection refused", *_LOST, *_AUTH_REFUSED)  # fmt: skip
_KILL_WAIT_S = 5.0


@dataclass(frozen=True)
class SshReply:
    """What a remote command returned."""

    returncode: int
    stdout: str
    stderr: str


def env_options() -> list[str]:
    """``$EDGEKIT_SSH_OPTIONS`` as ssh arguments.

    Raises:
        BadInputError: unbalanced quotes.
    """
    try:
        return shlex.split(os.environ.get(SSH_OPTIONS_ENV, ""))
    except ValueError as exc:
        raise BadInputError(f"${SSH_OPTIONS_ENV} is not valid shell words: {exc}") from None


@dataclass(frozen=True)
class SshTransport:
    """Commands on one board over ssh."""

    link: Link
    options: tuple[str, ...] = ()
    connect_timeout_s: int = DEFAULT_CONNECT_TIMEOUT_S
    env: dict[str, str] = field(default_factory=dict)

    def command(self, remote: str) -> list[str]:
        """The ssh command line running ``remote`` (one shell command line) on the board."""
        ssh = shutil.which("ssh")
        if ssh is None:
            raise MissingDependencyError("the ssh client is not installed (install OpenSSH, e.g. openssh-client)")
        fixed = ["-T", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={self.connect_timeout_s}", *_KEEPALIVE,
                 "-o", "LogLevel=ERROR", "-p", str(self.link.port)]  # fmt: skip
        return [ssh, *fixed, *self.options, *env_options(), "--", self.link.destination, remote]

    def run(self, remote: str, *, stdin: bytes, timeout_s: float, keep_stdin_open: bool = False) -> SshReply:
        """Run ``remote`` with ``stdin``; with ``keep_stdin_open`` the board's stdin stays open until it exits.

        Raises:
            BoardError: ssh could not connect or log in, or the command outlived ``timeout_s`` (then it is killed).
        """
        process = subprocess.Popen(self.command(remote), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env=os.environ | self.env)  # fmt: skip
        out: dict[str, bytes] = {}
        readers = [threading.Thread(target=_drain, args=(stream, out, key), daemon=True)
                   for stream, key in ((process.stdout, "out"), (process.stderr, "err"))]  # fmt: skip
        for reader in readers:
            reader.start()
        try:
            _feed(process, stdin, close=not keep_stdin_open)
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise BoardError(f"{self.link}: no answer within {timeout_s:g} s (the board or its runner hangs)") from None
        finally:
            _stop(process)
            for reader in readers:
                reader.join(_KILL_WAIT_S)
        reply = SshReply(process.returncode, out.get("out", b"").decode(errors="replace"),
                         out.get("err", b"").decode(errors="replace"))  # fmt: skip
        if reply.returncode == _SSH_FAILED and _ssh_failed(reply.stderr):
            raise BoardError(self.describe_failure(reply.stderr))
        return reply

    def describe_failure(self, stderr: str) -> str:
        """One line for an ssh failure: authentication refused, or the board unreachable."""
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        said = lines[-1] if lines else "ssh failed without a message"
        if any(marker in said.lower() for marker in _AUTH_REFUSED):
            return (f"{self.link}: authentication refused ({said}); edgekit logs in with your ssh keys or agent "
                    f"only — add a key (ssh-copy-id) or pass -i through ${SSH_OPTIONS_ENV}")  # fmt: skip
        if any(marker in said.lower() for marker in _LOST):
            return f"{self.link}: lost the connection to the board ({said})"
        if "host key verification failed" in said.lower():
            return f"{self.link}: host key unknown or changed ({said}); connect once with ssh to accept it"
        return f"{self.link}: board unreachable ({said})"


def _ssh_failed(stderr: str) -> bool:
    lines = [line.strip().lower() for line in stderr.splitlines() if line.strip()]
    return bool(lines) and any(marker in lines[-1] for marker in _SSH_SAYS)


def _feed(process: subprocess.Popen[bytes], data: bytes, close: bool) -> None:
    assert process.stdin is not None
    try:
        process.stdin.write(data)
        process.stdin.flush()
        if close:
            process.stdin.close()
    except BrokenPipeError:  # ssh already exited (refused, unreachable): its stderr says why
        pass


def _drain(stream: object, out: dict[str, bytes], key: str) -> None:
    out[key] = stream.read()  # type: ignore[attr-defined]


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Close stdin (the board runner exits on it) and make sure ssh is gone."""
    if process.stdin and not process.stdin.closed:
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()
    if process.poll() is None:
        process.kill()
        process.wait(_KILL_WAIT_S)
