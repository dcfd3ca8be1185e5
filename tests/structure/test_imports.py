"""Guards on the shape of the package, computed from the AST: few hidden imports, no import cycles,
one registry implementation, and runtimes named only by their own modules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.structure._imports import import_cycles, import_facts, module_files

ROOT = Path(__file__).resolve().parents[2]
# Function-level imports of edgekit's own modules hide dependencies from readers and tools; the
# few left keep a heavy module off the start-up path (e.g. recommend --export's target export).
MAX_FUNCTION_LEVEL_IMPORTS = 25
BUILT_IN_RUNTIMES = ("onnxruntime", "openvino", "ncnn", "torch")


def test_function_level_imports_of_edgekit_modules_stay_few() -> None:
    lazy, _ = import_facts(ROOT)
    where = [f"{module}:{line} -> {target}" for module, line, target in lazy]
    assert len(lazy) <= MAX_FUNCTION_LEVEL_IMPORTS, "\n".join(where)


def test_no_import_cycles_among_edgekit_modules() -> None:
    # Every import counts: module level, inside functions and under `if TYPE_CHECKING:`.
    _, graph = import_facts(ROOT)
    assert import_cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"edgekit.a": {"edgekit.b"}, "edgekit.b": {"edgekit.c"}, "edgekit.c": {"edgekit.a"}, "edgekit.d": set()}
    assert import_cycles(graph) == [["edgekit.a", "edgekit.b", "edgekit.c"]]


def test_one_registry_implementation() -> None:
    # Registries are instances of edgekit._registry.Registry; no module keeps its own name->item dict
    # with its own duplicate check or "did you mean" lookup.
    offenders = []
    for name, path in module_files(ROOT).items():
        text = path.read_text()
        if name != "edgekit._registry" and ("get_close_matches" in text or "fnmatch.fnmatch" in text):
            offenders.append(name)
    assert offenders == []


def test_runtime_names_appear_only_in_their_runtime_modules() -> None:
    # Adding a runtime is its module (plus its target files); no map elsewhere lists runtimes by hand.
    allowed = {f"edgekit.runtimes.{r}" for r in BUILT_IN_RUNTIMES} | {"edgekit.runtimes._spec"}
    hits = []
    for name, path in module_files(ROOT).items():
        if name in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Dict) and _runtime_keys(node) >= 2:
                hits.append(f"{name}:{node.lineno}")
    assert hits == []


def _runtime_keys(node: ast.Dict) -> int:
    keys = [k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
    return sum(any(key == r or key.startswith(f"{r}-") for r in ("openvino", "ncnn", "onnxruntime")) for key in keys)


def test_only_the_fleet_imports_ray_and_only_through_one_module() -> None:
    # Ray is the [fleet] extra: one door (edgekit.fleet._ray.import_ray), so a missing extra fails in one line.
    importers = []
    for name, path in module_files(ROOT).items():
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n == "ray" or n.startswith("ray.") for n in names):
                importers.append(name)
    assert importers == ["edgekit.fleet._ray"]


def test_recommend_and_the_fleet_package_never_import_ray() -> None:
    code = (
        "import sys; import edgekit.fleet; from edgekit.cli.main import app\n"
        "try:\n    app(['recommend', '--ram', '512MB', '--fps', '30'], standalone_mode=False)\n"
        "finally:\n    print('RAY', sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                         timeout=120)  # fmt: skip
    assert out.stdout.strip().splitlines()[-1] == "RAY []"
