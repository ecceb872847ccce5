"""Faults: SMTP and SMS gateway down, a worker killed mid-task. Nothing lost, nothing sent or applied twice.

The servers run on 127.0.0.1 (tests/faultservers.py) and count what they accepted;
time travel passes the backoff windows; the killed worker is a real process
(tests/fault_child.py) ended with SIGKILL.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone

from tests.factories import enrollment_in
from tests.faultservers import FaultySmsGateway, FaultySmtpServer
from workpro_plugin.models import Enrollment, EnrollmentLog, OutboxMessage
from workpro_plugin.services import notify
from workpro_plugin.services.enrollments import expire_overdue_offers

ROOT = Path(__file__).resolve().parents[2]
S = Enrollment.Status


def _queue_mails(count: int) -> list[int]:
    ids = []
    for i in range(count):
        ids.append(notify.queue_mail(to=f"empfaenger{i}@example.org", template="email_changed",
                                     context={"first_name": f"Nr. {i}", "new_email": f"neu{i}@example.org"}).pk)
    return ids


def _sweep_at(moment) -> int:
    with time_machine.travel(moment, tick=True):
        return notify.sweep()


def _states(ids) -> Counter:
    return Counter(OutboxMessage.objects.filter(pk__in=ids).values_list("state", flat=True))


@pytest.fixture
def smtp(settings):
    with FaultySmtpServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_TIMEOUT = 5
        yield server


@pytest.mark.django_db
def test_smtp_down_mails_are_retried_with_backoff_and_delivered_once(smtp, run_on_commit):
    count = 6
    smtp.down = True
    start = timezone.now()
    with run_on_commit():  # after commit each row gets its delivery task: all fail now
        ids = _queue_mails(count)
    assert _states(ids) == {"pending": count}
    assert smtp.refused == count and smtp.messages == []

    # Backoff: nothing is due before 60 s; then each row is tried again (still down).
    assert _sweep_at(start + timedelta(seconds=30)) == 0
    assert _sweep_at(start + timedelta(seconds=61)) == count
    assert OutboxMessage.objects.filter(pk__in=ids, attempts=2).count() == count
    assert _sweep_at(start + timedelta(minutes=3)) == 0  # the second retry waits 5 minutes

    # SMTP is back, but refuses the first message's DATA once more (451).
    smtp.down = False
    smtp.reject_next_data = 1
    assert _sweep_at(start + timedelta(minutes=7)) == count
    assert _states(ids) == {"sent": count - 1, "pending": 1}
    assert _sweep_at(start + timedelta(minutes=8)) == 0  # the rejected one waits for its backoff
    assert _sweep_at(start + timedelta(minutes=30)) == 1
    for minutes in (60, 240, 600):  # later sweeps find nothing to send
        assert _sweep_at(start + timedelta(minutes=minutes)) == 0
    for pk in ids:
        assert notify.deliver(pk) is False  # a duplicate task sends nothing

    rows = OutboxMessage.objects.filter(pk__in=ids)
    received = Counter(m["To"] for m in smtp.messages)
    attempts = sum(rows.values_list("attempts", flat=True))
    duplicates = len(smtp.messages) - len(set(smtp.message_ids()))
    print(f"\nSMTP outage: {count} mails, {attempts} attempts, {smtp.refused} connections refused (421), "
          f"{smtp.rejected} rejected at DATA (451), {len(smtp.messages)} delivered, {duplicates} duplicated, "
          f"{count - len(received)} lost")
    assert _states(ids) == {"sent": count}
    assert received == {f"empfaenger{i}@example.org": 1 for i in range(count)}  # exactly one each
    assert duplicates == 0
    assert attempts == count * 3 + 1
    assert all(row.last_error == "" and row.sent_at for row in rows)


@pytest.mark.django_db
def test_sms_gateway_down_sms_are_retried_and_delivered_once(settings, run_on_commit):
    count = 4
    with FaultySmsGateway() as gateway:
        settings.WORKPRO_SMS_BACKEND = "workpro_plugin.sms.backends.http.SmsBackend"
        settings.WORKPRO_SMS_GATEWAY_URL, settings.WORKPRO_SMS_GATEWAY_TOKEN = gateway.url, "token"
        gateway.down = True
        start = timezone.now()
        with run_on_commit():
            ids = [notify.queue_sms(to=f"+4915100000{i:03d}", template="password_issued",
                                    context={"password": f"pw-{i}", "email": f"p{i}@example.org"},
                                    secret_keys=("password",)).pk for i in range(count)]
        assert _sweep_at(start + timedelta(seconds=61)) == count  # still down
        assert _states(ids) == {"pending": count}
        gateway.down = False
        assert _sweep_at(start + timedelta(minutes=7)) == count
        for minutes in (30, 120):
            assert _sweep_at(start + timedelta(minutes=minutes)) == 0
        for pk in ids:
            assert notify.deliver(pk) is False
    received = Counter(body["to"] for body in gateway.accepted)
    print(f"\nSMS gateway outage: {count} SMS, {gateway.requests} requests, {gateway.refused} refused (503), "
          f"{len(gateway.accepted)} delivered, {sum(received.values()) - len(received)} duplicated, "
          f"{count - len(received)} lost")
    assert received == {f"+4915100000{i:03d}": 1 for i in range(count)}
    assert _states(ids) == {"sent": count}
    assert not any("password" in row.context for row in OutboxMessage.objects.filter(pk__in=ids))


# --- a worker killed mid-task -----------------------------------------------------------------

class _Handoff:
    """Lets a child process work on the test database.

    PostgreSQL: the child connects to the test database itself. SQLite: the test database
    lives in this process's memory, so it is copied to a file for the child and copied
    back once the child is dead.
    """

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.file = None
        settings = connection.settings_dict
        if connection.vendor == "postgresql":
            auth = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
            self.url = (f"postgres://{auth}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/"
                        f"{settings['NAME']}")
        elif connection.vendor == "sqlite":
            self.file = tmp / "handoff.sqlite3"
            self.url = f"sqlite:///{self.file}"
        else:
            pytest.skip(f"no handoff for {connection.vendor}")

    def __enter__(self):
        if self.file is not None:
            connection.ensure_connection()
            target = sqlite3.connect(self.file)
            connection.connection.backup(target)
            target.close()
        return self

    def __exit__(self, *exc):
        if self.file is not None:
            source = sqlite3.connect(self.file)  # replays the committed WAL, drops what the dead child left open
            source.backup(connection.connection)
            source.close()

    def run_until_hang_then_kill(self, *args: str) -> float:
        marker = self.tmp / "arrived"
        env = {**os.environ, "DATABASE_URL": self.url, "DJANGO_SETTINGS_MODULE": "workpro_site.settings.test",
               "PYTHONPATH": str(ROOT)}
        env.pop("REDIS_URL", None)
        started = time.monotonic()
        child = subprocess.Popen([sys.executable, "-m", "tests.fault_child", args[0], str(marker), *args[1:]],
                                 cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            while not marker.exists():
                if child.poll() is not None:
                    pytest.fail(f"worker stand-in ended by itself: {child.stdout.read().decode()[-2000:]}")
                if time.monotonic() - started > 25:
                    pytest.skip("the worker stand-in did not reach the hang within 25 s (machine too busy)")
                time.sleep(0.05)
            os.kill(child.pid, signal.SIGKILL)
            assert child.wait(timeout=10) == -signal.SIGKILL
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            child.stdout.close()
        return time.monotonic() - started


@pytest.fixture
def handoff_dir():
    with tempfile.TemporaryDirectory(prefix="workpro-fault-") as tmp:
        yield Path(tmp)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_killed_between_claim_and_send_the_sweep_sends_once(smtp, handoff_dir):
    # The row as queue_mail() writes it; its delivery task went to the worker that is about to die.
    message_id = OutboxMessage.objects.create(channel="mail", recipient="empfaenger0@example.org",
                                              template="email_changed",
                                              context={"first_name": "Nr. 0", "new_email": "neu@example.org"}).pk
    with _Handoff(handoff_dir) as handoff:
        seconds = handoff.run_until_hang_then_kill("deliver", str(message_id))
    row = OutboxMessage.objects.get(pk=message_id)
    assert (row.state, row.attempts) == ("sending", 1) and row.claimed_at is not None
    assert smtp.messages == []

    now = timezone.now()
    assert _sweep_at(now + timedelta(minutes=5)) == 0  # a fresh claim may belong to a live worker
    assert notify.deliver(message_id) is False  # a duplicate of the task cannot take the claim either
    assert _sweep_at(now + timedelta(minutes=11)) == 1  # stale claim released, re-queued, sent
    assert _sweep_at(now + timedelta(minutes=20)) == 0
    row.refresh_from_db()
    print(f"\nworker killed after claim (after {seconds:.1f} s): state={row.state} attempts={row.attempts} "
          f"delivered={len(smtp.messages)} duplicated={len(smtp.messages) - len(set(smtp.message_ids()))}")
    assert (row.state, row.attempts) == ("sent", 2)
    assert len(smtp.messages) == 1 and smtp.messages[0]["To"] == "empfaenger0@example.org"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_killed_inside_a_transition_the_retry_applies_it_once(world, handoff_dir):
    enrollment = enrollment_in(S.ANGEBOT, offer=world.offer, institution=world.kita, holder=world.holder,
                               for_transition="expire")
    with _Handoff(handoff_dir) as handoff:
        seconds = handoff.run_until_hang_then_kill("expire")
    enrollment.refresh_from_db()
    assert enrollment.status == S.ANGEBOT  # the dead worker's transaction was rolled back
    assert not EnrollmentLog.objects.filter(enrollment=enrollment).exists()

    first, second = expire_overdue_offers(), expire_overdue_offers()  # the retried task, and once more
    enrollment.refresh_from_db()
    logs = EnrollmentLog.objects.filter(enrollment=enrollment, action="workpro.enrollment.expired").count()
    mails = OutboxMessage.objects.filter(template="enrollment_event", context__event="expired").count()
    print(f"\nworker killed inside the expiry (after {seconds:.1f} s): retry applied {first}, "
          f"second run applied {second}; status={enrollment.status} log entries={logs} mails={mails}")
    assert (first, second) == (1, 0)
    assert (enrollment.status, logs, mails) == (S.ABGELAUFEN, 1, 1)
    assert len(mail.outbox) == 1  # delivered after the commit, once
