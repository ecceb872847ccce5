"""The outbox: sent once, retried with backoff, swept when a task was lost; SMS backends."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from workpro_plugin.lib.phones import format_phone, normalize_phone
from workpro_plugin.models import OutboxMessage
from workpro_plugin.services import notify
from workpro_plugin.sms import SmsMessage
from workpro_plugin.sms.backends.http import SmsBackend as HttpSmsBackend
from workpro_plugin.sms.backends.http import SmsGatewayError

pytestmark = pytest.mark.django_db


def _queue(**kwargs):
    defaults = {"to": "eva@example.org", "template": "email_changed",
                "context": {"first_name": "Eva", "new_email": "neu@example.org"}}
    defaults.update(kwargs)
    return notify.queue_mail(**defaults)


def test_mail_is_sent_only_after_commit(run_on_commit):
    with run_on_commit() as callbacks:
        message = _queue()
        assert mail.outbox == []  # nothing leaves before the transaction commits
    assert len(callbacks) == 1
    message.refresh_from_db()
    assert message.state == "sent" and message.attempts == 1
    assert len(mail.outbox) == 1 and "neu@example.org" in mail.outbox[0].body


def test_rolled_back_change_sends_nothing(run_on_commit):
    from django.db import transaction

    with run_on_commit():
        try:
            with transaction.atomic():
                _queue()
                raise RuntimeError("the change failed")
        except RuntimeError:
            pass
    assert mail.outbox == []
    assert not OutboxMessage.objects.exists()


def test_delivery_is_idempotent():
    message = _queue()
    assert notify.deliver(message.pk) is True
    assert notify.deliver(message.pk) is False  # a duplicate task (or the sweep) sends nothing
    assert len(mail.outbox) == 1


class FlakyBackend:
    """A mail backend that fails a given number of times, then accepts."""

    failures = 0
    sent: list = []

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise ConnectionRefusedError("SMTP down")
        FlakyBackend.sent.extend(messages)
        return len(messages)


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.sent = []
    return FlakyBackend


def test_failure_is_retried_with_backoff_then_delivered_once(flaky):
    flaky.failures = 2
    message = _queue()
    start = timezone.now()
    assert notify.deliver(message.pk) is False
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("pending", 1)
    assert "SMTP down" in message.last_error
    assert message.next_attempt_at >= start + timedelta(seconds=60)
    assert notify.sweep() == 0  # not due yet
    with time_machine.travel(start + timedelta(minutes=2)):
        assert notify.sweep() == 1  # the sweep queues it; sync mode delivers: fails again
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("pending", 2)
    with time_machine.travel(start + timedelta(minutes=30)):
        notify.sweep()
        notify.sweep()
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("sent", 3)
    assert len(flaky.sent) == 1


def test_gives_up_after_max_attempts(flaky, settings):
    settings.WORKPRO_OUTBOX_MAX_ATTEMPTS = 2
    flaky.failures = 10
    message = _queue()
    notify.deliver(message.pk)
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        notify.deliver(message.pk)
        message.refresh_from_db()
        assert (message.state, message.attempts) == ("failed", 2)
        assert notify.sweep() == 0
    assert flaky.sent == []


def test_sweep_releases_rows_of_a_worker_that_died():
    message = _queue()
    OutboxMessage.objects.filter(pk=message.pk).update(state="sending", claimed_at=timezone.now())
    assert notify.sweep() == 0  # a fresh claim belongs to a live worker
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        assert notify.sweep() == 1
    message.refresh_from_db()
    assert message.state == "sent"
    assert len(mail.outbox) == 1


def test_mail_has_text_and_html_and_the_institution_as_sender(make_institution):
    kita = make_institution("kita")
    kita.email = "info@kita.test"
    kita.save()
    message = _queue(institution=kita)
    notify.deliver(message.pk)
    sent = mail.outbox[0]
    assert sent.from_email == "Kita <noreply@workpro.localhost>"
    assert sent.reply_to == ["info@kita.test"]
    assert sent.alternatives[0][1] == "text/html"
    assert "\n" not in sent.subject


def test_sms_goes_through_the_outbox(sms_outbox):
    message = notify.queue_sms(to="+4915123456789", template="password_issued",
                               context={"password": "abcd-efgh-jkmn", "email": "a@b.de"}, secret_keys=("password",))
    notify.deliver(message.pk)
    assert sms_outbox[0].to == "+4915123456789"
    assert "abcd-efgh-jkmn" in sms_outbox[0].body
    message.refresh_from_db()
    assert "password" not in message.context and message.state == "sent"


# --- SMS HTTP gateway against a local server -----------------------------------------------

class _Gateway(BaseHTTPRequestHandler):
    status = 200
    received: list = []

    def do_POST(self):  # noqa: N802
        length = int(self.headers["Content-Length"])
        _Gateway.received.append({"auth": self.headers["Authorization"], "body": json.loads(self.rfile.read(length))})
        self.send_response(_Gateway.status)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    _Gateway.received, _Gateway.status = [], 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sms", _Gateway
    server.shutdown()
    server.server_close()


def test_http_gateway_posts_json_with_token(gateway):
    url, handler = gateway
    backend = HttpSmsBackend(url=url, token="geheim", sender="KiTa")
    assert backend.send_messages([SmsMessage(to="+4915123456789", body="Hallo")]) == 1
    assert handler.received == [{"auth": "Bearer geheim",
                                 "body": {"to": "+4915123456789", "text": "Hallo", "sender": "KiTa"}}]


def test_http_gateway_errors_raise_so_the_outbox_retries(gateway, settings):
    url, handler = gateway
    handler.status = 503
    with pytest.raises(SmsGatewayError, match="503"):
        HttpSmsBackend(url=url, token="t").send_messages([SmsMessage(to="+49151", body="x")])
    with pytest.raises(SmsGatewayError, match="unreachable"):
        HttpSmsBackend(url="http://127.0.0.1:9/none", token="t", timeout=2).send_messages(
            [SmsMessage(to="+49151", body="x")])

    handler.received.clear()
    settings.WORKPRO_SMS_BACKEND = "workpro_plugin.sms.backends.http.SmsBackend"
    settings.WORKPRO_SMS_GATEWAY_URL = url
    message = notify.queue_sms(to="+4915123456789", template="password_issued",
                               context={"password": "p", "email": "e"})
    assert notify.deliver(message.pk) is False
    message.refresh_from_db()
    assert message.state == "pending" and "503" in message.last_error
    handler.status = 200
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert notify.deliver(message.pk) is True
    assert len(handler.received) == 2  # one refused, one accepted: sent exactly once


def test_file_backend_writes_messages(tmp_path):
    from workpro_plugin.sms.backends.file import SmsBackend

    SmsBackend(path=tmp_path).send_messages([SmsMessage(to="+49151", body="Hallo Datei")])
    assert "Hallo Datei" in next(tmp_path.iterdir()).read_text()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0151 23456789", "+4915123456789"), ("+49 (151) 234-56789", "+4915123456789"),
     ("0049 151 23456789", "+4915123456789"), ("0341 1234567", "+493411234567")],
)
def test_phone_numbers_are_normalised(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12", "abc", "0151", "+1 555"])
def test_invalid_phone_numbers_are_refused_in_german(raw):
    with pytest.raises(ValidationError, match="gültige Telefonnummer"):
        normalize_phone(raw)


def test_landline_is_not_a_mobile():
    with pytest.raises(ValidationError, match="Handynummer"):
        normalize_phone("0341 1234567", mobile=True)
    assert format_phone("+4915123456789") == "+49 1512 3456789"


@pytest.mark.django_db
def test_enrollment_mail_is_in_the_recipients_language(world, run_on_commit):
    """The event texts (subject, paragraphs) follow the holder's language, not the server's."""
    from tests.factories import enrollment_in
    from workpro_plugin.services.enrollments import notify as notify_event

    person = world.holder.workpro_person
    person.language = "en"
    person.save()
    enrollment = enrollment_in("bewerber", offer=world.offer, institution=world.kita, holder=world.holder)
    with run_on_commit():
        notify_event(enrollment, "submitted")
    sent = mail.outbox[-1]
    assert "Anmeldung eingegangen" not in sent.subject and "ist bei uns eingegangen" not in sent.body
