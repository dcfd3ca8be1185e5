"""The shared vocabulary: words every room uses, each defined once.

``Precision`` and ``ComputeUnit`` are the closed sets of target and profile files, ``StrictModel``
the base of every schema-checked record (unknown keys rejected, frozen), ``DEFAULT_OUT_ROOT``
where ``optimize`` and ``export`` write by default, and :func:`bad_input` turns a pydantic
``ValidationError`` into the one-line :class:`~edgekit.errors.BadInputError` the CLI prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from edgekit.errors import BadInputError

# Numeric precision of a deployable artifact (target and profile files, predictions).
Precision = Literal["fp32", "fp16", "int8"]
PRECISIONS: tuple[Precision, ...] = ("fp32", "fp16", "int8")
# Precision of the weights a pass produces: a deployable one, or mixed (int8 with float layers).
PassPrecision = Literal[Precision, "mixed"]
# The kind of compute unit a target runs on and a device profile offers.
ComputeUnit = Literal["cpu", "gpu", "npu", "tpu", "dsp"]
# Where optimize and export write when no output folder is given.
DEFAULT_OUT_ROOT = Path("edgekit-out")


class StrictModel(BaseModel):
    """Base of the schema-checked records: unknown keys rejected, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def describe_validation_error(exc: ValidationError, limit: int | None = None, *, empty: str = "(top level)",
                              options: bool = False, locations: bool = True, more: bool = False) -> str:  # fmt: skip
    """The violations of ``exc`` as ``field.path: message``, joined by ``"; "``.

    Args:
        exc: the pydantic error.
        limit: name at most this many violations (all when None).
        empty: the location shown for a violation of the whole record.
        options: name the field as a CLI option (``--min-iters``) instead of a path.
        locations: False shows the messages alone.
        more: append ``(+N more)`` when violations were left out.
    """
    errors = exc.errors()
    shown = errors if limit is None else errors[:limit]
    # One line whatever the data: messages' whitespace collapsed, keys with control characters quoted.
    messages = [(e["loc"], " ".join(e["msg"].split())) for e in shown]
    parts = [f"{_where(loc, empty, options)}: {msg}" if locations else msg for loc, msg in messages]
    rest = len(errors) - len(shown)
    return "; ".join(parts) + (f" (+{rest} more)" if more and rest > 0 else "")


def bad_input(exc: ValidationError, context: str | None = None, **describe: object) -> BadInputError:
    """The BadInputError for ``exc``: ``context: violations`` (see :func:`describe_validation_error`)."""
    text = describe_validation_error(exc, **describe)  # type: ignore[arg-type]
    return BadInputError(f"{context}: {text}" if context else text)


def _where(loc: tuple[int | str, ...], empty: str, options: bool) -> str:
    if not loc:
        return empty
    if options:
        return "--" + str(loc[0]).replace("_", "-")
    return ".".join(_loc_part(part) for part in loc)


def _loc_part(part: object) -> str:
    """One step of an error's field path; a key with a newline or other control character is quoted."""
    text = str(part)
    return text if text.isprintable() else repr(text)
