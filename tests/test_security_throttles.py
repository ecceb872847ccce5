"""Throttles hold under parallel requests and across rotating addresses (#15).

- 30 simultaneous password requests for one person send at most the 2 SMS of the hourly
  limit (PostgreSQL: the person row is locked while the limit is checked).
- Failed logins lock the account from every address, not just per (account, address).
- Registration and password-request limits count per target (the address registered, the
  identity asked for), so rotating client addresses does not reset them.
"""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection

from tests.factories import make_user
from tests.security_figures import note
from workpro_plugin.models import OutboxMessage
from workpro_plugin.services.accounts import PasswordRequest, password_request

PARALLEL_REQUESTS = 30
MOBILE = "+4915123456789"


def _race(count: int, action) -> list:
    """Run `action(i)` in `count` threads released together, each with its own connection."""
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
        thread.join(timeout=120)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_password_requests_send_at_most_the_hourly_sms_limit(make_institution, sms_outbox):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (set DATABASE_URL); SQLite serialises all writers anyway")
    kita = make_institution("kita", hostname="kita.test")
    person = make_user("erika@example.org", first_name="Erika", date_of_birth=date(1985, 4, 12),
                       mobile=MOBILE).workpro_person
    data = PasswordRequest(last_name="Muster", first_name="Erika", date_of_birth=date(1985, 4, 12),
                           email="erika@example.org", mobile=MOBILE)

    outcomes = _race(PARALLEL_REQUESTS, lambda i: password_request(data=data, site_institution=kita))

    errors = [outcome for outcome in outcomes if not isinstance(outcome, str)]
    assert errors == []
    sent = OutboxMessage.objects.filter(person=person, channel=OutboxMessage.Channel.SMS,
                                        template="password_issued").count()
    note("parallel password requests → SMS sent", f"{PARALLEL_REQUESTS} → {sent}")
    assert sent == outcomes.count("sms") == 2
    assert outcomes.count("limited") == PARALLEL_REQUESTS - 2
    assert len(sms_outbox) == 2
