"""Load and validate device profiles: bundled ``profiles/*.yaml`` plus ``$EDGEKIT_HOME/profiles``."""

from __future__ import annotations

from pathlib import Path

from edgekit._datafile import SCHEMA_FILE, DataFolder
from edgekit.profiles._schema import DeviceProfile

PROFILES = DataFolder("profile", DeviceProfile, {"$id": "https://github.com/edgekit/edgekit/profiles/schema.json",
                                                 "title": "edgekit device profile"})  # fmt: skip
__all__ = ["PROFILES", "SCHEMA_FILE", "get_profile", "list_profiles", "load_profile_file", "load_profiles",
           "profile_dirs", "profile_json_schema", "write_json_schema"]  # fmt: skip


def profile_dirs() -> list[Path]:
    """Folders searched: the bundled one, then ``$EDGEKIT_HOME/profiles`` if it exists."""
    return PROFILES.folders()


def load_profile_file(path: Path) -> DeviceProfile:
    """Parse and validate one profile file.

    Raises:
        BadInputError: unreadable YAML, a schema violation (first one named), or an id/file-name mismatch.
    """
    return PROFILES.load_file(path)


def load_profiles() -> dict[str, DeviceProfile]:
    """Every profile by id (cached until a file changes).

    Raises:
        BadInputError: a file is invalid, or two files declare the same id.
    """
    return PROFILES.load()


def list_profiles(pattern: str | None = None) -> list[str]:
    """Profile ids, optionally filtered by an fnmatch pattern."""
    return PROFILES.names(pattern)


def get_profile(profile_id: str) -> DeviceProfile:
    """The profile with that id.

    Raises:
        UnknownNameError: no such profile (lists close matches).
    """
    return PROFILES.get(profile_id)


def profile_json_schema() -> dict:
    """The JSON Schema of a profile file, for editors and ``profiles/schema.json``."""
    return PROFILES.json_schema()


def write_json_schema(path: Path | None = None) -> Path:
    """Regenerate ``profiles/schema.json`` from the pydantic model (atomically)."""
    return PROFILES.write_schema(path)
