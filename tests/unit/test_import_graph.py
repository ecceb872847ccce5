"""The plugin's import picture stays as #16 left it: no cycle, nothing upward, few imports in functions.

import-linter (`lint-imports`) checks module-level imports against DESIGN.md's layers; this test reads
every import statement, also those inside functions, with scripts/import_graph.py.
"""

import ast
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Imports inside functions that stay: libraries too heavy to load with every process, and
# AppConfig.ready(). Anything else inside a function is a hidden cycle or a forgotten import.
ALLOWED_IN_FUNCTIONS = {
    ("workpro_plugin.apps", "ready"),
    ("workpro_plugin.services.documents", "render_pdf_locating"),  # WeasyPrint loads Pango and Cairo
    ("workpro_plugin.services.signatures", "_pades"),  # pyHanko and cryptography: only to sign or validate
    ("workpro_plugin.backoffice.views.two_factor", "_qr_data_uri"),  # qrcode, only on the 2FA setup page
}
MAX_IN_FUNCTIONS = 10
MAX_TOP_LEVEL_MODULES = 13  # 12 wiring and conf modules, and the pure allocation.py


def _script():
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_no_import_cycle_inside_the_plugin():
    script = _script()
    assert script.cycles(script.build()) == []


def test_no_import_goes_up_a_layer_or_across_faces():
    script = _script()
    assert script.upward_edges(script.build()) == []


def test_imports_inside_functions_are_only_the_allowed_ones():
    script = _script()
    statements = script.build().function_statements
    unexpected = [(module, line, func, text) for module, line, func, text in statements
                  if (module, func.split(".")[0]) not in ALLOWED_IN_FUNCTIONS]
    assert unexpected == []
    assert len(statements) <= MAX_IN_FUNCTIONS


def test_the_package_root_holds_only_wiring():
    modules = sorted(p.stem for p in (ROOT / "workpro_plugin").glob("*.py"))
    assert len(modules) <= MAX_TOP_LEVEL_MODULES, modules


def test_the_allocation_imports_only_the_standard_library():
    """allocation.py stays pure (DESIGN.md): no Django, no other library, no WorkPro module."""
    script = _script()
    assert script.build().edges.get("workpro_plugin.allocation", set()) == set()
    tree = ast.parse((ROOT / "workpro_plugin" / "allocation.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {"." if node.level else node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom)}
    assert imported and imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)


def test_the_checker_finds_a_cycle_and_an_upward_import(tmp_path):
    """The script itself can fail: a planted cycle and a model importing a service are found."""
    script = _script()
    package = tmp_path / "workpro_plugin"
    (package / "models").mkdir(parents=True)
    (package / "services").mkdir()
    for folder in (package, package / "models", package / "services"):
        (folder / "__init__.py").write_text("")
    (package / "models" / "a.py").write_text("def f():\n    from ..services import b\n")
    (package / "services" / "b.py").write_text("from ..models import a\n")
    graph = script.build(tmp_path)
    assert script.cycles(graph) == [["workpro_plugin.models.a", "workpro_plugin.services.b"]]
    assert ("workpro_plugin.models.a", "workpro_plugin.services.b") in script.upward_edges(graph)
    assert [(m, f) for m, _line, f, _text in graph.function_statements] == [("workpro_plugin.models.a", "f")]
