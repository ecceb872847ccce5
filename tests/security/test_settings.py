"""Production settings: secrets from the environment, `check --deploy` clean."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET = "x" * 20 + "production-secret-key-for-the-settings-test-only-0123456789"


def _manage(*args, env_extra: dict[str, str], drop: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a deployment never has it.
    env = {k: v for k, v in os.environ.items() if k not in drop and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(env_extra)
    env["DJANGO_SETTINGS_MODULE"] = "workpro_site.settings.production"
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


# A production environment as the README's "Production deployment" lists it: Redis (shared cache)
# and an SMS gateway besides the secrets.
PRODUCTION_ENV = {"SECRET_KEY": SECRET, "ALLOWED_HOSTS": "kita.example.org", "REDIS_URL": "redis://127.0.0.1:6379/0",
                  "WORKPRO_SMS_GATEWAY_URL": "https://sms.example.org/send"}


def test_check_deploy_has_no_warnings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env_extra=PRODUCTION_ENV,
                     drop=("WORKPRO_SMS_BACKEND",))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_without_redis_or_sms_gateway_is_refused():
    env = {**PRODUCTION_ENV, "REDIS_URL": "", "WORKPRO_SMS_GATEWAY_URL": ""}
    result = _manage("check", "--deploy", env_extra=env, drop=("WORKPRO_SMS_BACKEND",))
    assert result.returncode != 0
    assert "workpro.E027" in result.stderr and "workpro.E029" in result.stderr


def test_missing_secret_key_fails_loudly():
    result = _manage("check", env_extra={"ALLOWED_HOSTS": "kita.example.org"}, drop=("SECRET_KEY",))
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_argon2_is_the_first_password_hasher():
    from django.conf import settings as django_settings

    from workpro_site.settings import base

    assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert django_settings.LANGUAGE_CODE == "de"
    assert django_settings.TIME_ZONE == "Europe/Berlin"
