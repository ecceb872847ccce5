"""What WorkPro needs of its host is a system check with a hint, never a traceback, and no
protection depends on a middleware the host may forget (#17)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse

from workpro_plugin import conf
from workpro_plugin import urls as workpro_urls
from workpro_plugin.models import Person
from workpro_plugin.portal.guards import ALLOWED_WITH_ISSUED_PASSWORD

ROOT = Path(__file__).resolve().parents[2]


def _check(settings_module: str, *args, **env) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environ.update(env, DJANGO_SETTINGS_MODULE=settings_module)
    result = subprocess.run([sys.executable, "manage.py", "check", *args], cwd=ROOT, env=environ,
                            capture_output=True, text=True, timeout=120)
    return result.stdout + result.stderr


def _check_ids(*args) -> str:
    with pytest.raises(SystemCheckError) as raised:
        call_command("check", *args)
    return str(raised.value)


def without(entry: str, middleware: list[str]) -> list[str]:
    return [item for item in middleware if item != entry]


# --- a fresh host ----------------------------------------------------------------------------

def test_only_adding_the_app_names_what_is_missing_without_a_traceback():
    output = _check("tests.host_site.bare")
    assert "Traceback" not in output, output
    for missing in ("'axes'", "'django_otp'", "'django_otp.plugins.otp_totp'", "'django_otp.plugins.otp_static'",
                    "'django_q'", "'wagtail_modeladmin'"):
        assert f"(workpro.E020) INSTALLED_APPS lacks {missing}" in output
    assert "(workpro.E021) MIDDLEWARE lacks workpro_plugin.middleware.StaffTwoFactorMiddleware" in output
    assert "(workpro.E023) STORAGES has no \"private\" entry" in output
    assert "(workpro.E025)" in output and 'include("workpro_plugin.urls")' in output
    assert "configure(globals())" in output  # every hint names the one-line fix


def test_the_readme_blocks_satisfy_every_workpro_check():
    output = _check("tests.host_site.configured")
    assert "Traceback" not in output, output
    assert "workpro." not in output, output


def test_a_host_without_debug_and_sms_gateway_does_not_start():
    output = _check("tests.host_site.configured", HOST_SITE_DEBUG="0", WORKPRO_SMS_GATEWAY_URL="")
    assert "(workpro.E027)" in output
    output = _check("tests.host_site.configured", HOST_SITE_DEBUG="0",
                    WORKPRO_SMS_GATEWAY_URL="https://sms.example.org/send")
    assert "workpro.E027" not in output


# --- each requirement is a check ---------------------------------------------------------------

def test_missing_staff_2fa_middleware_stops_the_start(settings):
    settings.WORKPRO_REQUIRE_STAFF_2FA = True
    settings.MIDDLEWARE = without(conf.STAFF_2FA_MIDDLEWARE, settings.MIDDLEWARE)
    assert "workpro.E021" in _check_ids("--deploy")
    assert conf.STAFF_2FA_MIDDLEWARE in _check_ids()


def test_otp_middleware_after_the_gate_is_an_error(settings):
    middleware = without(conf.OTP_MIDDLEWARE, settings.MIDDLEWARE)
    middleware.insert(middleware.index(conf.STAFF_2FA_MIDDLEWARE) + 1, conf.OTP_MIDDLEWARE)
    settings.MIDDLEWARE = middleware
    assert f"(workpro.E022) MIDDLEWARE lists {conf.STAFF_2FA_MIDDLEWARE} before {conf.OTP_MIDDLEWARE}" \
        in _check_ids()


@pytest.mark.parametrize("entry", [conf.CSP_MIDDLEWARE, conf.SECURITY_HEADERS_MIDDLEWARE, conf.AXES_MIDDLEWARE,
                                   conf.AUDIT_MIDDLEWARE, conf.OTP_MIDDLEWARE])
def test_each_protecting_middleware_is_required(settings, entry):
    settings.MIDDLEWARE = without(entry, settings.MIDDLEWARE)
    assert f"(workpro.E021) MIDDLEWARE lacks {entry}" in _check_ids()


def test_private_storage_is_required_and_never_under_media_root(settings, tmp_path):
    storages = dict(settings.STORAGES)
    del storages["private"]
    settings.STORAGES = storages
    assert "workpro.E023" in _check_ids()
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {**storages, "private": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                                 "OPTIONS": {"location": str(tmp_path / "media" / "private")}}}
    assert "workpro.E024" in _check_ids()


def test_login_url_must_be_the_portal_login(settings):
    settings.LOGIN_URL = "/accounts/login/"
    assert "workpro.E026" in _check_ids()
    settings.LOGIN_URL = reverse("workpro:login")  # the path itself is fine too
    call_command("check")


def test_sms_backend_must_exist_and_reach_a_gateway(settings):
    settings.WORKPRO_SMS_BACKEND = "workpro_plugin.sms.backends.nothing.SmsBackend"
    assert "workpro.E028" in _check_ids()
    settings.WORKPRO_SMS_BACKEND = conf.HTTP_SMS_BACKEND
    settings.WORKPRO_SMS_GATEWAY_URL = ""
    assert "workpro.E028" in _check_ids()


def test_production_needs_a_shared_cache_and_a_real_sms_backend(settings):
    settings.DEBUG = False
    settings.WORKPRO_REQUIRE_STAFF_2FA = True
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.WORKPRO_SMS_BACKEND = conf.CONSOLE_SMS_BACKEND
    issues = _check_ids("--deploy", "--fail-level", "WARNING", "--tag", "security")
    assert "workpro.E029" in issues and "workpro.W022" in issues


def test_shortening_contract_retention_warns(settings):
    settings.WORKPRO_RETENTION_DAYS = {"contract": 365}
    assert "workpro.W021" in _check_ids("--fail-level", "WARNING")


def test_the_demo_settings_pass_every_check():
    call_command("check", "--fail-level", "WARNING")


# --- protections without their middleware ---------------------------------------------------

@pytest.fixture
def issued_password_user(db):
    user = get_user_model().objects.create_user("issued@example.org", "issued@example.org", "Ausgegeben-123")
    Person.objects.create(user=user, last_name="Muster", first_name="Erika", must_set_password=True)
    return user


@pytest.mark.parametrize("middleware_present", [True, False])
def test_an_issued_password_opens_only_the_password_change(settings, client, issued_password_user,
                                                           middleware_present):
    if not middleware_present:
        settings.MIDDLEWARE = without(conf.ISSUED_PASSWORD_MIDDLEWARE, settings.MIDDLEWARE)
    client.force_login(issued_password_user)
    for name in ("account", "documents", "contact_data", "apps", "chat_list", "data_export"):
        response = client.get(reverse(f"workpro:{name}"))
        assert response.status_code == 302 and response["Location"] == reverse("workpro:set_password"), name
    assert client.get(reverse("workpro:set_password")).status_code == 200


def test_every_portal_view_but_the_password_change_is_guarded():
    unguarded = [pattern.name for pattern in workpro_urls.urlpatterns
                 if pattern.name not in ALLOWED_WITH_ISSUED_PASSWORD
                 and not getattr(pattern.callback, "workpro_own_password_required", False)]
    assert unguarded == []
