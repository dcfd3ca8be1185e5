"""The board runner bundle: :mod:`edgekit.devices._board_main` and the protocol modules it imports, in one zip.

The modules are found by following the entry module's ``edgekit`` imports (module level) and are
copied verbatim at their own package paths, under empty package ``__init__`` files, so on the board
``from edgekit.bench._loop import timed_samples`` loads the very loop local ``bench`` uses — and
nothing else of edgekit. The zip is byte-for-byte reproducible (fixed timestamps, sorted entries):
its sha256 names it in the board's cache, so a changed runner is shipped again and an unchanged one
is not.
"""

from __future__ import annotations

import ast
import hashlib
import io
import zipfile
from functools import lru_cache
from pathlib import Path

ENTRY = "edgekit.devices._board_main"
MIN_PYTHON = (3, 9)
_PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # .../edgekit
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip entry can carry: reproducible bytes
# Written for any Python (2.7 included) so that an old board Python gets this line, not a SyntaxError.
_TOO_OLD = f"the edgekit board runner needs Python >= {MIN_PYTHON[0]}.{MIN_PYTHON[1]}; this is %d.%d\\n"
_MAIN = f"""import sys
if sys.version_info < {MIN_PYTHON!r}:
    sys.stderr.write("{_TOO_OLD}" % sys.version_info[:2])
    sys.exit(9)
from {ENTRY} import main
main(sys.argv)
"""


def module_path(module: str) -> Path:
    """The source file of an ``edgekit.*`` module."""
    return _PACKAGE_ROOT.parent.joinpath(*module.split(".")).with_suffix(".py")


def edgekit_imports(path: Path) -> list[str]:
    """The ``edgekit.*`` modules a file imports at module level, guarded ones too (what running it needs)."""
    found = []
    top = ast.parse(path.read_text()).body
    for node in top + [n for t in top if isinstance(t, ast.Try) for n in t.body]:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "edgekit":
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "edgekit"]
    return found


def bundled_modules() -> list[str]:
    """The entry module and every edgekit module it needs, transitively, sorted."""
    seen, todo = set(), [ENTRY]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo += edgekit_imports(module_path(module))
    return sorted(seen)


def _packages(modules: list[str]) -> list[str]:
    return sorted({".".join(m.split(".")[:i]) for m in modules for i in range(1, m.count(".") + 1)})


@lru_cache(maxsize=1)
def runner_bundle() -> bytes:
    """The zip (``python3 runner.pyz ...`` runs it)."""
    modules = bundled_modules()
    files = {f"{m.replace('.', '/')}.py": module_path(m).read_bytes() for m in modules}
    files |= {f"{p.replace('.', '/')}/__init__.py": b"" for p in _packages(modules)}
    files["__main__.py"] = _MAIN.encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    return buffer.getvalue()


def runner_sha256() -> str:
    """The bundle's digest."""
    return hashlib.sha256(runner_bundle()).hexdigest()
