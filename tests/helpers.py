"""Helpers shared by test modules (no test module imports another: tests/unit/test_tests_layout.py)."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Iterator, NamedTuple

import pytest
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver

# The test client's host: the institution "kita" of the `world` fixture and the form world.
HOST = {"HTTP_HOST": "kita.test"}
ISSUED_PASSWORD_RE = re.compile(r"\b([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})\b")


class Url(NamedTuple):
    name: str | None  # namespaced ("workpro:login"), or None for an unnamed pattern
    route: str        # the whole route, language prefix included
    pattern: URLPattern


def walk_urls(patterns=None, namespace=None, prefix="") -> Iterator[Url]:
    """Every URL pattern of the project (or below `patterns`), with its namespaced name and full route."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from walk_urls(pattern.url_patterns, inner, route)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield Url(name, route, pattern)


def needs_postgres(reason: str = "needs PostgreSQL row locks (set DATABASE_URL); SQLite serialises writers"):
    """Skip a parallel test on SQLite, where one writer at a time makes every race pass trivially."""
    if connection.vendor != "postgresql":
        pytest.skip(reason)


def require_redis(url: str = "redis://127.0.0.1:6379/5") -> None:
    """Skips a Redis test where no Redis runs (a developer's machine without it), but fails it in a run that
    was given REDIS_URL (CI's PostgreSQL + Redis run): there a missing Redis must not pass as a skip."""
    import os

    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        if os.environ.get("REDIS_URL"):
            pytest.fail(f"REDIS_URL is set but Redis does not answer at {url}: {error}")
        pytest.skip(f"no Redis at {url}")


def race(count: int, action, timeout: float = 120) -> list:
    """Run `action(i)` in `count` threads released together, each with its own connection;
    returns the results (or the exceptions raised)."""
    results, barrier = [None] * count, threading.Barrier(count)

    def run(i):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            results[i] = action(i)
        except Exception as exc:  # noqa: BLE001 - returned and asserted by the test
            results[i] = exc
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results


def totp(device) -> str:
    """The current code of a django-otp TOTP device, as the authenticator app shows it."""
    from django_otp.oath import totp as oath_totp

    return f"{oath_totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


# --- portal accounts (registration on an offer, the issued password, login) ----------------

def register_on_offer(client, kita, offer, run_on_commit, path_prefix="", **overrides):
    """Erika Muster registers on `offer` (the `run_on_commit` fixture delivers the welcome mail)."""
    data = {"last_name": "Muster", "first_name": "Erika", "email": "Erika.Muster@Example.org", "privacy": "on"}
    data.update(overrides)
    with run_on_commit():
        return client.post(path_prefix + offer.relative_url(kita.site), data, **HOST)


def portal_login(client, email, password):
    return client.post("/workpro/konto/anmelden/", {"username": email, "password": password}, **HOST)


def password_from_mail(message) -> str:
    """The issued password in a welcome or password mail."""
    return ISSUED_PASSWORD_RE.search(message.body).group(1)


# --- the template contract (#17): plugin pages inside a host's base.html ---------------------

HOST_BASE_DIR = Path(__file__).resolve().parent / "templates" / "host_base"


def host_base_templates(templates: list[dict]) -> list[dict]:
    """`templates` (settings.TEMPLATES) with tests/templates/host_base first in DIRS: every page,
    WorkPro's included, then extends the base.html of a fresh `wagtail start` site."""
    first, *rest = templates
    return [{**first, "DIRS": [HOST_BASE_DIR, *first.get("DIRS", [])]}, *rest]


def modeladmin_table(response) -> str:
    """What wagtail-modeladmin's own {% result_list %} renders for a modeladmin list response's page, with
    its own ButtonHelper (the list's RowButtonHelper must write the same buttons)."""
    from django.template import RequestContext, Template
    from wagtail_modeladmin.helpers import ButtonHelper

    context = {}
    for layer in response.context:
        for values in layer.dicts:
            context.update(values)
    view = context["view"]
    view.button_helper, ours = ButtonHelper(view, context["request"]), view.button_helper
    try:
        return Template("{% load modeladmin_tags %}{% result_list %}").render(
            RequestContext(context["request"], context))
    finally:
        view.button_helper = ours


def get_offer_index(client, institution, query: str = ""):
    """The institution's offer index page (with `query`), asserted 200: (response, the SQL it ran)."""
    from django.test.utils import CaptureQueriesContext

    from workpro_plugin.models import OfferIndexPage

    url = OfferIndexPage.objects.descendant_of(institution.site.root_page).get().relative_url(institution.site)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url + query, HTTP_HOST=institution.site.hostname)
    assert response.status_code == 200
    return response, [q["sql"] for q in queries.captured_queries]
