"""Device links: measure on the user's own board over ssh with the local protocol (``bench --on LINK``).

``link`` parses ``local`` / ``ssh://user@host[:port]``; ``ssh`` runs commands through the system
OpenSSH client; ``bundle`` assembles the board runner from the protocol modules; ``board`` ships it
and the artifacts and talks to it; ``check`` reads the board's fingerprint and compares it with its
profile; ``config`` reads ``$EDGEKIT_HOME/devices.yaml``; ``remote_bench`` measures cells there; ``on`` is the
one dispatch of ``--on`` (local, a board, or the Ray fleet).
"""

from edgekit.devices.board import Board
from edgekit.devices.check import BoardCheck, probe, profile_mismatches
from edgekit.devices.config import BoardConfig, DevicesFile, load_devices, resolve_board
from edgekit.devices.link import Link, parse_link
from edgekit.devices.remote_bench import BoardRun, bench_on_board, last_check, save_check

__all__ = [
    "Board",
    "BoardCheck",
    "BoardConfig",
    "BoardRun",
    "DevicesFile",
    "Link",
    "bench_on_board",
    "last_check",
    "load_devices",
    "parse_link",
    "probe",
    "profile_mismatches",
    "resolve_board",
    "save_check",
]
