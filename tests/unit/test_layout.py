"""The plugin's layout (#16): what settings and migrations name keeps working after moves."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

PLUGIN = Path(__file__).resolve().parents[2] / "workpro_plugin"


def _dotted_paths(value):
    if type(value) is str:  # noqa: E721 (lazy objects pose as str)
        if re.fullmatch(r"workpro_plugin(\.\w+)+", value):
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _dotted_paths(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _dotted_paths(item)


def test_every_dotted_path_in_the_settings_resolves():
    paths = {path for name in dir(settings) if name.isupper() for path in _dotted_paths(getattr(settings, name))}
    assert len(paths) >= 8  # middleware, backends, axes callables, SMS backend ...
    for path in sorted(paths):
        import_string(path)


def test_the_old_axes_paths_of_hosts_keep_working():
    from workpro_plugin.portal.views import accounts

    assert import_string("workpro_plugin.portal.views.accounts.lockout") is accounts.lockout
    assert import_string("workpro_plugin.portal.views.accounts.axes_username") is accounts.axes_username


def test_every_dotted_path_in_a_migration_resolves():
    pattern = re.compile(r"[\"'](workpro_plugin(?:\.\w+){2,})[\"']")  # not app.model labels
    found = set()
    for migration in (PLUGIN / "migrations").glob("0*.py"):
        found.update(pattern.findall(migration.read_text(encoding="utf-8")))
    assert found  # the schedules' task functions, at least
    for path in sorted(found):
        try:
            import_string(path)
        except ImportError:
            __import__(path)  # a module path (e.g. a django-q2 schedule's function module)
