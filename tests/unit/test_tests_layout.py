"""The layout of the tests (#16): folders mirror the plugin, shared code lives outside test modules.

- no `test_*.py` sits directly in tests/: each one is in the folder of what it tests
  (unit, services, selectors, portal, backoffice, security, reliability, browser);
- every folder with Python files is a package (tests.security.test_x, not a bare test_x);
- no module imports a test module, neither with an import statement (absolute or relative,
  also inside a function) nor by a dotted path in a string (an EMAIL_BACKEND setting):
  what is shared goes to tests/helpers.py, tests/factories/, a support module or a fixture;
- `HOST` (the test client's host) is assigned in tests/helpers.py only, and imported elsewhere.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
HELPERS = TESTS / "helpers.py"
FOLDERS = {"unit", "services", "selectors", "portal", "backoffice", "security", "reliability", "browser"}
DOTTED_TEST_MODULE = re.compile(r"tests(\.\w+)*\.test_\w+")


def _python_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)


def _module_name(path: Path) -> str:
    parts = path.relative_to(TESTS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_test_module(dotted: str) -> bool:
    return any(part.startswith("test_") for part in dotted.split("."))


def _imported_modules(tree: ast.AST, module: str, is_package: bool):
    """(line, dotted names) of the modules each import statement in `tree` may load."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield node.lineno, [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from tests.security import test_bad_input` loads a module too
            yield node.lineno, [base, *(f"{base}.{alias.name}" for alias in node.names)]


def offences(path: Path, source: str) -> list[str]:
    """What `source` (the text of `path`) does against the rules above."""
    tree = ast.parse(source, filename=str(path))
    module = _module_name(path)
    found = []
    for line, names in _imported_modules(tree, module, path.name == "__init__.py"):
        tested = [name for name in names if name != module and _is_test_module(name)]
        if tested:
            found.append(f"{path.name}:{line} imports the test module {tested[0]}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if DOTTED_TEST_MODULE.fullmatch(node.value.rsplit(".", 1)[0]) or DOTTED_TEST_MODULE.fullmatch(node.value):
                found.append(f"{path.name}:{node.lineno} names the test module in {node.value!r}")
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        if path != HELPERS and any(isinstance(t, ast.Name) and t.id == "HOST" for t in targets):
            found.append(f"{path.name}:{node.lineno} assigns HOST (import it from tests.helpers)")
    return found


def test_no_test_module_sits_directly_in_tests():
    loose = sorted(p.name for p in TESTS.glob("test_*.py"))
    assert not loose, f"move these into one of {sorted(FOLDERS)}: {loose}"


def test_the_folders_mirror_the_layers_and_are_packages():
    folders = {p.name for p in TESTS.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert FOLDERS <= folders, FOLDERS - folders
    missing = sorted(str(p.parent.relative_to(TESTS)) for p in _python_files()
                     if not (p.parent / "__init__.py").exists())
    assert not missing, f"folders without __init__.py: {missing}"


def test_no_module_imports_a_test_module_and_host_is_defined_once():
    found = [o for path in _python_files() for o in offences(path, path.read_text(encoding="utf-8"))]
    assert not found, "\n".join(found)
    assert "HOST = " in HELPERS.read_text(encoding="utf-8")


@pytest.mark.parametrize(("where", "source", "expected"), [
    ("security/test_a.py", "from tests.portal.test_accounts import login\n", "imports the test module"),
    ("security/test_a.py", "from .test_bad_input import FORMS\n", "imports the test module"),
    ("security/test_a.py", "from ..portal.test_accounts import login\n", "imports the test module"),
    ("security/test_a.py", "from tests.portal import test_accounts\n", "imports the test module"),
    ("security/test_a.py", "def f():\n    import tests.unit.test_fees\n", "imports the test module"),
    ("conftest.py", "from tests.security.test_bad_input import FORMS\n", "imports the test module"),
    ("services/test_a.py", 'BACKEND = "tests.services.test_b.Backend"\n', "names the test module"),
    ("portal/test_a.py", 'HOST = {"HTTP_HOST": "kita.test"}\n', "assigns HOST"),
    ("form_world.py", "def f():\n    HOST: dict = {}\n", "assigns HOST"),
    ("portal/test_a.py", "from tests.helpers import HOST\nfrom tests.factories import make_user\n", None),
    ("portal/test_a.py", 'BACKEND = f"{__name__}.Backend"\nfrom tests import form_world\n', None),
    ("helpers.py", 'HOST = {"HTTP_HOST": "kita.test"}\n', None),
], ids=["absolute", "relative", "relative-up", "from-package", "in-function", "from-conftest", "dotted-string",
        "host", "host-annotated", "helpers-and-factories", "own-name", "host-in-helpers"])
def test_the_rules_catch_what_they_name(where, source, expected):
    found = offences(TESTS / where, source)
    if expected is None:
        assert found == []
    else:
        assert len(found) == 1 and expected in found[0], found
