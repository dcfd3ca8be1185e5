"""Render a target's hand-off commands (trtexec, rknn-toolkit2, onnx2tf, pnnx, ...) for one artifact.

Templates in ``targets/<id>.yaml`` use ``str.format`` placeholders; :func:`handoff_context`
fills the ones every template may use from the artifact's input spec and preprocessing, and
:func:`render_handoff` adds the target's parameters and per-precision values. Commands are
meant to be run from the export folder, so every path in them is relative to it.

Values that come from the user's file or command line (the file name, the input name, ``--param``
values) are :class:`FreeText`: a template renders them only as ``{name:sh}`` (one shell word,
``shlex.quote``) or ``{name:py}`` (a Python string literal, for quoted heredocs), never raw, so no
name can become code. Names no quoting keeps on one line (control characters) or that a tool
would read as an option (a leading ``-``) are refused.
"""

from __future__ import annotations

import shlex
import string
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict

from edgekit.errors import BadInputError
from edgekit.targets._schema import CONTEXT_PLACEHOLDERS, FREE_TEXT_PLACEHOLDERS, QUOTING_SPECS, TargetSpec
from edgekit.targets.calibration import CALIBRATION_PATHS

ARTIFACT_STEM = "model"
ARTIFACT_ONNX = f"{ARTIFACT_STEM}.onnx"
HANDOFF_SCRIPT = "handoff.sh"
_DIGITS = 6  # significant digits of mean/std figures in commands


class FreeText(str):
    """A value from the user's file or command line: formats only through a quoting spec (``sh``, ``py``)."""

    __slots__ = ()

    def __format__(self, spec: str) -> str:
        if spec == "sh":
            return shlex.quote(str(self))
        if spec == "py":
            return repr(str(self))
        raise ValueError(f"{str(self)!r} comes from the user and must be rendered as {{...:sh}} or {{...:py}}")


def unsafe_text(value: str) -> str | None:
    """Why ``value`` cannot go into a hand-off script even quoted, or None when it can."""
    if not value:
        return "is empty"
    if not value.isprintable():
        return "contains a control or non-printable character"
    if value.startswith("-"):
        return "starts with '-', which a command would read as an option"
    return None


def check_text(label: str, value: str) -> None:
    """Refuse a name or value that :func:`unsafe_text` rejects.

    Raises:
        BadInputError: ``<label> '<value>' cannot be written into a hand-off script: <why>``.
    """
    why = unsafe_text(value)
    if why:
        raise BadInputError(f"{label} {value!r} cannot be written into a hand-off script: it {why}")


def check_overrides(spec: TargetSpec, overrides: Mapping[str, str]) -> None:
    """Hand-off parameter overrides must name parameters of the target and hold safe values.

    Raises:
        BadInputError: an unknown parameter (the message lists the known ones) or an unsafe value.
    """
    unknown = sorted(set(overrides) - set(spec.handoff.parameters))
    if unknown:
        known = ", ".join(sorted(spec.handoff.parameters)) or "none"
        raise BadInputError(f"target {spec.id} has no hand-off parameter {', '.join(unknown)} (parameters: {known})")
    for key, value in overrides.items():
        check_text(f"--param {key}", value)


class RenderedHandoff(BaseModel):
    """The commands a user runs on their side for one exported artifact."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: str
    precision: str
    tool: str
    install: str
    commands: list[str]
    produces: str
    docs_url: str
    parameters: dict[str, str]

    def script(self) -> str:
        """A bash script running the commands from the folder it sits in."""
        header = [
            "#!/usr/bin/env bash",
            f"# edgekit hand-off for target {self.target} ({self.precision}): produces {self.produces}",
            f"# needs: {self.install}",
            f"# docs: {self.docs_url}",
            "set -euo pipefail",
            'cd "$(dirname "$0")"',
        ]
        return "\n".join([*header, *self.commands]) + "\n"


def _csv(values: Sequence[float], scale: float = 1.0) -> str:
    return ",".join(f"{v * scale:.{_DIGITS}g}" for v in values)


def handoff_context(
    input_name: str,
    input_shape: Sequence[int],
    mean: Sequence[float],
    std: Sequence[float],
    precision: str,
    onnx_name: str = ARTIFACT_ONNX,
) -> dict[str, str]:
    """Values of the placeholders every template may use.

    Args:
        input_name: the graph input's name.
        input_shape: NCHW shape at batch 1 (symbolic dims must already be resolved).
        mean: per-channel mean on the [0, 1] scale.
        std: per-channel std on the [0, 1] scale.
        precision: fp32, fp16 or int8.
        onnx_name: the artifact's file name, relative to the export folder.

    Raises:
        BadInputError: the input or file name cannot be written into a script (see :func:`unsafe_text`).
    """
    check_text("input name", input_name)
    check_text("file name", onnx_name)
    batch, channels, height, width = (int(d) for d in input_shape)
    context = {
        "onnx": FreeText(onnx_name), "stem": FreeText(onnx_name.removesuffix(".onnx")), "precision": precision,
        "input_name": FreeText(input_name), "batch": str(batch), "channels": str(channels), "height": str(height),
        "width": str(width), "input_shape_x": "x".join(str(d) for d in (batch, channels, height, width)),
        "input_shape_csv": f"{batch},{channels},{height},{width}", "input_chw_csv": f"{channels},{height},{width}",
        "mean": _csv(mean), "std": _csv(std), "mean_255": _csv(mean, 255.0), "std_255": _csv(std, 255.0),
        "norm_255": ",".join(f"{1.0 / (s * 255.0):.{_DIGITS}g}" for s in std),
        "mean_nested": f"[[[[{_csv(mean)}]]]]", "std_nested": f"[[[[{_csv(std)}]]]]",
        **CALIBRATION_PATHS,
    }  # fmt: skip
    assert set(context) == CONTEXT_PLACEHOLDERS, "keep CONTEXT_PLACEHOLDERS in step with handoff_context"
    assert set(context) >= FREE_TEXT_PLACEHOLDERS, "free-text placeholders are context placeholders"
    return context


def _format(template: str, values: Mapping[str, str], spec: TargetSpec) -> str:
    try:
        return _fill(template, values)
    except (KeyError, IndexError, ValueError) as exc:  # schema validation makes this unreachable for bundled files
        raise BadInputError(f"target {spec.id}: cannot render hand-off template {template[:60]!r}: {exc}") from exc


def _fill(template: str, values: Mapping[str, str]) -> str:
    """``str.format`` by field, where an empty value also takes the space before it (an absent flag)."""
    pieces: list[str] = []
    for literal, field, spec, conversion in string.Formatter().parse(template):
        pieces.append(literal)
        if field is None:
            continue
        if conversion or (spec and spec not in QUOTING_SPECS):
            raise ValueError(f"placeholder {{{field}}} takes no conversion and only the specs {sorted(QUOTING_SPECS)}")
        value = format(values[field], spec or "")
        if not value and pieces[-1].endswith(" "):
            pieces[-1] = pieces[-1][:-1]
        pieces.append(value)
    return "".join(pieces)


def render_handoff(
    spec: TargetSpec,
    precision: str,
    context: dict[str, str],
    overrides: dict[str, str] | None = None,
) -> RenderedHandoff:
    """Render the target's commands for ``precision``.

    Args:
        spec: the target.
        precision: one of ``spec.precisions``.
        context: from :func:`handoff_context`.
        overrides: values for the target's ``handoff.parameters`` (e.g. ``target_platform=rk3568``).

    Raises:
        BadInputError: unsupported precision, an override naming no parameter of this target, or a
            value that cannot be written into a script.
    """
    if precision not in spec.precisions:
        raise BadInputError(f"target {spec.id} accepts {', '.join(spec.precisions)}; not {precision}")
    overrides = overrides or {}
    check_overrides(spec, overrides)
    parameters = {**spec.handoff.parameters, **overrides}
    base = {**context, **{k: FreeText(v) for k, v in parameters.items()}}
    per_precision = {k: _format(v, base, spec) for k, v in spec.handoff.per_precision.get(precision, {}).items()}  # type: ignore[call-overload]
    values = {**base, **per_precision}
    commands = [_format(c, values, spec).strip() for c in spec.handoff.commands]
    # ``produces`` is a description (a comment line of the script), so it shows values as they are.
    plain = {k: str(v) for k, v in values.items()}
    return RenderedHandoff(
        target=spec.id, precision=precision, tool=spec.handoff.tool, install=spec.toolchain.install,
        commands=[c for c in commands if c], produces=_format(spec.handoff.produces, plain, spec),
        docs_url=spec.handoff.docs_url, parameters=parameters,
    )  # fmt: skip
