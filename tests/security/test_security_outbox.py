"""Issue #15, the outbox:

- an issued password (or a confirmation link) is never kept longer than its validity of 72 hours:
  removed once sent, removed when the row fails for good, and a row not sent within the validity
  is not sent at all: it is marked failed and loses the secret;
- delivery is at least once (a worker killed mid-send leaves the row to be sent again): every
  outbox mail carries a stable Message-ID, the same on every attempt and different per row, so
  mail clients drop the duplicate.
"""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from tests.security_figures import note
from workpro_plugin.models import ISSUED_PASSWORD_VALIDITY, OutboxMessage
from workpro_plugin.services import notify

pytestmark = pytest.mark.django_db
SECRET = "k7mq-4rtp-9wx2"


class WorkerKilled(BaseException):
    """What a killed worker looks like to deliver(): nothing after the send runs."""


class RecordingBackend:
    """Records every mail handed to it; `plan` says per attempt: "ok", "fail" (an SMTP error),
    or "die" (the mail went out, then the worker was killed before it could mark the row)."""

    plan: list = []
    attempts: list = []

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        step = RecordingBackend.plan.pop(0) if RecordingBackend.plan else "ok"
        if step == "fail":
            raise ConnectionRefusedError("SMTP down")
        RecordingBackend.attempts.extend(m.message() for m in messages)
        if step == "die":
            raise WorkerKilled
        return len(messages)


@pytest.fixture
def backend(settings):
    settings.EMAIL_BACKEND = f"{__name__}.RecordingBackend"
    RecordingBackend.plan, RecordingBackend.attempts = [], []
    return RecordingBackend


def _password_mail(**kwargs):
    return notify.queue_mail(to="eva@example.org", template="registration_welcome", secret_keys=("password",),
                             context={"first_name": "Eva", "last_name": "Muster", "offer_title": "Krippenplatz",
                                      "email": "eva@example.org", "password": SECRET, "login_url": "/l/",
                                      "password_request_url": "/p/"}, **kwargs)


def _assert_secret_gone(message: OutboxMessage) -> None:
    message.refresh_from_db()
    assert SECRET not in str(message.context) and "password" not in message.context
    assert message.context["first_name"] == "Eva"  # the rest stays as the record of the mail


# --- secrets never outlive their validity -----------------------------------------------------

def test_a_sent_password_mail_keeps_no_password():
    message = _password_mail()
    assert notify.deliver(message.pk) is True
    _assert_secret_gone(message)
    assert SECRET in mail.outbox[0].body


def test_a_row_that_fails_for_good_loses_the_password_at_once(backend, settings):
    settings.WORKPRO_OUTBOX_MAX_ATTEMPTS = 2
    backend.plan = ["fail", "fail"]
    message = _password_mail()
    notify.deliver(message.pk)
    message.refresh_from_db()
    assert message.state == "pending" and message.context["password"] == SECRET  # still worth a retry
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        notify.deliver(message.pk)
    message.refresh_from_db()
    assert message.state == "failed" and "SMTP down" in message.last_error
    _assert_secret_gone(message)


def test_a_row_still_retrying_when_the_password_expires_is_failed_without_it(backend):
    backend.plan = ["fail"] * 20
    message = _password_mail()
    notify.deliver(message.pk)
    with time_machine.travel(timezone.now() + ISSUED_PASSWORD_VALIDITY - timedelta(minutes=1)):
        notify.sweep()
        message.refresh_from_db()
        assert message.state == "pending" and message.context["password"] == SECRET
    backend.plan = []  # the mail server is back, but too late: the password is no longer valid
    with time_machine.travel(timezone.now() + ISSUED_PASSWORD_VALIDITY + timedelta(minutes=1)):
        assert notify.sweep() == 0
    message.refresh_from_db()
    assert message.state == "failed" and message.last_error == notify.SECRET_EXPIRED_ERROR
    _assert_secret_gone(message)
    assert backend.attempts == []


def test_a_late_task_does_not_send_an_expired_password(backend):
    message = _password_mail()
    with time_machine.travel(timezone.now() + ISSUED_PASSWORD_VALIDITY + timedelta(seconds=1)):
        assert notify.deliver(message.pk) is False
    message.refresh_from_db()
    assert message.state == "failed"
    _assert_secret_gone(message)
    assert backend.attempts == []


def test_a_row_of_a_dead_worker_past_the_validity_is_failed_without_it(backend):
    message = _password_mail()
    OutboxMessage.objects.filter(pk=message.pk).update(state="sending", claimed_at=timezone.now())
    with time_machine.travel(timezone.now() + ISSUED_PASSWORD_VALIDITY + timedelta(minutes=20)):
        notify.sweep()
    message.refresh_from_db()
    assert message.state == "failed"
    _assert_secret_gone(message)
    assert backend.attempts == []


def test_an_sms_password_past_its_validity_is_removed(sms_outbox):
    message = notify.queue_sms(to="+4915123456789", template="password_issued", secret_keys=("password",),
                               context={"password": SECRET, "email": "eva@example.org"})
    with time_machine.travel(timezone.now() + ISSUED_PASSWORD_VALIDITY + timedelta(minutes=1)):
        notify.sweep()
    message.refresh_from_db()
    assert message.state == "failed" and message.context == {"email": "eva@example.org"}
    assert sms_outbox == []


def test_no_outbox_row_keeps_a_secret_past_its_validity(backend, sms_outbox):
    """Every way a row can end up (sent, failed, retrying, abandoned by a worker, never tried):
    after 72 hours and one sweep no row holds a secret."""
    backend.plan = ["ok", "fail", "fail", "fail"]
    rows = [_password_mail() for _ in range(4)]
    for row in rows[:2]:
        notify.deliver(row.pk)  # sent; failed once (retrying)
    OutboxMessage.objects.filter(pk=rows[2].pk).update(state="sending", claimed_at=timezone.now())
    OutboxMessage.objects.filter(pk=rows[3].pk).update(state="failed")  # an old failure from before
    with time_machine.travel(timezone.now() + ISSUED_PASSWORD_VALIDITY + timedelta(minutes=15)):
        notify.sweep()
    leaking = [r.pk for r in OutboxMessage.objects.all() if SECRET in str(r.context)]
    note("outbox: rows checked for a password after 72 hours / still holding one",
         f"{OutboxMessage.objects.count()}/{len(leaking)}")
    assert leaking == []


# --- a stable Message-ID ---------------------------------------------------------------------

def test_a_retry_after_a_killed_worker_sends_the_same_message_id(backend):
    """The incident: the mail went out, the worker died before marking the row; the sweep sends it
    again. Both copies carry one Message-ID, so the recipient's client shows it once."""
    backend.plan = ["die"]
    message = _password_mail()
    with pytest.raises(WorkerKilled):
        notify.deliver(message.pk)
    message.refresh_from_db()
    assert message.state == "sending"
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        assert notify.sweep() == 1  # sync mode: delivered again
    message.refresh_from_db()
    assert message.state == "sent"
    ids = {m["Message-ID"] for m in backend.attempts}
    note("outbox: deliveries of one row after a killed worker / distinct Message-IDs",
         f"{len(backend.attempts)}/{len(ids)}")
    assert len(backend.attempts) == 2 and ids == {notify.message_id(message)}


def test_message_ids_are_stable_per_row_and_differ_between_rows(backend, settings):
    settings.DEFAULT_FROM_EMAIL = "WorkPro <noreply@workpro.example.org>"
    backend.plan = ["fail", "ok", "ok"]
    first, other = _password_mail(), _password_mail()
    notify.deliver(first.pk)
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        notify.deliver(first.pk)
        notify.deliver(other.pk)
    ids = [m["Message-ID"] for m in backend.attempts]
    assert len(ids) == 2 and ids[0] != ids[1]
    first.refresh_from_db()
    assert ids[0] == notify.message_id(first) == notify.message_id(OutboxMessage.objects.get(pk=first.pk))
    assert ids[0].startswith(f"<workpro.outbox.{first.pk}.") and ids[0].endswith("@workpro.example.org>")
    rendered = notify.render_mail(first).message()["Message-ID"]
    assert rendered == ids[0]


def test_the_message_id_domain_can_be_set(settings):
    settings.WORKPRO_MESSAGE_ID_DOMAIN = "mail.traeger.example"
    message = _password_mail()
    assert notify.message_id(message).endswith("@mail.traeger.example>")
    notify.deliver(message.pk)
    assert mail.outbox[0].message()["Message-ID"] == notify.message_id(message)
