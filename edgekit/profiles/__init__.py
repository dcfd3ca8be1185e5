"""Device profiles: ``profiles/<id>.yaml`` validated by a schema, every number with its source."""

from edgekit.profiles._load import (
    get_profile,
    list_profiles,
    load_profile_file,
    load_profiles,
    profile_dirs,
    profile_json_schema,
    write_json_schema,
)
from edgekit.profiles._schema import (
    SCHEMA_VERSION,
    Accelerator,
    CoreSelection,
    Cpu,
    CpuCluster,
    DeviceProfile,
    Memory,
    PowerMode,
    Sourced,
)
from edgekit.vocab import PRECISIONS, Precision

__all__ = [
    "PRECISIONS",
    "SCHEMA_VERSION",
    "Accelerator",
    "CoreSelection",
    "Cpu",
    "CpuCluster",
    "DeviceProfile",
    "Memory",
    "PowerMode",
    "Precision",
    "Sourced",
    "get_profile",
    "list_profiles",
    "load_profile_file",
    "load_profiles",
    "profile_dirs",
    "profile_json_schema",
    "write_json_schema",
]
