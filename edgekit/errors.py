"""Typed errors. The library raises these; only the CLI turns them into exit codes."""

from __future__ import annotations

import re


class EdgekitError(Exception):
    """Base class of every error edgekit raises on purpose."""

    exit_code = 2


class BadInputError(EdgekitError, ValueError):
    """The user asked for something malformed: a bad unit, an unknown name, a broken file."""


class UnknownNameError(BadInputError):
    """A registry lookup failed; the message lists close matches."""


class WeightsUnavailableError(EdgekitError):
    """Pretrained weights could not be fetched (typically offline)."""


class MissingDependencyError(EdgekitError):
    """An optional package (a vendor SDK extra) is not installed."""


class VerificationError(EdgekitError):
    """An artifact failed its structural or numeric check."""

    exit_code = 1


class CalibrationError(EdgekitError):
    """A calibrator cannot summarise the activations it saw (e.g. a histogram of a near-constant tensor)."""


class BoardError(EdgekitError):
    """A board reached through a device link failed: unreachable, refused, timed out, or its runner broke."""

    exit_code = 1


class BoardProtocolError(BoardError):
    """The board runner spoke another protocol version or replied with something that is not its reply."""


class StoreError(EdgekitError):
    """The results store cannot be used: corrupt, foreign, written by a newer edgekit, or not writable."""


class EdgekitWarning(UserWarning):
    """Something was skipped or degraded on purpose; the CLI prints it as one ``warning:`` line."""


class SkippedInputWarning(EdgekitWarning):
    """One input (an image file) was unusable and left out; the run goes on without it."""


# Lines of OpenVINO's C++ exception chains that say where, not what:
# "Exception from src/inference/src/cpp/core.cpp:84:", "Check 'x' failed at src/.../graph.cpp:117:",
# "FrontEnd API failed with GeneralFailure:".
_LOCATION_LINE = re.compile(
    r"^(exception from \S+:\d+:?|check '.*' failed at \S+:\d+:?|frontend api failed with \w+:?|summary:)$",
    re.IGNORECASE,
)


def summarize_message(text: str, fallback: str = "") -> str:
    """One informative line from a (possibly multi-line) message: location-only lines dropped, the rest joined.

    Example:
        >>> summarize_message("Exception from src/inference/src/cpp/core.cpp:84:\\nUnable to read the model: m.xml\\n")
        'Unable to read the model: m.xml'
    """
    lines = [line.strip() for line in text.splitlines()]
    meaningful = [line for line in lines if line and not _LOCATION_LINE.match(line)]
    return " ".join(meaningful or [line for line in lines if line]) or fallback


def summarize_exception(exc: BaseException) -> str:
    """:func:`summarize_message` of ``str(exc)``, or the exception's class name when it says nothing."""
    return summarize_message(str(exc), exc.__class__.__name__)
