"""The one registry: duplicates refused, close names suggested, fnmatch listing, discovery once."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from edgekit import _registry
from edgekit._registry import PluginWarning, Registry, filter_names, require_known
from edgekit.errors import UnknownNameError


def test_register_refuses_another_item_under_a_taken_name() -> None:
    shapes: Registry[int] = Registry("shape")
    assert shapes.register("square", 4) == 4
    assert shapes.register("square", 4) == 4  # the same item again (a re-import) is harmless
    with pytest.raises(ValueError, match="duplicate shape name 'square': already registered under the name 'square'"):
        shapes.register("square", 5)
    assert shapes.get("square") == 4


def test_get_suggests_close_names_or_where_to_look() -> None:
    shapes: Registry[int] = Registry("shape")
    shapes.register("square", 4)
    shapes.register("triangle", 3)
    with pytest.raises(UnknownNameError, match=r"^unknown shape 'sqare'; did you mean square\?$"):
        shapes.get("sqare")
    with pytest.raises(UnknownNameError, match=r"^unknown shape 'hexagon'; see `edgekit shapes` for the list$"):
        shapes.get("hexagon")
    inline: Registry[int] = Registry("shape", listing="inline")
    inline.register("triangle", 3)
    inline.register("square", 4)
    with pytest.raises(UnknownNameError, match=r"^unknown shape 'hexagon'; known: square, triangle$"):
        inline.get("hexagon")


def test_names_filter_by_pattern() -> None:
    shapes: Registry[int] = Registry("shape")
    for name in ("square", "triangle", "star"):
        shapes.register(name, len(name))
    assert shapes.names() == ["square", "star", "triangle"]
    assert shapes.names("s*") == ["square", "star"]
    assert filter_names(["b", "a"], None) == ["a", "b"]
    assert require_known("a", ["a"], "letter") == "a"


def test_discovery_runs_once_before_the_first_lookup() -> None:
    calls = []
    shapes: Registry[int] = Registry("shape", discover=lambda: calls.append(shapes.register("circle", 0)))
    assert calls == []
    assert "circle" in shapes
    assert shapes.names() == ["circle"]
    assert calls == [0]
    shapes.names()
    assert calls == [0]  # once
    shapes.rediscover()
    shapes.names()
    assert calls == [0, 0]  # and again after rediscover (e.g. a plug-in was installed)


def test_entry_points_load_and_a_broken_one_is_one_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    points = [EntryPoint("fine", "tests.passes._plugin_pass", "edgekit.test"),
              EntryPoint("broken", "tests.no_such_module", "edgekit.test")]  # fmt: skip
    monkeypatch.setattr(_registry, "entry_points", lambda group: [p for p in points if p.group == group])
    with pytest.warns(PluginWarning) as caught:
        loaded = _registry.load_entry_points("edgekit.test")
    assert loaded == ["fine"]
    (warning,) = caught
    assert str(warning.message) == ("plug-in 'broken' (edgekit.test = tests.no_such_module) failed to load: "
                                    "ModuleNotFoundError: No module named 'tests.no_such_module'")  # fmt: skip
