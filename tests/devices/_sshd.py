"""A real OpenSSH server on 127.0.0.1 for the device-link tests: throwaway host and user keys, loopback only.

The server runs ``/usr/sbin/sshd -D -e`` with a generated config (key login only, no PAM, no
forwarding), on a free port, as a child of the test; it is stopped with bounded waits. Clients reach
it with :attr:`Sshd.client_options` (its own identity and known_hosts file, ``BatchMode``), which is
what ``$EDGEKIT_SSH_OPTIONS`` or a board's ``ssh_options`` carry.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SSHD = Path("/usr/sbin/sshd")
PRIVSEP_DIR = Path("/run/sshd")  # sshd refuses to start without its privilege-separation directory
_START_WAIT_S = 20.0
_STOP_WAIT_S = 10.0
_CONFIG = """\
ListenAddress 127.0.0.1
Port {port}
HostKey {host_key}
PidFile {folder}/sshd.pid
AuthorizedKeysFile {folder}/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
AllowTcpForwarding no
X11Forwarding no
AllowAgentForwarding no
PermitTunnel no
MaxStartups 50
LogLevel ERROR
"""


@dataclass(frozen=True)
class Sshd:
    """A running loopback server and how to log in to it."""

    port: int
    user: str
    key: Path
    known_hosts: Path
    folder: Path
    pid: int = 0  # the listening sshd; each connection is served by a child of it

    @property
    def link(self) -> str:
        """``ssh://user@127.0.0.1:port``."""
        return f"ssh://{self.user}@127.0.0.1:{self.port}"

    def client_options(self, key: Path | None = None) -> list[str]:
        """ssh client arguments: this server's known_hosts and an identity (default: the authorized one)."""
        return ["-i", str(key or self.key), "-o", "IdentitiesOnly=yes", "-o", f"UserKnownHostsFile={self.known_hosts}",
                "-o", "StrictHostKeyChecking=yes", "-F", "/dev/null"]  # fmt: skip


def available() -> str | None:
    """Why a loopback sshd cannot run here, or None."""
    if not SSHD.is_file():
        return f"{SSHD} is not installed (apt-get install openssh-server)"
    if shutil.which("ssh-keygen") is None or shutil.which("ssh") is None:
        return "the OpenSSH client (ssh, ssh-keygen) is not installed"
    if not PRIVSEP_DIR.is_dir() and os.geteuid() != 0:
        return f"sshd needs {PRIVSEP_DIR}, which only root can create here"
    return None


def keygen(path: Path) -> Path:
    """A fresh ed25519 key pair without passphrase; returns the private key's path."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "edgekit-test", "-f", str(path)],
                   check=True, timeout=30)  # fmt: skip
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + _START_WAIT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"sshd exited {process.returncode}: {process.stderr.read().decode() if process.stderr else ''}"
            )
        with socket.socket() as client:
            client.settimeout(0.5)
            if client.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"sshd did not listen on 127.0.0.1:{port} within {_START_WAIT_S:g} s")


@contextmanager
def loopback_sshd(folder: Path, port: int | None = None) -> Iterator[Sshd]:
    """Start sshd on 127.0.0.1 (``port``, default a free one) for the current user; stop it (TERM, then KILL)."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
    host_key, user_key = keygen(folder / "host_key"), keygen(folder / "user_key")
    (folder / "authorized_keys").write_text((folder / "user_key.pub").read_text())
    port = port or _free_port()
    (folder / "known_hosts").write_text(f"[127.0.0.1]:{port} {(folder / 'host_key.pub').read_text()}")
    config = folder / "sshd_config"
    config.write_text(_CONFIG.format(port=port, host_key=host_key, folder=folder))
    process = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        _wait_listening(port, process)
        yield Sshd(port=port, user=getpass.getuser(), key=user_key, known_hosts=folder / "known_hosts", folder=folder,
                   pid=process.pid)  # fmt: skip
    finally:
        process.terminate()
        try:
            process.wait(_STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(_STOP_WAIT_S)
