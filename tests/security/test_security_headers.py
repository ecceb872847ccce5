"""Security headers and cookie flags, in the test settings and in the production settings.

The production module is imported with a secret key from the test, and its security
settings are applied with override_settings: the headers a production response carries are
then asserted on real responses, not only on setting values.
"""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from tests.helpers import HOST
from tests.security_figures import add, note

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
SECRET = "s" * 20 + "production-secret-key-for-the-headers-test-only-0123456789"

# Header → expected value on every HTML response (public site, portal and admin).
EXPECTED_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
SECURITY_SETTINGS = (
    "SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_NAME", "CSRF_COOKIE_SECURE", "CSRF_COOKIE_HTTPONLY", "CSRF_COOKIE_SAMESITE",
    "X_FRAME_OPTIONS", "SECURE_CONTENT_TYPE_NOSNIFF", "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY", "WORKPRO_REQUIRE_STAFF_2FA", "CONTENT_SECURITY_POLICY",
)


@pytest.fixture
def production(monkeypatch):
    """The security settings of workpro_site.settings.production, as a dict."""
    monkeypatch.setenv("SECRET_KEY", SECRET)
    monkeypatch.setenv("ALLOWED_HOSTS", "kita.test")
    for name in ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_PRELOAD", "WORKPRO_REQUIRE_STAFF_2FA"):
        monkeypatch.delenv(name, raising=False)
    sys.modules.pop("workpro_site.settings.production", None)
    try:
        module = importlib.import_module("workpro_site.settings.production")
    finally:
        sys.modules.pop("workpro_site.settings.production", None)
    return {name: getattr(module, name) for name in SECURITY_SETTINGS}


def _assert_headers(response, label: str) -> None:
    for header, value in EXPECTED_HEADERS.items():
        assert response.get(header) == value, f"{label}: {header}={response.get(header)!r}"
    add("header assertions", len(EXPECTED_HEADERS))


def test_every_html_response_carries_the_security_headers(world, client):
    urls = ["/", "/workpro/konto/anmelden/", "/workpro/hilfe/", "/admin/login/"]
    for url in urls:
        _assert_headers(client.get(url, **HOST), url)
    client.force_login(world.superuser)
    _assert_headers(client.get("/admin/", **HOST), "/admin/")
    client.force_login(world.holder)
    _assert_headers(client.get("/workpro/konto/", **HOST), "/workpro/konto/")
    note("security headers checked per response", len(EXPECTED_HEADERS))


def test_production_settings_are_strict(production):
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert production["SESSION_COOKIE_SECURE"] is True and production["CSRF_COOKIE_SECURE"] is True
    assert production["SESSION_COOKIE_HTTPONLY"] is True
    assert production["SESSION_COOKIE_SAMESITE"] == "Lax" and production["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert production["SESSION_COOKIE_NAME"].startswith("__Secure-")
    assert production["WORKPRO_REQUIRE_STAFF_2FA"] is True
    directives = production["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]
    assert "'unsafe-inline'" not in directives["script-src"] + directives["style-src"]


def test_production_responses_send_hsts_and_secure_cookies(production, world, client):
    with override_settings(**production):
        plain = client.get("/workpro/konto/anmelden/", **HOST)
        assert plain.status_code == 301 and plain["Location"].startswith("https://")

        page = client.get("/workpro/konto/anmelden/", secure=True, **HOST)
        assert page.status_code == 200
        assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        _assert_headers(page, "production login")
        csrf = page.cookies["csrftoken"]
        checked = {"csrf Secure": bool(csrf["secure"]), "csrf SameSite=Lax": csrf["samesite"] == "Lax",
                   "csrf readable by the admin's JS": not csrf["httponly"]}

        world.holder.set_password("Richtig-Passwort-123")
        world.holder.save()
        login = client.post("/workpro/konto/anmelden/", {"username": world.holder.email,
                                                         "password": "Richtig-Passwort-123"}, secure=True, **HOST)
        assert login.status_code == 302
        session = login.cookies[production["SESSION_COOKIE_NAME"]]
        checked.update({"session Secure": bool(session["secure"]), "session HttpOnly": bool(session["httponly"]),
                        "session SameSite=Lax": session["samesite"] == "Lax"})
    assert all(checked.values()), checked
    note("cookie flags checked", len(checked))


def test_check_deploy_refuses_production_without_2fa():
    env = {**os.environ, "SECRET_KEY": SECRET, "ALLOWED_HOSTS": "kita.example.org",
           "DJANGO_SETTINGS_MODULE": "workpro_site.settings.production", "WORKPRO_REQUIRE_STAFF_2FA": "0"}
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "workpro.W001" in result.stderr + result.stdout
