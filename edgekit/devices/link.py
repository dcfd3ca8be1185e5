"""Device links: ``local`` (this machine) or ``ssh://user@host[:port]`` (a board through the system OpenSSH client)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field

from edgekit.errors import BadInputError
from edgekit.vocab import StrictModel

LOCAL = "local"
DEFAULT_SSH_PORT = 22
# user@host[:port]; host is a name, an IPv4 address or a bracketed IPv6 address. Nothing else: a password,
# a path or options in a link would either leak a secret into the results store or reach ssh's parser.
_SSH_LINK = re.compile(
    r"ssh://(?P<user>[A-Za-z0-9._][A-Za-z0-9._-]*)@(?P<host>[A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?/?"
)


class Link(StrictModel):
    """How a board is reached."""

    kind: Literal["local", "ssh"]
    user: str | None = None
    host: str | None = None
    port: int = Field(DEFAULT_SSH_PORT, ge=1, le=65535)

    @property
    def destination(self) -> str:
        """``user@host`` as ssh takes it (IPv6 without brackets)."""
        return f"{self.user}@{(self.host or '').strip('[]')}"

    def __str__(self) -> str:
        if self.kind == LOCAL:
            return LOCAL
        port = "" if self.port == DEFAULT_SSH_PORT else f":{self.port}"
        return f"ssh://{self.user}@{self.host}{port}"


def is_link(text: str) -> bool:
    """Whether ``text`` is written as a link (rather than a configured board's name)."""
    return text == LOCAL or text.startswith("ssh://")


def parse_link(text: str) -> Link:
    """Parse ``local`` or ``ssh://user@host[:port]``.

    Raises:
        BadInputError: anything else (the message shows the accepted forms).
    """
    if text == LOCAL:
        return Link(kind="local")
    match = _SSH_LINK.fullmatch(text)
    if not match or (match["port"] and not 1 <= int(match["port"]) <= 65535):
        raise BadInputError(f"not a device link: {text!r}; use local or ssh://user@host[:port] "
                            "(passwords are never part of a link: ssh uses your keys or agent)")  # fmt: skip
    port = int(match["port"]) if match["port"] else DEFAULT_SSH_PORT
    return Link(kind="ssh", user=match["user"], host=match["host"], port=port)
