"""workpro_plugin.conf: safe defaults, and configure() giving a host everything in one block (#17)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.host_site import WAGTAIL_START_MIDDLEWARE
from workpro_plugin import conf
from workpro_plugin.services import privacy
from workpro_plugin.sms import get_backend
from workpro_site.settings import base


def wagtail_start_namespace(tmp_path) -> dict:
    return {
        "INSTALLED_APPS": ["home", "search", "wagtail.contrib.forms", "wagtail", "django.contrib.admin",
                           "django.contrib.auth"],
        "MIDDLEWARE": list(WAGTAIL_START_MIDDLEWARE),
        "MEDIA_ROOT": tmp_path / "media",
        "STORAGES": {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                     "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}},
    }


def test_without_any_setting_ratified_contracts_are_kept_ten_years(settings):
    del settings.WORKPRO_RETENTION_DAYS
    assert privacy.retention_days("contract") == privacy.retention_days("ratified_contract") == 3653
    assert privacy.retention_days("application") == 183
    assert privacy.retention_days("a-kind-nobody-configured") == 183  # as "other"


def test_a_host_retention_table_changes_only_its_keys(settings):
    settings.WORKPRO_RETENTION_DAYS = {"application": 30}
    assert privacy.retention_days("application") == 30
    assert privacy.retention_days("contract") == 3653


def test_staff_2fa_is_required_unless_debug(settings):
    del settings.WORKPRO_REQUIRE_STAFF_2FA
    settings.DEBUG = False
    assert conf.get("REQUIRE_STAFF_2FA") is True
    settings.DEBUG = True
    assert conf.get("REQUIRE_STAFF_2FA") is False
    settings.WORKPRO_REQUIRE_STAFF_2FA = True
    assert conf.get("REQUIRE_STAFF_2FA") is True


def test_sms_defaults_to_the_console_only_with_debug(settings):
    del settings.WORKPRO_SMS_BACKEND
    settings.WORKPRO_SMS_GATEWAY_URL = ""
    settings.DEBUG = True
    assert conf.get("SMS_BACKEND") == conf.CONSOLE_SMS_BACKEND
    settings.DEBUG = False
    assert conf.get("SMS_BACKEND") == ""
    with pytest.raises(ImproperlyConfigured):
        get_backend()  # never prints passwords to a production log
    settings.WORKPRO_SMS_GATEWAY_URL = "https://sms.example.org/send"
    assert conf.get("SMS_BACKEND") == conf.HTTP_SMS_BACKEND


def test_an_unknown_setting_name_is_a_key_error():
    with pytest.raises(KeyError):
        conf.get("RETENTION_DAY")


def test_configure_adds_everything_to_a_wagtail_start_site(tmp_path):
    namespace = conf.configure(wagtail_start_namespace(tmp_path))
    apps = namespace["INSTALLED_APPS"]
    assert set(conf.REQUIRED_APPS) <= set(apps)
    assert apps.index("home") < apps.index("workpro_plugin") < apps.index("wagtail.contrib.forms")
    middleware = namespace["MIDDLEWARE"]
    order = [middleware.index(entry) for entry in (
        "django.contrib.auth.middleware.AuthenticationMiddleware", conf.OTP_MIDDLEWARE, conf.STAFF_2FA_MIDDLEWARE,
        conf.AUDIT_MIDDLEWARE)]
    assert order == sorted(order)
    assert middleware[-1] == conf.AXES_MIDDLEWARE
    assert {conf.ISSUED_PASSWORD_MIDDLEWARE, conf.CSP_MIDDLEWARE, conf.SECURITY_HEADERS_MIDDLEWARE} <= set(middleware)
    assert namespace["AUTHENTICATION_BACKENDS"] == list(conf.AUTHENTICATION_BACKENDS)
    assert namespace["LOGIN_URL"] == "workpro:login"
    assert namespace["WAGTAIL_PASSWORD_RESET_ENABLED"] is False
    assert namespace["AXES_HANDLER"] == conf.ACCOUNT_LOCKOUT_HANDLER
    assert namespace["AXES_CLIENT_IP_CALLABLE"] == "workpro_plugin.lib.http.client_ip"
    private = namespace["STORAGES"]["private"]["OPTIONS"]["location"]
    assert not private.startswith(str(tmp_path / "media"))  # never served under MEDIA_URL
    assert namespace["STORAGES"]["staticfiles"]["BACKEND"].endswith("ManifestStaticFilesStorage")  # kept
    assert namespace["Q_CLUSTER"]["orm"] == "default"
    assert "CACHES" not in namespace


def test_configure_is_idempotent_and_keeps_the_hosts_values(tmp_path):
    namespace = wagtail_start_namespace(tmp_path)
    namespace.update(LOGIN_URL="/login/", AUTHENTICATION_BACKENDS=["django.contrib.auth.backends.ModelBackend"],
                     CONTENT_SECURITY_POLICY={"DIRECTIVES": {"default-src": ["'self'", "cdn.example.org"]}},
                     AXES_FAILURE_LIMIT=3)
    once = conf.configure(namespace)
    snapshot = {key: (list(value) if isinstance(value, list) else value) for key, value in once.items()}
    twice = conf.configure(once)
    assert {key: (list(value) if isinstance(value, list) else value) for key, value in twice.items()} == snapshot
    assert twice["LOGIN_URL"] == "/login/" and twice["AXES_FAILURE_LIMIT"] == 3
    assert twice["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["default-src"] == ["'self'", "cdn.example.org"]
    # Django's ModelBackend would accept issued passwords after 72 hours: it is replaced, not kept.
    assert twice["AUTHENTICATION_BACKENDS"] == [conf.AXES_BACKEND, conf.ISSUED_PASSWORD_BACKEND,
                                                conf.SMS_PASSWORD_BACKEND]


def test_configure_with_redis_gives_a_shared_cache_and_broker(tmp_path):
    namespace = conf.configure(wagtail_start_namespace(tmp_path), redis_url="redis://cache:6379/0")
    assert namespace["CACHES"]["default"]["BACKEND"].endswith("RedisCache")
    assert namespace["Q_CLUSTER"]["redis"] == "redis://cache:6379/0" and "orm" not in namespace["Q_CLUSTER"]


def test_the_demo_uses_configure_and_keeps_its_own_order():
    assert base.MIDDLEWARE == conf.configure({**vars(base)})["MIDDLEWARE"]  # nothing left to add
    assert base.MIDDLEWARE.index(conf.STAFF_2FA_MIDDLEWARE) == base.MIDDLEWARE.index(conf.OTP_MIDDLEWARE) + 1
    assert base.MIDDLEWARE[-1] == conf.AXES_MIDDLEWARE
    assert base.AUTHENTICATION_BACKENDS == list(conf.AUTHENTICATION_BACKENDS)
