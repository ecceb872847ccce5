"""Host independence (#17): the plugin's pages and models do not assume the demo's `home` app
nor freeze the host's settings into the plugin's migrations."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from wagtail.models import Page

from home.models import HomePage
from workpro_plugin.models import HelpPage, OfferIndexPage, Person

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def host_page(db):
    """A page of a type outside the demo's `home` app, as a bakerydemo or coderedcms homepage is."""
    root = Page.get_first_root_node()
    return root.add_child(instance=Page(title="Host home", slug="host-home"))


@pytest.fixture
def demo_home(db):
    root = Page.get_first_root_node()
    return root.add_child(instance=HomePage(title="Demo home", slug="demo-home"))


@pytest.mark.parametrize("page_type", [OfferIndexPage, HelpPage])
@override_settings()
def test_index_pages_may_live_under_any_page_type_by_default(page_type, host_page, settings):
    del settings.WORKPRO_INDEX_PARENT_PAGE_TYPES
    assert page_type.can_create_at(host_page)
    assert Page in page_type.allowed_parent_page_models()
    assert page_type.check() == []


@pytest.mark.parametrize("page_type", [OfferIndexPage, HelpPage])
def test_a_host_may_restrict_the_parent_page_types(page_type, host_page, demo_home, settings):
    settings.WORKPRO_INDEX_PARENT_PAGE_TYPES = ["home.HomePage"]
    assert not page_type.can_create_at(host_page)
    assert page_type.can_create_at(demo_home)
    assert page_type.allowed_parent_page_models() == [HomePage]


def test_a_wrong_parent_page_type_is_a_system_check_error(settings):
    settings.WORKPRO_INDEX_PARENT_PAGE_TYPES = ["nosuchapp.HomePage"]
    assert [e.id for e in OfferIndexPage.check()] == ["wagtailcore.E002"]


HOST_SETTINGS = """
from workpro_site.settings.test import *  # noqa: F401,F403
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("it", "Italiano"), ("pl", "Polski")]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
"""


def test_other_languages_of_the_host_need_no_migration(tmp_path):
    """The host's LANGUAGES are in force when the plugin's models are imported (as in a real
    host), so this runs `makemigrations --check` in a process of its own."""
    (tmp_path / "host_settings.py").write_text(HOST_SETTINGS, encoding="utf-8")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "host_settings",
           "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    env.pop("DATABASE_URL", None)
    run = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "makemigrations", "--check", "--dry-run", "workpro_plugin"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "No changes detected" in run.stdout


@override_settings(LANGUAGES=[("fr", "Français"), ("it", "Italiano")])
def test_person_language_offers_the_hosts_languages():
    field = Person._meta.get_field("language")
    assert [code for code, _ in field.choices] == ["fr", "it"]
    assert [code for code, _ in field.formfield().choices if code] == ["fr", "it"]


# --- No process-wide library state -------------------------------------------------------------

PLUGIN = ROOT / "workpro_plugin"
# Calls that change a library's behaviour for the whole process (the host's code included).
GLOBAL_CALLS = {
    ("socket", "setdefaulttimeout"), ("locale", "setlocale"), ("logging", "basicConfig"),
    ("logging", "disable"), ("logging", "captureWarnings"), ("warnings", "filterwarnings"),
    ("warnings", "simplefilter"), ("sys", "setrecursionlimit"), ("csv", "field_size_limit"),
    ("mimetypes", "add_type"), ("os", "putenv"), ("translation", "activate"),
}


def _imported_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def _global_state_offences(source: str, name: str) -> list[str]:
    """Assignments to attributes of imported modules or classes (`Image.MAX_IMAGE_PIXELS = ...`,
    `os.environ[...] = ...`) and process-wide calls outside `with warnings.catch_warnings()`."""
    tree = ast.parse(source)
    imported = _imported_names(tree)
    guarded = {id(inner) for node in ast.walk(tree) if isinstance(node, ast.With)
               and any("catch_warnings" in ast.unparse(item.context_expr) for item in node.items)
               for inner in ast.walk(node)}
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            base = target
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if target is not base and isinstance(base, ast.Name) and base.id in imported \
                    and ast.unparse(target) not in OWN_STATE:
                found.append(f"{name}:{node.lineno}: {ast.unparse(target)} = ...")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name) \
                and (node.func.value.id, node.func.attr) in GLOBAL_CALLS and id(node) not in guarded:
            found.append(f"{name}:{node.lineno}: {ast.unparse(node.func)}(...)")
    return found


# The plugin's own entries, not a library's: apps.py puts empty stand-ins for workpro_plugin.urls and
# .wagtail_hooks into sys.modules while required apps are missing (workpro.E020), so `check` can run.
# The qcluster command is its own process's entry point: like django_q's command it hands `--name` to
# the cluster through the environment, in that process only.
OWN_STATE = {"sys.modules[name]", "os.environ['Q_CLUSTER_NAME']"}


def test_the_scan_finds_process_wide_state():
    source = ("import socket\nfrom PIL import Image\nimport warnings\nimport os\n"
              "Image.MAX_IMAGE_PIXELS = None\nos.environ['X'] = '1'\n"
              "def f():\n    socket.setdefaulttimeout(3)\n    warnings.simplefilter('ignore')\n"
              "    with warnings.catch_warnings():\n        warnings.simplefilter('error')\n")
    assert len(_global_state_offences(source, "x.py")) == 4


def test_the_plugin_changes_no_process_wide_library_state():
    found = []
    for path in sorted(PLUGIN.rglob("*.py")):
        if "migrations" not in path.parts:
            found += _global_state_offences(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert found == []
