"""Load and validate device profiles: bundled ``profiles/*.yaml`` plus ``$EDGEKIT_HOME/profiles``."""

from __future__ import annotations

import json
from pathlib import Path

from edgekit._datafile import load_data_file
from edgekit._registry import filter_names, require_known
from edgekit.errors import BadInputError
from edgekit.paths import bundled_data_dir, edgekit_home
from edgekit.profiles._schema import DeviceProfile

SCHEMA_FILE = "schema.json"
_cache: dict[tuple[str, ...], dict[str, DeviceProfile]] = {}


def profile_dirs() -> list[Path]:
    """Folders searched, bundled first; the user folder is optional."""
    return [bundled_data_dir("profiles"), edgekit_home() / "profiles"]


def load_profile_file(path: Path) -> DeviceProfile:
    """Parse and validate one profile file.

    Raises:
        BadInputError: unreadable YAML, a schema violation (first one named), or an id/file-name mismatch.
    """
    return load_data_file(path, DeviceProfile, "profile")


def load_profiles() -> dict[str, DeviceProfile]:
    """Every profile by id (cached per set of files).

    Raises:
        BadInputError: a file is invalid, or two files declare the same id.
    """
    files = sorted(p for d in profile_dirs() if d.is_dir() for p in d.glob("*.yaml"))
    key = tuple(f"{p}:{p.stat().st_mtime_ns}" for p in files)
    if key not in _cache:
        profiles: dict[str, DeviceProfile] = {}
        origin: dict[str, Path] = {}
        for path in files:
            profile = load_profile_file(path)
            if profile.id in profiles:
                raise BadInputError(f"duplicate profile id {profile.id!r}: {origin[profile.id]} and {path}")
            profiles[profile.id], origin[profile.id] = profile, path
        _cache.clear()
        _cache[key] = profiles
    return _cache[key]


def list_profiles(pattern: str | None = None) -> list[str]:
    """Profile ids, optionally filtered by an fnmatch pattern."""
    return filter_names(load_profiles(), pattern)


def get_profile(profile_id: str) -> DeviceProfile:
    """The profile with that id.

    Raises:
        UnknownNameError: no such profile (lists close matches).
    """
    profiles = load_profiles()
    return profiles[require_known(profile_id, profiles, "profile")]


def profile_json_schema() -> dict:
    """The JSON Schema of a profile file, for editors and ``profiles/schema.json``."""
    schema = DeviceProfile.model_json_schema()
    schema["$id"] = "https://github.com/edgekit/edgekit/profiles/schema.json"
    schema["title"] = "edgekit device profile"
    return schema


def write_json_schema(path: Path | None = None) -> Path:
    """Regenerate ``profiles/schema.json`` from the pydantic model."""
    target = path or bundled_data_dir("profiles") / SCHEMA_FILE
    target.write_text(json.dumps(profile_json_schema(), indent=2, sort_keys=True) + "\n")
    return target
