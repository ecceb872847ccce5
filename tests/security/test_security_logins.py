"""Every login path refuses an expired issued password (#15).

The 72 hours of an issued password were checked by the portal form only; the Wagtail admin
login and Wagtail's /_util/login/ accepted expired ones. The check now sits in the
authentication backend. The login paths are collected from the URL resolver, in every
language: anything named or routed like a login ("login", "anmelden", "authenticate"), every
LoginView, and every view whose code calls authenticate() or login(). Each one is either a
password login (tried here with an expired and with a valid issued password) or listed in
NOT_A_PASSWORD_LOGIN with the reason; a new one fails the test until it is classified.
"""

from __future__ import annotations

import inspect
import re
from datetime import timedelta
from functools import lru_cache

import pytest
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.test import Client
from django.urls import get_resolver, reverse
from django.utils import timezone, translation

from tests.factories import make_user
from tests.helpers import walk_urls
from tests.security_figures import note
from workpro_plugin.models import Person

pytestmark = pytest.mark.django_db

PASSWORD = "k7mq-4rtp-9wx2"
LOGINISH = re.compile(r"login|anmelden|authenticate", re.IGNORECASE)
CALLS_LOGIN = re.compile(r"\b(?:auth_|otp_)?login\(|\bauthenticate\(")

# Password logins: url name → the form fields they take.
PASSWORD_LOGINS = {
    "workpro:login": {"username": "username", "password": "password"},
    "wagtailadmin_login": {"username": "username", "password": "password"},
    "wagtailcore_login": {"username": "username", "password": "password"},
}
NOT_A_PASSWORD_LOGIN = {
    "wagtailcore_authenticate_with_password": "a page's shared view password (PageViewRestriction); nobody is "
                                              "logged in",
    "wagtaildocs_authenticate_with_password": "a document collection's shared view password; nobody is logged in",
    "wagtailadmin_password_reset_confirm": "mailed reset link; sets a password but logs nobody in "
                                           "(post_reset_login is off, asserted below)",
    "workpro:offer_enroll": "„Zum Angebot anmelden“: a logged-in holder enrols, no credentials",
    "workpro:participant_login": "PSB1 assigns a minor a login address; the password goes out by mail",
    "workpro_admin:two_factor_verify": "second factor after a password login (otp_login marks the session)",
    "workpro_admin:two_factor_setup": "second-factor enrolment after a password login",
}


@lru_cache(maxsize=None)
def _code(obj) -> str:
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return ""


def _source(callback) -> str:
    """The view function's code, or that of the view class and every class it inherits from."""
    view_class = getattr(callback, "view_class", None)
    if view_class is None:
        return _code(inspect.unwrap(callback))
    return "\n".join(_code(cls) for cls in view_class.__mro__ if cls is not object)


def _is_login_candidate(name: str, route: str, callback) -> bool:
    view_class = getattr(callback, "view_class", None)
    return bool(LOGINISH.search(name) or LOGINISH.search(route)
                or (view_class is not None and issubclass(view_class, auth_views.LoginView))
                or CALLS_LOGIN.search(_source(callback)))


def login_candidates() -> dict[str, set[str]]:
    """url name → the paths it has (one per language where the URL is translated)."""
    found: dict[str, set[str]] = {}
    for language, _label in settings.LANGUAGES:
        with translation.override(language):
            for url in walk_urls():
                name, route, callback = url.name or url.route, url.route, url.pattern.callback
                if _is_login_candidate(name, route, callback):
                    found.setdefault(name, set())
                    if name in PASSWORD_LOGINS:
                        found[name].add(reverse(name))
    return found


def test_every_login_like_url_is_classified():
    candidates = login_candidates()
    unclassified = sorted(set(candidates) - set(PASSWORD_LOGINS) - set(NOT_A_PASSWORD_LOGIN))
    assert unclassified == [], f"classify these login-like URLs in this module: {unclassified}"
    assert set(PASSWORD_LOGINS) <= set(candidates)  # the known logins are still found by the walk
    stale = sorted(set(NOT_A_PASSWORD_LOGIN) - set(candidates))
    assert stale == [], f"no longer in the URL conf: {stale}"
    reset = get_resolver().resolve(reverse("wagtailadmin_password_reset_confirm", args=["MQ", "set-password"]))
    assert not reset.func.view_class.post_reset_login


@pytest.fixture
def issued(make_institution):
    make_institution("kita", hostname="kita.test")
    user = make_user("erika@example.org")
    user.set_password(PASSWORD)
    user.save()
    Person.objects.filter(user=user).update(must_set_password=True,
                                            password_issued_at=timezone.now() - timedelta(hours=72, minutes=1))
    return user


def _try(path: str, fields: dict, username: str, password: str, address: str):
    client = Client(HTTP_HOST="kita.test")
    response = client.post(path, {fields["username"]: username, fields["password"]: password}, REMOTE_ADDR=address)
    return response, "_auth_user_id" in client.session


def test_every_login_path_refuses_an_expired_issued_password_and_accepts_a_valid_one(issued):
    paths = [(name, path) for name, found in sorted(login_candidates().items()) if name in PASSWORD_LOGINS
             for path in sorted(found)]
    assert len(paths) >= len(PASSWORD_LOGINS)

    refused, accepted = [], []
    for number, (name, path) in enumerate(paths):
        response, logged_in = _try(path, PASSWORD_LOGINS[name], issued.username, PASSWORD, f"192.0.2.{number + 1}")
        if not logged_in and response.status_code != 302:
            refused.append(path)
        if name == "workpro:login":  # the portal tells why
            assert "Ihr zugesandtes Passwort ist abgelaufen" in response.content.decode() or path.startswith("/en/")
    Person.objects.filter(user=issued).update(password_issued_at=timezone.now() - timedelta(hours=1))
    for number, (name, path) in enumerate(paths):
        _response, logged_in = _try(path, PASSWORD_LOGINS[name], issued.username, PASSWORD, f"198.51.100.{number + 1}")
        if logged_in:
            accepted.append(path)

    note("login paths refusing expired passwords", f"{len(refused)} of {len(paths)}")
    assert refused == [path for _name, path in paths]
    assert accepted == [path for _name, path in paths]


def test_the_portal_explains_an_expired_password_and_links_a_new_one(issued):
    response, logged_in = _try(reverse("workpro:login"), PASSWORD_LOGINS["workpro:login"], issued.username, PASSWORD,
                               "192.0.2.50")
    assert (response.status_code, logged_in) == (400, False)
    text = response.content.decode()
    assert "Ihr zugesandtes Passwort ist abgelaufen" in text and "Bitte fordern Sie ein neues an" in text
    assert reverse("workpro:password_request") in text


def test_an_own_password_never_expires(issued):
    Person.objects.filter(user=issued).update(must_set_password=False)
    for name, fields in PASSWORD_LOGINS.items():
        _response, logged_in = _try(reverse(name), fields, issued.username, PASSWORD, "192.0.2.60")
        assert logged_in, name


def test_the_start_stops_without_the_plugin_backend_or_handler(settings):
    from workpro_plugin.checks import check_login_protection

    assert check_login_protection() == []
    settings.AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend",
                                        "django.contrib.auth.backends.ModelBackend"]
    settings.AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
    settings.WORKPRO_ACCOUNT_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT
    assert sorted(problem.id for problem in check_login_protection()) == [
        "workpro.E011", "workpro.E012", "workpro.E013", "workpro.E014"]
