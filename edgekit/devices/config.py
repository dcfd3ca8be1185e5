"""Configured boards: ``$EDGEKIT_HOME/devices.yaml`` names each board once (``--on pi5``).

Example::

    schema_version: 1
    boards:
      - id: pi5
        profile: raspberry-pi-5
        link: ssh://pi@pi5.local
        runtimes: [onnxruntime-cpu]
        python: python3                    # the board's Python (>= 3.9, with the runtime's package)
        ssh_options: [-i, ~/.ssh/id_pi5]   # extra OpenSSH client options (no passwords: keys or agent)

An ``--on ssh://...`` link that equals a configured board's link is that board.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from edgekit._datafile import read_yaml_file
from edgekit._registry import require_known
from edgekit.bench._spec import BoardLabel
from edgekit.devices._board_main import DEFAULT_RUNTIME, PREPARERS
from edgekit.devices.board import DEFAULT_CACHE, DEFAULT_PYTHON, Board
from edgekit.devices.link import LOCAL, is_link, parse_link
from edgekit.devices.ssh import DEFAULT_CONNECT_TIMEOUT_S, SshTransport
from edgekit.errors import BadInputError
from edgekit.paths import edgekit_home
from edgekit.profiles import get_profile
from edgekit.vocab import StrictModel

DEVICES_FILE = "devices.yaml"


class BoardConfig(StrictModel):
    """One configured board."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", description="the name --on takes")
    profile: str = Field(description="the device profile the board stands for (profiles/<id>.yaml)")
    link: str = Field(description="ssh://user@host[:port]")
    runtimes: list[str] = Field(default_factory=lambda: [DEFAULT_RUNTIME], description="runners to time there")
    python: str = Field(DEFAULT_PYTHON, min_length=1, description="the board's Python >= 3.9")
    ssh_options: list[str] = Field(default_factory=list, description="extra OpenSSH client arguments")
    cache_dir: str = Field(DEFAULT_CACHE, min_length=1, description="where the board keeps the runner and models")
    connect_timeout_s: int = Field(DEFAULT_CONNECT_TIMEOUT_S, ge=1, le=600)

    @field_validator("link")
    @classmethod
    def _ssh_link(cls, value: str) -> str:
        if parse_link(value).kind != "ssh":  # raises BadInputError (a ValueError) on a malformed link
            raise ValueError("a configured board is reached over ssh://")
        return str(parse_link(value))

    @field_validator("runtimes")
    @classmethod
    def _board_runtimes(cls, value: list[str]) -> list[str]:
        unknown = [r for r in value if r not in PREPARERS]
        if unknown or not value:
            raise ValueError(f"runtimes the board runner times: {', '.join(PREPARERS)}; got {value}")
        return value

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, value: str) -> str:
        return get_profile(value).id  # raises UnknownNameError (a ValueError) with close matches


class DevicesFile(StrictModel):
    """The whole ``devices.yaml``."""

    schema_version: Literal[1]
    boards: list[BoardConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> DevicesFile:
        ids = [b.id for b in self.boards]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"board id(s) defined twice: {', '.join(twice)}")
        return self


def devices_path() -> Path:
    """``$EDGEKIT_HOME/devices.yaml``."""
    return edgekit_home() / DEVICES_FILE


def load_devices(path: Path | None = None) -> DevicesFile:
    """The configured boards (none when the file does not exist).

    Raises:
        BadInputError: unreadable YAML or a schema violation (named).
    """
    path = path or devices_path()
    if not path.exists():
        return DevicesFile(schema_version=1)
    return read_yaml_file(path, DevicesFile, "devices")


def board_from_config(config: BoardConfig) -> Board:
    """The :class:`Board` a configuration describes."""
    transport = SshTransport(parse_link(config.link), tuple(config.ssh_options), config.connect_timeout_s)
    label = BoardLabel(id=config.id, profile=config.profile, link=config.link)
    return Board(label=label, transport=transport, python=config.python, cache_dir=config.cache_dir,
                 runtimes=tuple(config.runtimes))  # fmt: skip


def resolve_board(on: str, profile: str | None = None, *, need_profile: bool = True) -> Board | None:
    """The board ``--on`` names: None for ``local``, a configured board by name or link, or an ad-hoc link.

    Raises:
        BadInputError: a malformed link; an ad-hoc link without ``profile`` when ``need_profile``;
            a ``profile`` other than the configured board's.
        UnknownNameError: neither a link nor a configured board (lists close matches).
    """
    if on == LOCAL:
        return None
    boards = {b.id: b for b in load_devices().boards}
    if is_link(on):
        link = str(parse_link(on))
        config = next((b for b in boards.values() if b.link == link), None)
    else:
        config = boards[require_known(on, boards, "board (configure it in devices.yaml)", listing="inline")]
    if config is not None:
        if profile and get_profile(profile).id != config.profile:
            raise BadInputError(f"board {config.id} is configured as profile {config.profile}, not {profile}")
        return board_from_config(config)
    if profile is None and need_profile:
        raise BadInputError(f"which device does {link} stand for? pass --profile (e.g. --profile raspberry-pi-5) "
                            f"or configure the board in {devices_path()}")  # fmt: skip
    parsed = parse_link(link)
    label = BoardLabel(id=parsed.host or link, profile=get_profile(profile).id if profile else "unknown", link=link)
    return Board(label=label, transport=SshTransport(parsed))
