"""Modules that can be called: ``edgekit.recommend("512MB", fps=30)`` and ``from edgekit.recommend import X``.

The Python API's verbs are named like the modules that hold them (``recommend``, ``optimize``, ``bench``).
Python binds a submodule to its package's attribute once it is imported, so a plain function
``edgekit.recommend`` would be replaced by the module as soon as anything imports ``edgekit.recommend``.
Instead the module itself is callable: calling it calls the function it names (``"module:function"``,
looked up on the call, so a package can name a function in a module that imports the package).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any


class CallableModule(types.ModuleType):
    """A module whose call is its API function (see the module doc)."""

    __api__: str

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        module, _, function = self.__api__.partition(":")
        return getattr(importlib.import_module(module), function)(*args, **kwargs)


def callable_module(name: str, api: str) -> None:
    """Make the module ``name`` callable as ``api`` (``"edgekit.recommend:recommend_for"``)."""
    module = sys.modules[name]
    module.__class__ = CallableModule
    module.__api__ = api  # type: ignore[attr-defined]
