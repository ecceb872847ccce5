"""Password hashing (#22): argon2id with OWASP's minimum parameters first, old hashes rehashed on login."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import Argon2PasswordHasher, get_hasher, make_password
from django.core import checks

from tests.factories import make_user
from tests.helpers import portal_login
from workpro_plugin import conf
from workpro_plugin.lib.hashers import WorkProArgon2PasswordHasher
from workpro_site.settings import base

PASSWORD = "Sonnenblume-2026"
HASHERS = [conf.WORKPRO_HASHER, conf.DJANGO_ARGON2_HASHER, "django.contrib.auth.hashers.PBKDF2PasswordHasher"]


def _params(encoded: str) -> str:
    return encoded.split("$")[3]  # argon2$argon2id$v=19$m=...,t=...,p=...$salt$hash


def test_the_host_settings_put_workpro_argon2id_first_and_keep_djangos():
    assert base.PASSWORD_HASHERS[0] == conf.WORKPRO_HASHER
    assert conf.DJANGO_ARGON2_HASHER in base.PASSWORD_HASHERS[1:]
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in base.PASSWORD_HASHERS[1:]


def test_configure_adds_the_hasher_in_front_of_the_hosts_and_is_idempotent():
    host = {"PASSWORD_HASHERS": ["django.contrib.auth.hashers.ScryptPasswordHasher"]}
    once = conf.configure(dict(host))["PASSWORD_HASHERS"]
    assert once[0] == conf.WORKPRO_HASHER and "django.contrib.auth.hashers.ScryptPasswordHasher" in once
    assert {conf.DJANGO_ARGON2_HASHER, "django.contrib.auth.hashers.PBKDF2PasswordHasher"} <= set(once)
    assert conf.configure({"PASSWORD_HASHERS": once})["PASSWORD_HASHERS"] == once
    assert conf.configure({})["PASSWORD_HASHERS"] == list(conf.PASSWORD_HASHERS)
    # A host that placed WorkPro's hasher itself keeps its order.
    placed = [conf.DJANGO_ARGON2_HASHER, conf.WORKPRO_HASHER, "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    assert conf.configure({"PASSWORD_HASHERS": list(placed)})["PASSWORD_HASHERS"] == placed


def test_without_argon2_cffi_configure_leaves_the_hashers_alone(monkeypatch):
    monkeypatch.setattr(conf, "find_spec", lambda name: None)
    host = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    assert conf.configure({"PASSWORD_HASHERS": list(host)})["PASSWORD_HASHERS"] == host
    assert conf.WORKPRO_HASHER not in conf.configure({})["PASSWORD_HASHERS"]


def test_the_parameters_are_at_least_owasps_minimum_for_argon2id(settings):
    settings.PASSWORD_HASHERS = HASHERS
    encoded = make_password(PASSWORD)
    assert encoded.startswith("argon2$argon2id$")
    assert _params(encoded) == "m=19456,t=2,p=1"
    hasher = get_hasher("default")
    assert isinstance(hasher, WorkProArgon2PasswordHasher) and not hasher.must_update(encoded)
    assert hasher.must_update(Argon2PasswordHasher().encode(PASSWORD, hasher.salt()))  # Django's 100 MiB, p = 8


@pytest.mark.django_db
def test_a_user_with_an_old_parameter_hash_is_rehashed_on_login(client, settings, make_institution):
    settings.PASSWORD_HASHERS = HASHERS
    make_institution("kita", hostname="kita.test")
    user = make_user("erika@example.org")
    old = Argon2PasswordHasher().encode(PASSWORD, Argon2PasswordHasher().salt())
    get_user_model().objects.filter(pk=user.pk).update(password=old)
    assert _params(old) == "m=102400,t=2,p=8"

    assert portal_login(client, "erika@example.org", PASSWORD).status_code == 302
    user.refresh_from_db()
    assert user.password != old and _params(user.password) == "m=19456,t=2,p=1"
    assert user.check_password(PASSWORD)


def test_a_weak_first_argon2_hasher_is_a_check_warning(settings, monkeypatch):
    settings.PASSWORD_HASHERS = [conf.DJANGO_ARGON2_HASHER]
    monkeypatch.setattr(Argon2PasswordHasher, "memory_cost", 8192)
    assert "workpro.W023" in {issue.id for issue in checks.run_checks(tags=[checks.Tags.security])}
    settings.PASSWORD_HASHERS = HASHERS
    assert "workpro.W023" not in {issue.id for issue in checks.run_checks(tags=[checks.Tags.security])}
