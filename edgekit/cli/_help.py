"""What ``--help`` shows for a value: a name for what to type, never a Python type.

typer labels each option with its annotation (``<bool>``, ``<list[str]>``, ``<str>`` for a number typed as
text) and each argument with ``{name}``. :func:`tidy_help` replaces, for every command at once (new ones
included), what a command did not name itself: flags get no label, other options the option's name in
capitals (``--threads THREADS``), repeatable ones ``NAME,...`` (comma-separate or repeat), arguments
``NAME`` or ``NAME...``. An explicit ``metavar=`` in a command's declaration wins.
"""

from __future__ import annotations

from typing import Any

import typer


def _is_argument(param: Any) -> bool:
    return param.param_type_name == "argument"  # typer has its own click: no isinstance with click's classes


def _label(param: Any) -> str:
    desc = getattr(param, "type_descriptor", None)
    if desc is not None and desc.is_choice and desc.choices:
        return "|".join(str(getattr(c, "value", c)) for c in desc.choices)
    name = (param.name or "value").upper()
    if _is_argument(param):
        return f"{name}..." if param.nargs == -1 else name
    return f"{name},..." if getattr(param, "multiple", False) else name


def _tidy_argument(param: Any, declared: bool) -> None:
    """The name alone, in usage and panel: typer would write ``{name}`` in usage and ``<list[str]>`` beside it."""
    label = param.metavar or _label(param)
    param.metavar = label
    shown = label if declared or param.required else f"[{label}]"  # an own metavar is shown as declared
    param._usage_display_name = lambda: shown  # type: ignore[attr-defined] (typer's hooks, per instance)
    param.display_type_rich = lambda ctx: None  # type: ignore[attr-defined]


def tidy_help(command: Any) -> Any:
    """Give every parameter of ``command`` (and the help option) a readable metavar; returns ``command``."""
    params = list(command.params)
    with typer.Context(command, info_name=command.name) as ctx:
        help_option = command.get_help_option(ctx)  # cached on the command: the same object --help renders
    if help_option is not None:
        params.append(help_option)
    for param in params:
        if _is_argument(param):
            _tidy_argument(param, declared=param.metavar is not None)
        elif param.metavar is None:
            param.metavar = "" if getattr(param, "is_flag", False) else _label(param)
    return command
