"""Typed errors. The library raises these; only the CLI turns them into exit codes."""


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
