"""Put on PYTHONPATH to make `import ray` fail as if Ray were not installed (tests of the missing extra)."""

import sys
from importlib.abc import MetaPathFinder


class _NoRay(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):  # noqa: ANN001, ANN201 (the import system's signature)
        if name == "ray" or name.startswith("ray."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return


sys.meta_path.insert(0, _NoRay())
