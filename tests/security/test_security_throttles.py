"""Throttles hold under parallel requests and across rotating addresses (#15).

- 30 simultaneous password requests for one person send at most the 2 SMS of the hourly
  limit (PostgreSQL: the person row is locked while the limit is checked).
- Failed logins lock the account from every address, not just per (account, address).
- Registration and password-request limits count per target (the address registered, the
  identity asked for), so rotating client addresses does not reset them.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from tests.factories import make_user
from tests.helpers import needs_postgres, race
from tests.security_figures import note
from workpro_plugin.backends import account_failure_limit
from workpro_plugin.models import OutboxMessage
from workpro_plugin.services.accounts import (
    DEFAULT_PASSWORD_REQUEST_IDENTITY_LIMITS,
    DEFAULT_PASSWORD_REQUEST_NAME_LIMITS,
    DEFAULT_REGISTRATION_EMAIL_LIMITS,
    PasswordRequest,
    password_request,
)

PARALLEL_REQUESTS = 30
MOBILE = "+4915123456789"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_password_requests_send_at_most_the_hourly_sms_limit(make_institution, sms_outbox):
    needs_postgres("needs PostgreSQL row locks (set DATABASE_URL); SQLite serialises all writers anyway")
    kita = make_institution("kita", hostname="kita.test")
    person = make_user("erika@example.org", first_name="Erika", date_of_birth=date(1985, 4, 12),
                       mobile=MOBILE).workpro_person
    data = PasswordRequest(last_name="Muster", first_name="Erika", date_of_birth=date(1985, 4, 12),
                           email="erika@example.org", mobile=MOBILE)

    outcomes = race(PARALLEL_REQUESTS, lambda i: password_request(data=data, site_institution=kita))

    errors = [outcome for outcome in outcomes if not isinstance(outcome, str)]
    assert errors == []
    sent = OutboxMessage.objects.filter(person=person, channel=OutboxMessage.Channel.SMS,
                                        template="password_issued").count()
    note("parallel password requests → SMS sent", f"{PARALLEL_REQUESTS} → {sent}")
    assert sent == outcomes.count("sms") == 2
    assert outcomes.count("limited") == PARALLEL_REQUESTS - 2
    assert len(sms_outbox) == 2


# --- failed logins per account, across addresses ------------------------------------------------

LOGIN_URL = "/workpro/konto/anmelden/"


@pytest.fixture
def account(make_institution):
    make_institution("kita", hostname="kita.test")
    user = make_user("erika@example.org")
    user.set_password("Sonnenblume-2026")
    user.save()
    return user


def _login(email: str, password: str, address: str):
    client = Client(HTTP_HOST="kita.test")
    response = client.post(LOGIN_URL, {"username": email, "password": password}, REMOTE_ADDR=address)
    return response, "_auth_user_id" in client.session


@pytest.mark.django_db
def test_wrong_passwords_from_rotating_addresses_lock_the_account(settings, account):
    settings.WORKPRO_TRUSTED_PROXIES = []  # REMOTE_ADDR is the client
    addresses = [f"203.0.113.{n}" for n in range(1, 11)]
    statuses = [_login("erika@example.org", f"falsch-{attempt}", address)[0].status_code
                for attempt in range(4) for address in addresses]  # 4 per address: below the 5 per address
    locked = statuses.count(429)
    note("wrong passwords from 10 addresses → refused as locked", f"{len(statuses)} → {locked}")
    assert len(statuses) == 40
    # The failure that reaches the account limit is answered as locked already, like axes' own limit.
    assert statuses == [400] * (account_failure_limit() - 1) + [429] * (41 - account_failure_limit())

    # The account is locked from everywhere, even with the right password, with the German message.
    response, logged_in = _login("ERIKA@example.org ", "Sonnenblume-2026", "198.51.100.7")
    assert (response.status_code, logged_in) == (429, False)
    assert "Zu viele fehlgeschlagene Anmeldeversuche" in response.content.decode()

    # The lock expires with the axes cool-off.
    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(minutes=1)):
        assert _login("erika@example.org", "Sonnenblume-2026", "198.51.100.7")[1]


@pytest.mark.django_db
def test_the_account_limit_is_above_the_address_limit_so_a_few_tries_lock_nobody_out(settings, account):
    """Below the account limit a stranger's failures (each address under its own limit) leave the owner in."""
    settings.WORKPRO_TRUSTED_PROXIES = []
    assert account_failure_limit() > settings.AXES_FAILURE_LIMIT
    for number in range(account_failure_limit() - 1):
        _login("erika@example.org", "falsch", f"203.0.113.{number // 4 + 1}")
    assert _login("erika@example.org", "Sonnenblume-2026", "198.51.100.7")[1]
    # Per address the old limit still holds: 5 failures lock that address.
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login("erika@example.org", "falsch", "192.0.2.99")
    assert _login("erika@example.org", "Sonnenblume-2026", "192.0.2.99")[0].status_code == 429


# --- registration and password requests per target -----------------------------------------------

def _register(kita, offer, email: str, address: str):
    return Client(HTTP_HOST="kita.test").post(
        offer.relative_url(kita.site), {"last_name": "Muster", "first_name": "Erika", "email": email,
                                        "privacy": "on"}, REMOTE_ADDR=address)


@pytest.mark.django_db
def test_rotating_addresses_do_not_bypass_the_registration_limit_per_mail_address(settings, make_institution,
                                                                                 make_offer, run_on_commit):
    settings.WORKPRO_TRUSTED_PROXIES = []
    kita = make_institution("kita", hostname="kita.test")
    offer = make_offer(kita, "Krippenplatz", capacity=10)
    hourly = DEFAULT_REGISTRATION_EMAIL_LIMITS[0][1]
    with run_on_commit():
        statuses = [_register(kita, offer, "victim@example.org", f"203.0.113.{n + 1}").status_code
                    for n in range(hourly + 3)]
    note("registrations of one address from rotating client addresses → accepted",
         f"{len(statuses)} → {statuses.count(302)}")
    assert statuses == [302] * hourly + [400] * 3
    refused = _register(kita, offer, "Victim@Example.org", "198.51.100.1")
    assert refused.status_code == 400
    assert any("zu viele Registrierungen" in error for error in refused.context["form"].errors["email"])
    # Other addresses are not affected.
    assert _register(kita, offer, "someone@example.org", "198.51.100.1").status_code == 302


def _ask(data: dict, address: str):
    return Client(HTTP_HOST="kita.test").post("/workpro/konto/passwort-anfordern/", data, REMOTE_ADDR=address)


@pytest.mark.django_db
def test_rotating_addresses_do_not_bypass_the_password_request_limit_per_identity(settings, make_institution,
                                                                                 run_on_commit, sms_outbox):
    settings.WORKPRO_TRUSTED_PROXIES = []
    make_institution("kita", hostname="kita.test")
    make_user("erika@example.org", first_name="Erika", date_of_birth=date(1985, 4, 12), mobile=MOBILE,
              customer_number="K-000042")
    guess = {"last_name": "Muster", "first_name": "Erika", "date_of_birth": "1985-04-12", "mobile": "",
             "email": "erika@example.org"}
    hourly = DEFAULT_PASSWORD_REQUEST_IDENTITY_LIMITS[0][1]
    with run_on_commit():
        statuses = [_ask({**guess, "customer_number": f"K-{n:06d}"}, f"203.0.113.{n + 1}").status_code
                    for n in range(hourly + 2)]
    note("password requests for one identity from rotating client addresses → answered",
         f"{len(statuses)} → {statuses.count(302)}")
    assert statuses == [302] * hourly + [400] * 2
    refused = _ask({**guess, "customer_number": "K-000042"}, "198.51.100.1")  # even the right guess now
    assert refused.status_code == 400
    assert "Für diese Angaben gab es zu viele Anfragen" in refused.content.decode()
    assert sms_outbox == []
    # The same answer for somebody who does not exist: the limit reveals nobody.
    with run_on_commit():
        ghost = [_ask({**guess, "last_name": "Niemand", "customer_number": f"K-{n:06d}"}, f"192.0.2.{n + 1}")
                 for n in range(hourly + 1)]
    assert [r.status_code for r in ghost] == [302] * hourly + [400]


@pytest.mark.django_db
def test_guessing_the_birth_date_from_rotating_addresses_is_limited_per_name(settings, make_institution):
    settings.WORKPRO_TRUSTED_PROXIES = []
    make_institution("kita", hostname="kita.test")
    per_name = DEFAULT_PASSWORD_REQUEST_NAME_LIMITS[0][1]
    start = date(1980, 1, 1)
    statuses = [_ask({"last_name": "Muster", "first_name": "Erika", "email": "x@example.org", "mobile": "",
                      "customer_number": "K-000042",
                      "date_of_birth": (start + timedelta(days=n)).isoformat()}, f"203.0.{n // 200}.{n % 200 + 1}")
                .status_code for n in range(per_name + 1)]
    assert statuses == [302] * per_name + [400]
