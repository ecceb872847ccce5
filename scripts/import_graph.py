"""Static import picture of workpro_plugin: every import, module-level or inside a function.

    python scripts/import_graph.py            # summary: modules, edges, cycles, function-level imports
    python scripts/import_graph.py --verbose  # plus every function-level import and every cycle

Used by tests/unit/test_import_graph.py (no cycle, few function-level imports) and for the
numbers in architecture notes. Reads source files only; imports nothing of WorkPro.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "workpro_plugin"
SKIP_PARTS = {"migrations", "__pycache__"}


@dataclass
class Graph:
    modules: set[str] = field(default_factory=set)
    edges: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # (importer, imported, line, enclosing function)
    function_imports: list[tuple[str, str, int, str]] = field(default_factory=list)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    if node.level > 1:
        base = base[: -(node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _owning(modules: set[str], name: str) -> str | None:
    """The longest known module that `name` is or lies in."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def build(root: Path = ROOT) -> Graph:
    graph = Graph()
    files = [
        p
        for p in (root / PACKAGE).rglob("*.py")
        if not SKIP_PARTS.intersection(p.relative_to(root).parts)
    ]
    trees = {}
    for path in files:
        name = module_name(path)
        graph.modules.add(name)
        trees[name] = (path.name == "__init__.py", ast.parse(path.read_text(), str(path)))

    for importer, (is_package, tree) in trees.items():
        for func, node in _walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(importer, is_package, node)
                # `from pkg import submodule` imports the submodule; otherwise the module.
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in graph.modules else base for a in node.names]
            for target in targets:
                owner = _owning(graph.modules, target)
                if owner is None:
                    if func and target.split(".")[0] == PACKAGE:
                        pass
                    if func:
                        graph.function_imports.append((importer, target, node.lineno, func))
                    continue
                if owner != importer:
                    graph.edges[importer].add(owner)
                if func:
                    graph.function_imports.append((importer, owner, node.lineno, func))
    return graph


def _walk(tree: ast.AST):
    """Yield (enclosing function name or '', import node), skipping TYPE_CHECKING blocks."""
    stack: list[tuple[ast.AST, str]] = [(tree, "")]
    while stack:
        node, func = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield func, child
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                stack.append((child, f"{func}.{child.name}" if func else child.name))
            else:
                stack.append((child, func))


def _is_type_checking(test: ast.AST) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def cycles(graph: Graph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    result: list[list[str]] = []
    counter = [0]

    sys.setrecursionlimit(10000)

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for v in sorted(graph.modules):
        if v not in index:
            visit(v)
    return result


def own_function_imports(graph: Graph) -> list[tuple[str, str, int, str]]:
    return [fi for fi in graph.function_imports if fi[1].split(".")[0] == PACKAGE]


def main(argv: list[str]) -> int:
    graph = build()
    found = cycles(graph)
    top_level = sorted(m for m in graph.modules if m.count(".") == 1)
    per_folder: dict[str, int] = defaultdict(int)
    for m in graph.modules:
        parts = m.split(".")
        per_folder[".".join(parts[:2]) if len(parts) > 2 else PACKAGE] += 1
    print(f"modules: {len(graph.modules)}")
    print(f"modules directly in {PACKAGE}/: {len(top_level)}")
    print(f"import edges between WorkPro modules: {sum(len(v) for v in graph.edges.values())}")
    print(f"cycles (strongly connected groups): {len(found)}; largest: {max((len(c) for c in found), default=0)}")
    print(f"imports inside functions: {len(graph.function_imports)} "
          f"(of WorkPro modules: {len(own_function_imports(graph))})")
    print("modules per folder: " + ", ".join(f"{k.split('.')[-1]} {v}" for k, v in sorted(per_folder.items())))
    if "--verbose" in argv:
        print("\ntop-level modules:", ", ".join(m.split(".")[-1] for m in top_level))
        print("\nimports inside functions:")
        for importer, target, line, func in sorted(graph.function_imports):
            print(f"  {importer}:{line} in {func}() -> {target}")
        for c in found:
            print(f"\ncycle of {len(c)}:\n  " + "\n  ".join(c))
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
