"""A board reached over ssh: its cache folder, the runner and artifacts shipped into it, and requests to the runner.

Everything edgekit copies lands in the board's cache folder (default ``~/.cache/edgekit-board``) under
its sha256, written to a temporary name and renamed, so a half-copied file is never taken for a whole
one and a file already there is not copied again.
"""

from __future__ import annotations

import json
import shlex
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgekit.bench._spec import BoardLabel
from edgekit.devices._board_main import BOARD_PROTOCOL, DEFAULT_RUNTIME, REPLY_MARK
from edgekit.devices.bundle import runner_bundle, runner_sha256
from edgekit.devices.ssh import SshTransport
from edgekit.errors import BoardError, BoardProtocolError
from edgekit.fileio import sha256_file

DEFAULT_CACHE = "~/.cache/edgekit-board"
DEFAULT_PYTHON = "python3"
_NAME_DIGEST = 16  # hex digits of a sha256 in a cached file's name
_SHORT_CALL_S = 60.0  # bound of quick calls: listing the cache, probing
_COPY_S_PER_MB = 2.0  # bound of a copy: generous for a slow Wi-Fi link, plus the quick-call bound
_SIGNALLED = 255  # ssh's status when the remote command was killed by a signal
_GARBAGE_SHOWN = 80  # characters of an unexpected reply shown in the error
_REPLY_MARGIN_S = 5.0  # beyond a request's deadline: connecting, start-up, the reply


def remote_path(path: str) -> str:
    """A path for the board's shell: quoted, with a leading ``~/`` left to the shell to expand."""
    if path.startswith("~/"):
        return "~/" + shlex.quote(path[2:])
    return shlex.quote(path)


@dataclass(frozen=True)
class Board:
    """One board: who it is (``label``), how to reach it, which Python runs the runner, where it caches."""

    label: BoardLabel
    transport: SshTransport
    python: str = DEFAULT_PYTHON
    cache_dir: str = DEFAULT_CACHE
    runtimes: tuple[str, ...] = (DEFAULT_RUNTIME,)  # what --on times when no --runtime is given

    @property
    def runner_name(self) -> str:
        """The runner's file name in the cache (by digest: a changed runner is a new file)."""
        return f"runner-{runner_sha256()[:_NAME_DIGEST]}.pyz"

    def _in_cache(self, name: str) -> str:
        return remote_path(f"{self.cache_dir.rstrip('/')}/{name}")

    def missing(self, names: list[str]) -> list[str]:
        """Which of ``names`` the board's cache folder lacks (one round trip)."""
        tests = "; ".join(f"test -f {self._in_cache(n)} || echo {shlex.quote(n)}" for n in names)
        reply = self.transport.run(tests, stdin=b"", timeout_s=_SHORT_CALL_S)
        if reply.returncode != 0:
            said = (reply.stderr.strip().splitlines() or [f"exit {reply.returncode}"])[-1]
            raise BoardError(f"{self.label.link}: cannot look into the board's cache {self.cache_dir} ({said})")
        absent = set(reply.stdout.split())
        return [n for n in names if n in absent]

    def upload(self, data: bytes, name: str) -> None:
        """Write ``data`` as ``name`` in the cache folder: a temporary file first, then a rename."""
        folder, final = remote_path(self.cache_dir), self._in_cache(name)
        partial = self._in_cache(f".{name}.{uuid.uuid4().hex[:8]}.partial")
        command = f"mkdir -p {folder} && cat > {partial} && mv -f {partial} {final}"
        timeout = _SHORT_CALL_S + _COPY_S_PER_MB * len(data) / 2**20
        reply = self.transport.run(command, stdin=data, timeout_s=timeout)
        if reply.returncode != 0:
            said = (reply.stderr.strip().splitlines() or [f"exit {reply.returncode}"])[-1]
            raise BoardError(f"{self.label.link}: cannot write to the board's cache {self.cache_dir} ({said})")

    def ship(self, artifacts: list[Path]) -> dict[Path, str]:
        """Make sure the runner and ``artifacts`` are in the cache; return each artifact's name there.

        Returns:
            the cache name of each artifact (``<sha256>.<suffix>``); files already there are not copied.
        """
        names = {p: f"{sha256_file(p)[:_NAME_DIGEST]}{p.suffix}" for p in artifacts}
        for name in self.missing([self.runner_name, *names.values()]):
            if name == self.runner_name:
                self.upload(runner_bundle(), name)
            else:
                self.upload(next(p for p, n in names.items() if n == name).read_bytes(), name)
        return names

    def call(self, command: str, request: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        """Send one request to the runner and return its result.

        Raises:
            BoardError: the link failed, the runner died, hung, or answered with an error.
            BoardProtocolError: the reply is not the runner's, or of another protocol version.
        """
        line = json.dumps({**request, "protocol": BOARD_PROTOCOL, "deadline_s": timeout_s}) + "\n"
        remote = f"{remote_path(self.python)} {self._in_cache(self.runner_name)} {command}"
        reply = self.transport.run(remote, stdin=line.encode(), timeout_s=timeout_s + _REPLY_MARGIN_S,
                                   keep_stdin_open=True)  # fmt: skip
        payload = self._parse(reply.returncode, reply.stdout, reply.stderr)
        if "error" in payload:
            raise BoardError(f"{self.label.link}: {payload['error'].get('message', 'the board runner failed')}")
        return dict(payload["result"])

    def _parse(self, returncode: int, stdout: str, stderr: str) -> dict[str, Any]:
        marked = [line[len(REPLY_MARK) :] for line in stdout.splitlines() if line.startswith(REPLY_MARK)]
        if not marked:
            return self._no_reply(returncode, stdout, stderr)
        try:
            payload = json.loads(marked[-1])
        except ValueError:
            raise BoardProtocolError(f"{self.label.link}: the board runner's reply is not JSON") from None
        if not isinstance(payload, dict) or payload.get("protocol") != BOARD_PROTOCOL:
            got = payload.get("protocol") if isinstance(payload, dict) else None
            raise BoardProtocolError(f"{self.label.link}: the board runner speaks {got!r}, edgekit {BOARD_PROTOCOL}")
        if "error" not in payload and not isinstance(payload.get("result"), dict):
            raise BoardProtocolError(f"{self.label.link}: the board runner's reply has no result")
        return payload

    def _no_reply(self, returncode: int, stdout: str, stderr: str) -> dict[str, Any]:
        said = (stderr.strip().splitlines() or [""])[-1].strip()
        if stdout.strip():
            shown = stdout.strip()[:_GARBAGE_SHOWN]
            raise BoardProtocolError(f"{self.label.link}: the board runner printed something that is not its reply "
                                     f"({shown!r}); is {self.python} a Python >= 3.9?")  # fmt: skip
        if returncode == 127:  # the shell's "command not found"
            raise BoardError(f"{self.label.link}: {self.python} not found on the board ({said or 'exit 127'}); "
                             "install Python >= 3.9 or set the board's python")  # fmt: skip
        how = "killed by a signal, or the board went away" if returncode == _SIGNALLED else f"exit {returncode}"
        raise BoardError(f"{self.label.link}: the board runner died without a reply "
                         f"({how}{': ' + said if said else ''})")  # fmt: skip
