"""Static import facts of the edgekit package, computed from the AST (no edgekit module is imported).

`import_facts` lists the imports of edgekit's own modules made inside a function body and the graph
of every import between edgekit modules (module level, function level and `if TYPE_CHECKING:`);
`import_cycles` finds the cycles in that graph.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "edgekit"


def module_files(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file under root/edgekit."""
    out = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _targets(module: str, is_package: bool, node: ast.AST, modules: set[str]) -> list[str]:
    """The edgekit modules one import statement loads (closest known module for each name)."""
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = _resolve(module, is_package, node)
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
    found = []
    for name in names:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name and name.split(".")[0] == PACKAGE:
            found.append(name)
    return found


def _walk(tree: ast.AST):
    """(import node, inside a function?) for every import statement in the tree."""
    stack = [(tree, False)]
    while stack:
        node, in_function = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child, in_function
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            stack.append((child, nested))


def import_facts(root: Path) -> tuple[list[tuple[str, int, str]], dict[str, set[str]]]:
    """(function-level imports as (module, line, target), graph of every import between modules)."""
    files = module_files(root)
    modules = set(files)
    lazy: list[tuple[str, int, str]] = []
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        tree = ast.parse(path.read_text(), str(path))
        is_package = path.name == "__init__.py"
        for node, in_function in _walk(tree):
            for target in _targets(name, is_package, node, modules):
                if in_function:
                    lazy.append((name, node.lineno, target))
                if target != name:
                    graph[name].add(target)
    return lazy, graph


def _parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), ignoring a package's own
    __init__ importing its submodules and a submodule importing its parent package (Python loads
    parents first, so those edges are not cycles between peers)."""
    edges = {m: {t for t in ts if t not in _parents(m) and m not in _parents(t)} for m, ts in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found
