"""Constants every part of the fuzzer shares."""

from __future__ import annotations

import tempfile
from pathlib import Path

CLI_EXIT_CODES = frozenset({0, 1, 2})  # success, nothing fits / verification failed, bad input
TRACEBACK_MARK = "Traceback (most recent call last)"
# A YAML tag that would create this file if a loader ever constructed Python objects; it must never appear.
SENTINEL = Path(tempfile.gettempdir()) / "edgekit-fuzz-yaml-tag-ran"
USER_ID_PREFIX = "fuzz-"  # user-folder copies get this id prefix so they never collide with bundled ids
