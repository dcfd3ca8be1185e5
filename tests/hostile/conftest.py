"""Fixtures shared by the hostile-input tests."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def private_tmp(tmp_path: Path) -> Iterator[Path]:
    """Route every ``tempfile`` folder of the run to a fresh one, to see what it leaves."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    previous, tempfile.tempdir = tempfile.tempdir, str(folder)
    yield folder
    tempfile.tempdir = previous
