"""Parse human quantities ("512MB", "30fps", "5W") into typed values.

Memory follows the JEDEC convention used for RAM and by torchvision's ``_file_size``:
``KB``/``MB``/``GB`` (and ``K``/``M``/``G``) are powers of 1024, the same as ``KiB``/``MiB``/``GiB``.
A bare number of bytes needs the ``B`` suffix, so that ``512`` is never silently 512 bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edgekit.errors import BadInputError

_NUMBER = r"(?P<num>\d+(?:\.\d*)?|\.\d+)"
_KIB = 1024
_BYTE_FACTORS: dict[str, int] = {
    "b": 1,
    "k": _KIB, "kb": _KIB, "kib": _KIB,
    "m": _KIB**2, "mb": _KIB**2, "mib": _KIB**2,
    "g": _KIB**3, "gb": _KIB**3, "gib": _KIB**3,
    "t": _KIB**4, "tb": _KIB**4, "tib": _KIB**4,
}  # fmt: skip
_WATT_FACTORS: dict[str, float] = {"w": 1.0, "mw": 1e-3, "kw": 1e3}
_FPS_SUFFIXES = ("", "fps", "hz", "/s")


@dataclass(frozen=True, order=True)
class ByteSize:
    """An amount of memory or storage in bytes."""

    bytes: int

    @property
    def mib(self) -> float:
        """The size in MiB (= MB here)."""
        return self.bytes / _KIB**2

    def __str__(self) -> str:
        return format_bytes(self.bytes)


@dataclass(frozen=True, order=True)
class FrameRate:
    """A throughput requirement in frames (inferences) per second."""

    fps: float

    @property
    def period_ms(self) -> float:
        """The latency budget one frame may take, in milliseconds."""
        return 1000.0 / self.fps

    def __str__(self) -> str:
        return f"{self.fps:g} fps"


@dataclass(frozen=True, order=True)
class Power:
    """An electrical power budget in watts."""

    watts: float

    def __str__(self) -> str:
        return f"{self.watts:g} W"


def _split(text: str, what: str, example: str) -> tuple[float, str]:
    match = re.fullmatch(_NUMBER + r"\s*(?P<unit>[A-Za-z/]*)", text.strip())
    if match is None:
        raise BadInputError(f"cannot parse {what} {text!r}: expected a number and a unit, e.g. {example}")
    return float(match["num"]), match["unit"].lower()


def parse_bytes(text: str) -> ByteSize:
    """Parse a memory size such as ``512MB``, ``0.5GiB`` or ``512M``.

    Raises:
        BadInputError: the text is not a positive number followed by a byte unit.
    """
    value, unit = _split(text, "memory size", "512MB or 0.5GiB")
    if not unit:  # a bare 512 could be MB or MiB or bytes: say which units there are rather than guess
        raise BadInputError(f"memory size {text!r} needs a unit, e.g. {value:g}MB or {value:g}MiB")
    if unit not in _BYTE_FACTORS:
        known = "B, KB, MB, GB, TB (or K, M, G, KiB, MiB, GiB)"
        raise BadInputError(f"unknown memory unit {unit!r} in {text!r}: use {known}")
    if value <= 0:
        raise BadInputError(f"memory size must be positive, got {text!r}")
    return ByteSize(round(value * _BYTE_FACTORS[unit]))


def parse_fps(text: str) -> FrameRate:
    """Parse a frame rate such as ``30``, ``30fps`` or ``12.5Hz``.

    Raises:
        BadInputError: the text is not a positive number with an optional fps/Hz unit.
    """
    value, unit = _split(text, "frame rate", "30 or 30fps")
    if unit not in _FPS_SUFFIXES:
        raise BadInputError(f"unknown frame-rate unit {unit!r} in {text!r}: use fps or Hz")
    if value <= 0:
        raise BadInputError(f"frame rate must be positive, got {text!r}")
    return FrameRate(value)


def parse_power(text: str) -> Power:
    """Parse a power budget such as ``5W`` or ``5000mW``.

    Raises:
        BadInputError: the text is not a positive number followed by W, mW or kW.
    """
    value, unit = _split(text, "power", "5W or 5000mW")
    if not unit:
        raise BadInputError(f"power {text!r} needs a unit, e.g. {value:g}W or {value:g}mW")
    if unit not in _WATT_FACTORS:
        raise BadInputError(f"unknown power unit {unit!r} in {text!r}: use W or mW")
    if value <= 0:
        raise BadInputError(f"power must be positive, got {text!r}")
    return Power(value * _WATT_FACTORS[unit])


def format_bytes(n_bytes: float) -> str:
    """Format a byte count with the largest unit that keeps the number ≥ 1 (1024-based)."""
    for unit, factor in (("GB", _KIB**3), ("MB", _KIB**2), ("KB", _KIB)):
        if abs(n_bytes) >= factor:
            return f"{n_bytes / factor:.3g} {unit}" if n_bytes / factor < 100 else f"{n_bytes / factor:.0f} {unit}"
    return f"{n_bytes:.0f} B"
