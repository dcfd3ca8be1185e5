"""Markers for tests that need a vendor package: declared in pyproject.toml, skipped with a reason when missing."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import TypeVar

import pytest

F = TypeVar("F", bound=Callable[..., object])
_HAS_OPENVINO = importlib.util.find_spec("openvino") is not None
_HAS_NCNN = importlib.util.find_spec("ncnn") is not None and importlib.util.find_spec("pnnx") is not None

# Lists for pytest.param(..., marks=...); the decorators below apply the same marks to a test.
openvino = [
    pytest.mark.vendor_openvino,
    pytest.mark.skipif(not _HAS_OPENVINO, reason="needs openvino (pip install edgekit[openvino])"),
]
ncnn = [
    pytest.mark.vendor_ncnn,
    pytest.mark.skipif(not _HAS_NCNN, reason="needs ncnn and pnnx (pip install edgekit[ncnn])"),
]


def requires_openvino(test: F) -> F:
    """Mark a test vendor_openvino and skip it without the openvino package."""
    for mark in openvino:
        test = mark(test)
    return test


def requires_ncnn(test: F) -> F:
    """Mark a test vendor_ncnn and skip it without the ncnn and pnnx packages."""
    for mark in ncnn:
        test = mark(test)
    return test
