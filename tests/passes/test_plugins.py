"""Passes from plug-ins: entry points of the ``edgekit.passes`` group register passes; a broken one warns."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import EntryPoint

import pytest

from edgekit import _registry
from edgekit._registry import PluginWarning
from edgekit.passes import get_pass, list_passes
from edgekit.passes._base import PASSES


@pytest.fixture
def pass_entry_points(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[EntryPoint]]:
    """Entry points the registry sees for its group (real EntryPoint objects); the registry is restored."""
    points: list[EntryPoint] = []
    monkeypatch.setattr(_registry, "entry_points", lambda group: [p for p in points if p.group == group])
    before = dict(PASSES.entries)
    PASSES.rediscover()
    yield points
    PASSES.entries.clear()
    PASSES.entries.update(before)
    PASSES.rediscover()


def test_a_pass_plugs_in_through_an_entry_point(pass_entry_points: list[EntryPoint]) -> None:
    pass_entry_points.append(EntryPoint("identity", "tests.passes._plugin_pass", "edgekit.passes"))
    assert "plugin_identity" in list_passes("plugin_*")
    assert get_pass("plugin_identity").capabilities.output_kind == "onnx"


def test_a_broken_pass_plugin_warns_once_and_the_rest_still_works(pass_entry_points: list[EntryPoint]) -> None:
    pass_entry_points.append(EntryPoint("broken", "tests.passes._plugin_pass:NoSuchPass", "edgekit.passes"))
    with pytest.warns(PluginWarning, match=r"^plug-in 'broken' \(edgekit.passes = tests.passes._plugin_pass:NoSuchPass"
                      r"\) failed to load: AttributeError"):  # fmt: skip
        assert get_pass("simplify").name == "simplify"
