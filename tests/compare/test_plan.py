"""`bench` arguments into specs: batch lists."""

from __future__ import annotations

import pytest

from edgekit.compare.plan import parse_batches
from edgekit.errors import BadInputError


@pytest.mark.parametrize(("text", "expected"), [("1", [1]), ("8,1", [1, 8]), (" 1, 4 ,4", [1, 4])])
def test_parse_batches(text: str, expected: list[int]) -> None:
    assert parse_batches(text) == expected


@pytest.mark.parametrize("text", ["0", "1,0", "-2", "x", "", "1.5"])
def test_parse_batches_rejects(text: str) -> None:
    with pytest.raises(BadInputError, match="--batch takes positive integers"):
        parse_batches(text)
