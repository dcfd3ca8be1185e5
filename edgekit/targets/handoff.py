"""Render a target's hand-off commands (trtexec, rknn-toolkit2, onnx2tf, pnnx, ...) for one artifact.

Templates in ``targets/<id>.yaml`` use ``str.format`` placeholders; :func:`handoff_context`
fills the ones every template may use from the artifact's input spec and preprocessing, and
:func:`render_handoff` adds the target's parameters and per-precision values. Commands are
meant to be run from the export folder, so every path in them is relative to it.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from edgekit.errors import BadInputError
from edgekit.targets._schema import CONTEXT_PLACEHOLDERS, TargetSpec
from edgekit.targets.calibration import CALIBRATION_PATHS

ARTIFACT_STEM = "model"
ARTIFACT_ONNX = f"{ARTIFACT_STEM}.onnx"
HANDOFF_SCRIPT = "handoff.sh"
_DIGITS = 6  # significant digits of mean/std figures in commands


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
    """
    batch, channels, height, width = (int(d) for d in input_shape)
    context = {
        "onnx": onnx_name, "stem": onnx_name.removesuffix(".onnx"), "precision": precision,
        "input_name": input_name, "batch": str(batch), "channels": str(channels), "height": str(height),
        "width": str(width), "input_shape_x": "x".join(str(d) for d in (batch, channels, height, width)),
        "input_shape_csv": f"{batch},{channels},{height},{width}", "input_chw_csv": f"{channels},{height},{width}",
        "mean": _csv(mean), "std": _csv(std), "mean_255": _csv(mean, 255.0), "std_255": _csv(std, 255.0),
        "norm_255": ",".join(f"{1.0 / (s * 255.0):.{_DIGITS}g}" for s in std),
        "mean_nested": f"[[[[{_csv(mean)}]]]]", "std_nested": f"[[[[{_csv(std)}]]]]",
        **CALIBRATION_PATHS,
    }  # fmt: skip
    assert set(context) == CONTEXT_PLACEHOLDERS, "keep CONTEXT_PLACEHOLDERS in step with handoff_context"
    return context


def _format(template: str, values: dict[str, str], spec: TargetSpec) -> str:
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError) as exc:  # schema validation makes this unreachable for bundled files
        raise BadInputError(f"target {spec.id}: cannot render hand-off template {template[:60]!r}: {exc}") from exc


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
        BadInputError: unsupported precision or an override naming no parameter of this target.
    """
    if precision not in spec.precisions:
        raise BadInputError(f"target {spec.id} accepts {', '.join(spec.precisions)}; not {precision}")
    overrides = overrides or {}
    unknown = sorted(set(overrides) - set(spec.handoff.parameters))
    if unknown:
        known = ", ".join(sorted(spec.handoff.parameters)) or "none"
        raise BadInputError(f"target {spec.id} has no hand-off parameter {', '.join(unknown)} (parameters: {known})")
    parameters = {**spec.handoff.parameters, **overrides}
    base = {**context, **parameters}
    per_precision = {k: _format(v, base, spec) for k, v in spec.handoff.per_precision.get(precision, {}).items()}  # type: ignore[call-overload]
    values = {**base, **per_precision}
    commands = [_squeeze_spaces(_format(c, values, spec)).strip() for c in spec.handoff.commands]
    return RenderedHandoff(
        target=spec.id, precision=precision, tool=spec.handoff.tool, install=spec.toolchain.install,
        commands=[c for c in commands if c], produces=_format(spec.handoff.produces, values, spec),
        docs_url=spec.handoff.docs_url, parameters=parameters,
    )  # fmt: skip


def _squeeze_spaces(command: str) -> str:
    """Collapse the double spaces an empty flag leaves, line by line (heredoc bodies keep their indent)."""
    return "\n".join(_collapse(line) for line in command.splitlines())


def _collapse(line: str) -> str:
    indent = len(line) - len(line.lstrip(" "))
    return " " * indent + " ".join(line.split())
