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

# DESIGN.md's layers, top (0) to bottom, by the module path below workpro_plugin. FLAT names the
# modules of the flat package before #16, so the same script draws the "before" picture.
# `allocation` (pure, standard library only) is the bottom: it may import no WorkPro module at all.
LAYERS = ["wiring", "faces", "shared", "services", "selectors", "access", "models", "blocks", "lib", "conf",
          "allocation"]
PREFIXES = {
    "wiring": ("urls", "wagtail_hooks", "apps", "tasks", "signals", "middleware", "checks", "templatetags",
               "management", "backends"),
    "faces": ("portal", "backoffice"),
    "shared": ("shared",),
    "services": ("services",),
    "selectors": ("selectors", "sms"),
    "access": ("access",),
    "models": ("models",),
    "blocks": ("blocks",),
    "lib": ("lib",),
    "conf": ("conf",),
    "allocation": ("allocation",),
}
FLAT = {  # module -> (layer, face)
    **{m: ("faces", "backoffice") for m in ("admin_addons", "admin_apps", "admin_canned", "admin_export", "admin_fees",
                                           "admin_forms", "admin_helpers", "admin_views", "admin_views_chat",
                                           "views_2fa")},
    **{m: ("faces", "portal") for m in ("views", "views_addons", "views_apps", "views_chat", "views_enrollment",
                                       "views_minors", "views_privacy", "forms", "forms_addons", "forms_chat",
                                       "section_forms")},
    **{m: ("selectors", None) for m in ("selectors", "selectors_chat")},
    **{m: ("lib", None) for m in ("fees", "form_fields", "help_text", "messages", "phones")},
    **{m: ("wiring", None) for m in ("security", "sms_login")},
}


def placement(module: str) -> tuple[int, str | None] | None:
    """(layer index, face) of a module, or None when no layer claims it (the package itself)."""
    rest = module.split(".", 1)[1] if "." in module else ""
    if rest in FLAT:
        layer, face = FLAT[rest]
        return LAYERS.index(layer), face
    head = rest.split(".")[0]
    for layer, prefixes in PREFIXES.items():
        if head in prefixes:
            return LAYERS.index(layer), head if layer == "faces" else None
    return None


def upward_edges(graph: "Graph") -> list[tuple[str, str]]:
    """Imports from a lower layer into a higher one (or between the two faces)."""
    found = []
    for importer, targets in graph.edges.items():
        for target in targets:
            a, b = placement(importer), placement(target)
            if a is None or b is None:
                continue
            if b[0] < a[0] or (a[1] and b[1] and a[1] != b[1]):
                found.append((importer, target))
    return sorted(found)


@dataclass
class Graph:
    modules: set[str] = field(default_factory=set)
    edges: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # (importer, imported, line, enclosing function), one per imported module
    function_imports: list[tuple[str, str, int, str]] = field(default_factory=list)
    # (importer, line, enclosing function, statement text), one per import statement
    function_statements: list[tuple[str, int, str, str]] = field(default_factory=list)


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
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
        name = module_name(path, root)
        graph.modules.add(name)
        trees[name] = (path.name == "__init__.py", ast.parse(path.read_text(), str(path)))

    for importer, (is_package, tree) in trees.items():
        for func, node in _walk(tree):
            if func:
                graph.function_statements.append((importer, node.lineno, func, ast.unparse(node)))
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
    top_level = sorted(p.stem for p in (ROOT / PACKAGE).glob("*.py"))
    per_folder: dict[str, int] = defaultdict(int)
    for m in graph.modules:
        parts = m.split(".")
        per_folder[".".join(parts[:2]) if len(parts) > 2 else PACKAGE] += 1
    print(f"modules: {len(graph.modules)}")
    print(f"modules (.py files) directly in {PACKAGE}/: {len(top_level)}")
    print(f"import edges between WorkPro modules: {sum(len(v) for v in graph.edges.values())}")
    print(f"upward imports (against DESIGN.md's layers, all imports): {len(upward_edges(graph))}")
    print(f"cycles (strongly connected groups): {len(found)}; largest: {max((len(c) for c in found), default=0)}")
    print(f"import statements inside functions: {len(graph.function_statements)} "
          f"(naming WorkPro modules: {len({(i, n) for i, _t, n, _f in own_function_imports(graph)})})")
    print("modules per folder: " + ", ".join(f"{k.split('.')[-1]} {v}" for k, v in sorted(per_folder.items())))
    if "--verbose" in argv:
        print("\ntop-level modules:", ", ".join(top_level))
        print("\nimport statements inside functions:")
        for importer, line, func, text in sorted(graph.function_statements):
            print(f"  {importer}:{line} in {func}(): {text}")
        for importer, target in upward_edges(graph):
            print(f"  upward: {importer} -> {target}")
        for c in found:
            print(f"\ncycle of {len(c)}:\n  " + "\n  ".join(c))
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
