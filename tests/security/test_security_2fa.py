"""Two-factor authentication (django-otp TOTP) for everyone with access to the Wagtail admin."""

import base64
import re
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.test import Client, override_settings
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import enrollment_in, open_two_factor_enrolment, two_factor_link
from tests.helpers import HOST
from tests.security_figures import add, note
from workpro_plugin.backoffice.views.two_factor import ENROLMENT_KEY
from workpro_plugin.models import (
    AuditEvent,
    Document,
    Enrollment,
    OutboxMessage,
    TwoFactorEnrolment,
)
from workpro_plugin.services.notify import render_mail

pytestmark = pytest.mark.django_db
SETUP = "/admin/workpro/zwei-faktor/einrichten/"
VERIFY = "/admin/workpro/zwei-faktor/code/"
MANAGE = "/admin/workpro/zwei-faktor/"
LINK_REQUEST = "/admin/workpro/zwei-faktor/link-anfordern/"
LINK_BASE = "/admin/workpro/zwei-faktor/link/"
RECOVERY = "/admin/workpro/zwei-faktor/wiederherstellungscodes/"
required = override_settings(WORKPRO_REQUIRE_STAFF_2FA=True)


def code(device: TOTPDevice, offset: int = 0) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift + offset):06d}"


def wrong_code(device: TOTPDevice) -> str:
    """Six digits that no code around the current (travelled) time matches: a code computed once and
    shifted by a constant is, by chance, one of the accepted neighbours about once in 300,000 tries
    (it was, in CI)."""
    near = {code(device, offset) for offset in range(-3, 4)}
    return next(token for token in (f"{(int(code(device)) + n) % 1_000_000:06d}" for n in range(1, 9))
                if token not in near)


def confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="WorkPro", confirmed=True)


@required
def test_staff_without_device_is_sent_to_setup_which_shows_no_secret(world, client):
    """The password alone does not show a QR code: that was first come, first enrolled."""
    client.force_login(world.staff)
    response = client.get("/admin/pages/", **HOST)
    assert response.status_code == 302
    target = urlparse(response["Location"])
    assert target.path == SETUP
    add("2FA gate redirects asserted")
    assert parse_qs(target.query)["next"] == ["/admin/pages/"]
    page = client.get(response["Location"], **HOST)
    assert page.status_code == 200
    soup = BeautifulSoup(page.content, "html.parser")
    assert soup.select_one("img.workpro-2fa-qr") is None and soup.select_one(".workpro-2fa-secret") is None
    assert not TOTPDevice.objects.filter(user=world.staff).exists()
    form = soup.select_one("form.workpro-2fa-request")
    assert form.select_one("button").get_text() == "Einrichtungslink senden"
    assert "Der Link geht an l***@kita.test." in form.get_text()  # masked, outside the button (no overflow)
    # A code posted without an opened link sets nothing up.
    refused = client.post(SETUP, {"token": "123456"}, **HOST)
    assert refused.status_code == 400
    assert not TOTPDevice.objects.filter(user=world.staff).exists()


@required
def test_enrolment_by_the_mailed_link_end_to_end(world, client):
    client.force_login(world.caseworker)
    sent = client.post(LINK_REQUEST, {"next": "/admin/pages/"}, **HOST)
    assert sent.status_code == 302 and urlparse(sent["Location"]).path == SETUP
    assert parse_qs(urlparse(sent["Location"]).query)["next"] == ["/admin/pages/"]
    mail = OutboxMessage.objects.get(template="two_factor_enrolment")
    assert mail.recipient == world.caseworker.email
    rendered = render_mail(mail)
    link = two_factor_link(world.caseworker)
    assert rendered.subject == "Ihr Link zum Einrichten der Zwei-Faktor-Authentifizierung"
    assert f"http://testserver{link}" in rendered.body and "Er gilt 24 Stunden und nur einmal" in rendered.body
    assert "Wir haben Ihnen einen Link an s***@kita.test geschickt" in client.get(sent["Location"], **HOST).content.decode()
    enrolment = TwoFactorEnrolment.objects.get(user=world.caseworker)
    assert link.rstrip("/").rsplit("/", 1)[1] not in enrolment.token_hash  # only a hash is stored

    # GET only asks (a mail scanner opening the link uses nothing up); POST opens it for this session.
    ask = client.get(link, **HOST)
    assert ask.status_code == 200 and "Weiter zum QR-Code" in ask.content.decode()
    assert not TOTPDevice.objects.filter(user=world.caseworker).exists()
    opened = client.post(link, **HOST)
    assert opened.status_code == 302 and opened["Location"] == SETUP
    page = client.get(SETUP + "?next=/admin/pages/", **HOST)
    soup = BeautifulSoup(page.content, "html.parser")
    assert soup.select_one("img.workpro-2fa-qr")["src"].startswith("data:image/svg+xml;base64,")
    device = TOTPDevice.objects.get(user=world.caseworker, confirmed=False)
    secret = soup.select_one(".workpro-2fa-secret").get_text().replace(" ", "")
    assert base64.b32decode(secret + "=" * (-len(secret) % 8)) == device.bin_key

    wrong = client.post(SETUP, {"token": wrong_code(device), "next": "/admin/pages/"},
                        **HOST)
    assert wrong.status_code == 400
    assert "Der Code ist nicht korrekt oder abgelaufen" in wrong.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get("/admin/", **HOST).status_code == 302  # still locked out of the admin

    with time_machine.travel(time.time() + 2, tick=False):  # django-otp throttles the next try for 1 s
        right = client.post(SETUP, {"token": code(device), "next": "/admin/pages/"}, **HOST)
        assert right.status_code == 302
        assert urlparse(right["Location"]).path == RECOVERY
        device.refresh_from_db()
        assert device.confirmed
        # The recovery codes are shown once, then only counted.
        shown = BeautifulSoup(client.get(right["Location"], **HOST).content, "html.parser")
        codes = [li.get_text() for li in shown.select(".workpro-2fa-codes li")]
        assert len(codes) == 10 and len(set(codes)) == 10
        assert all(re.fullmatch(r"[a-z2-7]{4}-[a-z2-7]{4}", c) for c in codes)
        assert shown.select_one("a.button[href='/admin/pages/']")
        again = client.get(RECOVERY, **HOST).content.decode()
        assert "workpro-2fa-codes" not in again and "noch 10 unbenutzte Wiederherstellungscodes" in again
        assert client.get("/admin/", **HOST).status_code == 200
    enrolment.refresh_from_db()
    assert enrolment.used_at and enrolment.completed_at
    actions = list(AuditEvent.objects.filter(actor=world.caseworker).values_list("action", flat=True))
    for action in ("auth.2fa_link_sent", "auth.2fa_failed", "auth.2fa_enabled", "auth.2fa_recovery_created"):
        assert action in actions, action
    add("2FA enrolments through the mailed link", 1)


@required
def test_the_password_without_the_mailbox_cannot_enrol(world, client):
    """An intruder with the password can ask for a link, but it goes to the staff mailbox; no guessed or
    session-forged way shows a secret or confirms a device."""
    intruder = client
    intruder.force_login(world.staff)
    intruder.post(LINK_REQUEST, **HOST)
    enrolment = TwoFactorEnrolment.objects.get(user=world.staff)
    tried = 0
    for guess in ("x" * 43, "A" * 43, enrolment.token_hash, str(enrolment.pk), "0"):
        response = intruder.post(f"{LINK_BASE}{guess}/", **HOST)
        tried += 1
        assert response.status_code == 400
        assert "Der Einrichtungslink ist ungültig." in response.content.decode()
    for forged in (enrolment.pk, enrolment.token_hash):  # what a session could hold without the mail
        session = intruder.session
        session[ENROLMENT_KEY] = forged
        session.save()
        page = intruder.get(SETUP, **HOST)
        tried += 1
        assert page.status_code == 200 and b"workpro-2fa-qr" not in page.content
        assert intruder.post(SETUP, {"token": "123456"}, **HOST).status_code == 400
    # The owner opens the link in their own browser: the intruder's session still sees nothing.
    owner = Client()
    owner.force_login(world.staff)
    assert owner.post(two_factor_link(world.staff), **HOST).status_code == 302
    assert b"workpro-2fa-qr" in owner.get(SETUP, **HOST).content
    assert b"workpro-2fa-qr" not in intruder.get(SETUP, **HOST).content
    assert intruder.post(SETUP, {"token": code(TOTPDevice.objects.get(user=world.staff))}, **HOST).status_code == 400
    assert not TOTPDevice.objects.filter(user=world.staff, confirmed=True).exists()
    note("2FA enrolment attempts without the mailed link (all refused)", tried)
    assert tried == 7


@required
def test_a_link_works_once(world, client):
    client.force_login(world.staff)
    link_device = open_two_factor_enrolment(client, world.staff, **HOST)
    link = two_factor_link(world.staff)
    for other in (client, Client()):
        other.force_login(world.staff)
        for method in ("get", "post"):
            replay = getattr(other, method)(link, **HOST)
            assert replay.status_code == 400
            assert "Der Einrichtungslink wurde bereits verwendet" in replay.content.decode()
    assert TOTPDevice.objects.get(user=world.staff, confirmed=False) == link_device  # no second secret
    client.post(SETUP, {"token": code(link_device)}, **HOST)
    assert TOTPDevice.objects.filter(user=world.staff, confirmed=True).exists()
    replay = client.post(link, **HOST)  # after enrolment: to the code page, nothing set up again
    assert replay.status_code == 302 and TOTPDevice.objects.filter(user=world.staff).count() == 1


@required
def test_an_expired_link_fails(world, client):
    client.force_login(world.staff)
    client.post(LINK_REQUEST, **HOST)
    link = two_factor_link(world.staff)
    with time_machine.travel(timezone.now() + timedelta(hours=24, seconds=1), tick=False):
        client.force_login(world.staff)  # the session may have ended meanwhile
        for method in ("get", "post"):
            response = getattr(client, method)(link, **HOST)
            assert response.status_code == 400
            assert "Der Einrichtungslink ist abgelaufen" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=world.staff).exists()
    with override_settings(WORKPRO_2FA_LINK_HOURS=2):
        client.post(LINK_REQUEST, **HOST)
        assert "Er gilt 2 Stunden" in render_mail(OutboxMessage.objects.filter(
            template="two_factor_enrolment").latest("pk")).body
        with time_machine.travel(timezone.now() + timedelta(hours=2, seconds=1), tick=False):
            client.force_login(world.staff)
            assert client.post(two_factor_link(world.staff), **HOST).status_code == 400


@required
def test_the_link_for_one_user_does_not_work_for_another(world, client):
    client.force_login(world.staff)
    client.post(LINK_REQUEST, **HOST)
    link = two_factor_link(world.staff)
    other = Client()
    other.force_login(world.caseworker)
    for method in ("get", "post"):
        response = getattr(other, method)(link, **HOST)
        assert response.status_code == 400
        assert "gehört zu einem anderen Konto" in response.content.decode()
    assert not TOTPDevice.objects.exists()
    anonymous = Client().get(link, **HOST)  # not logged in: to the login first, nothing used up
    assert anonymous.status_code == 302 and urlparse(anonymous["Location"]).path == "/admin/login/"
    assert client.post(link, **HOST).status_code == 302  # still good for its owner


@required
def test_a_new_link_voids_the_older_one_and_links_are_limited(world, client):
    client.force_login(world.staff)
    client.post(LINK_REQUEST, **HOST)
    first = two_factor_link(world.staff)
    client.post(LINK_REQUEST, **HOST)
    assert client.post(first, **HOST).status_code == 400
    client.post(LINK_REQUEST, **HOST)
    refused = client.post(LINK_REQUEST, follow=True, **HOST)
    assert "schon mehrere Links verschickt" in refused.content.decode()
    assert OutboxMessage.objects.filter(template="two_factor_enrolment").count() == 3
    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=1), tick=False):
        client.post(LINK_REQUEST, **HOST)
    assert OutboxMessage.objects.filter(template="two_factor_enrolment").count() == 4


@required
def test_staff_without_a_mail_address_are_told_whom_to_ask(world, client):
    world.staff.email = ""
    world.staff.save(update_fields=["email"])
    client.force_login(world.staff)
    page = client.get(SETUP, **HOST).content.decode()
    assert "Ihr Konto hat keine Mailadresse" in page and "workpro-2fa-request" not in page
    client.post(LINK_REQUEST, **HOST)
    assert not OutboxMessage.objects.exists() and not TwoFactorEnrolment.objects.exists()


def test_a_superuser_can_reset_and_send_a_new_link(world):
    from django.core.management import call_command

    confirmed_device(world.staff)
    call_command("workpro_reset_2fa", world.staff.username, "--link")
    assert not TOTPDevice.objects.filter(user=world.staff).exists()
    assert OutboxMessage.objects.get(template="two_factor_enrolment").recipient == world.staff.email
    event = AuditEvent.objects.get(action="auth.2fa_link_sent")
    assert event.actor is None and event.detail["by_other"] is True


@required
def test_staff_with_device_must_enter_a_code_once_per_login(world, client):
    device = confirmed_device(world.staff)
    client.force_login(world.staff)
    response = client.get("/admin/", **HOST)
    assert response.status_code == 302 and urlparse(response["Location"]).path == VERIFY
    add("2FA gate redirects asserted")
    assert client.get(SETUP, **HOST)["Location"].startswith(VERIFY)  # no second device behind the first

    wrong = client.post(VERIFY, {"token": "12345", "next": "/admin/"}, **HOST)
    assert wrong.status_code == 400
    assert "sechsstelligen Code" in wrong.content.decode()
    with time_machine.travel(time.time() + 2, tick=False):
        right = client.post(VERIFY, {"token": code(device), "next": "/admin/"}, **HOST)
        assert right.status_code == 302 and right["Location"] == "/admin/"
        assert client.get("/admin/", **HOST).status_code == 200
        # The same code cannot be used twice (replay), even in a new session.
        client.logout()
        client.force_login(world.staff)
        replay = client.post(VERIFY, {"token": code(device), "next": "/admin/"}, **HOST)
        assert replay.status_code == 400
        assert "Der Code ist nicht korrekt oder abgelaufen" in replay.content.decode()


@required
def test_verify_ignores_foreign_next_urls(world, client):
    device = confirmed_device(world.staff)
    client.force_login(world.staff)
    response = client.post(VERIFY, {"token": code(device), "next": "https://evil.example/"}, **HOST)
    assert response.status_code == 302 and response["Location"] == "/admin/"


@required
def test_superusers_are_gated_too(world, client):
    client.force_login(world.superuser)
    assert urlparse(client.get("/admin/", **HOST)["Location"]).path == SETUP


@required
def test_the_portal_is_not_gated(world, client):
    enrollment = Enrollment.objects.create(offer=world.offer, institution=world.kita, account_holder=world.holder,
                                           status=Enrollment.Status.INTERESSENT)
    client.force_login(world.holder)
    for url in ("/workpro/konto/", "/workpro/konto/daten/", f"/workpro/konto/anmeldung/{enrollment.pk}/"):
        assert client.get(url, **HOST).status_code == 200, url
    # Staff using the portal's public pages are not asked for a code either.
    client.force_login(world.staff)
    assert client.get("/", **HOST).status_code == 200
    assert client.get("/workpro/hilfe/", **HOST).status_code == 200


def test_staff_documents_need_the_second_factor_when_required(world, client):
    """Staff open documents through the portal's document view: that is staff work, so it is gated."""
    enrollment = enrollment_in(Enrollment.Status.ANGEBOT, offer=world.offer, institution=world.kita,
                               holder=world.holder)
    document = Document.objects.filter(enrollment=enrollment).first()
    url = f"/workpro/konto/dokumente/{document.pk}/"
    client.force_login(world.staff)
    assert client.get(url, **HOST).status_code == 200  # optional: no device, no question
    with required:
        assert client.get(url, **HOST).status_code == 404
        device = confirmed_device(world.staff)
        client.post(VERIFY, {"token": code(device)}, **HOST)
        assert client.get(url, **HOST).status_code == 200
    client.force_login(world.holder)  # the account holder never needs a second factor
    with required:
        assert client.get(url, **HOST).status_code == 200


def test_optional_2fa_lets_staff_in_but_asks_those_who_set_it_up(world, client):
    client.force_login(world.staff)
    assert client.get("/admin/", **HOST).status_code == 200
    account = client.get("/admin/account/", **HOST)
    assert MANAGE in account.content.decode()
    page = client.get(MANAGE, **HOST)
    assert "nicht eingerichtet" in page.content.decode()

    device = open_two_factor_enrolment(client, world.staff, **HOST)
    assert client.post(SETUP, {"token": code(device)}, **HOST).status_code == 302
    client.logout()
    client.force_login(world.staff)
    assert urlparse(client.get("/admin/", **HOST)["Location"]).path == VERIFY

    # Switching it off needs a current code, and is refused while the setting requires 2FA.
    with time_machine.travel(time.time() + 31, tick=False):
        client.post(VERIFY, {"token": code(device)}, **HOST)
        with required:
            client.post(MANAGE, {"token": code(device)}, **HOST)
            assert TOTPDevice.objects.filter(user=world.staff).exists()
    with time_machine.travel(time.time() + 61, tick=False):
        assert client.post(MANAGE, {"token": code(device)}, **HOST).status_code == 302
    assert not TOTPDevice.objects.filter(user=world.staff).exists()
    assert not StaticDevice.objects.filter(user=world.staff).exists()  # the recovery codes went with it
    assert AuditEvent.objects.filter(actor=world.staff, action="auth.2fa_disabled").exists()


def test_the_admin_login_then_code_flow_end_to_end(world, client):
    world.staff.set_password("Leitung-Passwort-1")
    world.staff.save()
    device = confirmed_device(world.staff)
    with required:
        response = client.post("/admin/login/", {"username": world.staff.username, "password": "Leitung-Passwort-1",
                                                 "next": "/admin/"}, **HOST)
        assert response.status_code == 302
        gate = client.get("/admin/", **HOST)
        assert urlparse(gate["Location"]).path == VERIFY
        done = client.post(VERIFY, {"token": code(device), "next": "/admin/"}, **HOST)
        assert done["Location"] == "/admin/"
        assert client.get("/admin/", **HOST).status_code == 200
    verified = AuditEvent.objects.filter(action="auth.2fa_verified", actor=world.staff).count()
    assert verified == 1
    add("2FA logins verified end to end", verified)


def test_an_administrator_can_reset_a_lost_second_factor(world):
    from django.core.management import call_command

    confirmed_device(world.staff)
    call_command("workpro_reset_2fa", world.staff.username.upper())
    assert not TOTPDevice.objects.filter(user=world.staff).exists()
    assert AuditEvent.objects.filter(action="auth.2fa_disabled", object_id=str(world.staff.pk)).exists()


def _enrolled_with_codes(client, user) -> tuple[TOTPDevice, list[str]]:
    client.force_login(user)
    device = open_two_factor_enrolment(client, user, **HOST)
    done = client.post(SETUP, {"token": code(device)}, **HOST)
    soup = BeautifulSoup(client.get(done["Location"], **HOST).content, "html.parser")
    device.refresh_from_db()
    return device, [li.get_text() for li in soup.select(".workpro-2fa-codes li")]


@required
def test_a_recovery_code_replaces_the_app_once(world, client):
    device, codes = _enrolled_with_codes(client, world.staff)
    client.logout()
    client.force_login(world.staff)
    used = client.post(VERIFY, {"token": codes[3].upper().replace("-", " "), "next": "/admin/"}, **HOST)
    assert used.status_code == 302 and used["Location"] == "/admin/"
    page = client.get(used["Location"], **HOST)
    assert page.status_code == 200
    assert "Sie haben sich mit einem Wiederherstellungscode angemeldet; es bleiben noch 9 Codes." in page.content.decode()
    event = AuditEvent.objects.get(action="auth.2fa_recovery_used")
    assert event.actor == world.staff and event.detail == {"left": 9}
    client.logout()
    client.force_login(world.staff)
    with time_machine.travel(time.time() + 2, tick=False):
        replay = client.post(VERIFY, {"token": codes[3]}, **HOST)
        assert replay.status_code == 400
        assert "Dieser Wiederherstellungscode ist nicht gültig oder wurde schon verwendet." in replay.content.decode()
        assert client.get("/admin/", **HOST).status_code == 302
    with time_machine.travel(time.time() + 5, tick=False):
        assert client.post(VERIFY, {"token": codes[4]}, **HOST).status_code == 302
    assert StaticDevice.objects.get(user=world.staff).token_set.count() == 8
    add("2FA recovery codes tried", 3)


@required
def test_recovery_codes_are_renewed_only_while_verified(world, client):
    device, old = _enrolled_with_codes(client, world.staff)
    page = client.get(MANAGE, **HOST).content.decode()
    assert "Wiederherstellungscodes: noch 10 unbenutzt." in page and RECOVERY in page
    renewed = client.post(RECOVERY, {"next": "/admin/"}, **HOST)
    assert renewed.status_code == 302
    new = [li.get_text() for li in BeautifulSoup(client.get(renewed["Location"], **HOST).content,
                                                  "html.parser").select(".workpro-2fa-codes li")]
    assert len(new) == 10 and not set(new) & set(old)
    assert AuditEvent.objects.filter(action="auth.2fa_recovery_created", actor=world.staff).count() == 2
    client.logout()
    client.force_login(world.staff)
    # Not verified yet: the middleware sends the request to the code page; nothing is renewed.
    refused = client.post(RECOVERY, **HOST)
    assert refused.status_code == 302 and urlparse(refused["Location"]).path == VERIFY
    assert AuditEvent.objects.filter(action="auth.2fa_recovery_created").count() == 2
    with time_machine.travel(time.time() + 2, tick=False):
        assert client.post(VERIFY, {"token": old[0]}, **HOST).status_code == 400  # the old set is void
    with time_machine.travel(time.time() + 5, tick=False):
        assert client.post(VERIFY, {"token": new[0]}, **HOST).status_code == 302


@required
def test_wrong_codes_never_lock_out_for_good(world, client):
    """django-otp doubles the wait after every wrong code without limit (after 30 wrong codes in a row it
    would be 17 years); the wait is capped at WORKPRO_2FA_LOCKOUT_MAX_SECONDS, and the page says until when."""
    device = confirmed_device(world.staff)
    client.force_login(world.staff)
    start = timezone.now()
    failures, longest = 30, timedelta(0)
    with time_machine.travel(start, tick=False) as clock:
        for attempt in range(1, failures + 1):
            response = client.post(VERIFY, {"token": wrong_code(device)}, **HOST)
            assert response.status_code == 400
            assert "Der Code ist nicht korrekt oder abgelaufen" in response.content.decode()
            device.refresh_from_db()
            assert device.throttling_failure_count == attempt  # the code was checked: the lock had ended
            if attempt < failures:  # wait for the lock to end: django-otp's wait, at most the cap
                allowed, info = device.verify_is_allowed()
                assert not allowed
                wait = min(info["locked_until"] - timezone.now(), timedelta(minutes=15)) + timedelta(seconds=1)
                longest = max(longest, wait)
                clock.shift(wait)
        django_otp_wait = timedelta(seconds=2 ** (failures - 1))
        assert django_otp_wait > timedelta(days=365)  # what django-otp alone would demand now
        # Within the cap even the right code is refused, with the time to try again.
        clock.shift(timedelta(minutes=10))
        locked = client.post(VERIFY, {"token": code(device), "next": "/admin/"}, **HOST)
        assert locked.status_code == 400
        retry_at = timezone.localtime(device.throttling_failure_timestamp + timedelta(minutes=15))
        assert f"Sie können es ab {retry_at:%H:%M} Uhr erneut versuchen." in locked.content.decode()
        clock.shift(timedelta(minutes=5, seconds=1))
        accepted = client.post(VERIFY, {"token": code(device), "next": "/admin/"}, **HOST)
        assert accepted.status_code == 302 and accepted["Location"] == "/admin/"
    device.refresh_from_db()
    assert device.throttling_failure_count == 0
    note("2FA wrong codes in a row before a correct code still works", failures)
    note("2FA longest lock-out (seconds)", int(longest.total_seconds()))
    assert longest == timedelta(minutes=15, seconds=1)


@required
def test_a_short_lock_out_says_how_many_seconds(world, client):
    device = confirmed_device(world.staff)
    client.force_login(world.staff)
    with time_machine.travel(timezone.now(), tick=False):
        for token in ("000000", "000001", "000002"):
            response = client.post(VERIFY, {"token": token if token != code(device) else "999999"}, **HOST)
        assert response.status_code == 400
        assert "Bitte warten Sie 1 Sekunde und versuchen Sie es dann erneut." in response.content.decode()
    with override_settings(WORKPRO_2FA_LOCKOUT_MAX_SECONDS=60):
        device.throttling_failure_count = 40
        device.throttling_failure_timestamp = timezone.now()
        device.save()
        with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
            assert client.post(VERIFY, {"token": code(device)}, **HOST).status_code == 302


def test_a_leitung_can_send_colleagues_the_link_but_never_use_it(world, client):
    staff_page = "/admin/workpro/zwei-faktor/mitarbeiter/"
    client.force_login(world.staff)  # Leitung of the KiTa
    assert staff_page in client.get(MANAGE, **HOST).content.decode()
    listing = client.get(staff_page, **HOST)
    assert listing.status_code == 200
    text = listing.content.decode()
    assert world.caseworker.email in text and world.other_staff.email not in text  # only their institutions
    sent = client.post(f"{staff_page}{world.caseworker.pk}/link/", **HOST)
    assert sent.status_code == 302
    mail = OutboxMessage.objects.get(template="two_factor_enrolment")
    assert mail.recipient == world.caseworker.email  # to the colleague's own address, never the sender's
    event = AuditEvent.objects.get(action="auth.2fa_link_sent")
    assert event.actor == world.staff and event.detail == {"user": world.caseworker.pk, "by_other": True}
    link = two_factor_link(world.caseworker)
    refused = client.post(link, **HOST)  # the sender cannot use it
    assert refused.status_code == 400 and "gehört zu einem anderen Konto" in refused.content.decode()
    assert client.post(f"{staff_page}{world.other_staff.pk}/link/", **HOST).status_code == 404
    colleague = Client()
    colleague.force_login(world.caseworker)
    assert colleague.post(link, **HOST).status_code == 302
    # Sachbearbeitung may not send links to others.
    denied = colleague.get(staff_page, **HOST)
    assert denied.status_code == 302 and urlparse(denied["Location"]).path == "/admin/"
    assert colleague.post(f"{staff_page}{world.staff.pk}/link/", **HOST).status_code == 302
    assert OutboxMessage.objects.filter(template="two_factor_enrolment").count() == 1


def test_old_link_rows_do_not_pile_up(world):
    from workpro_plugin.services import two_factor

    start = timezone.now()
    two_factor.enrolment_request(user=world.staff, by=world.staff)
    with time_machine.travel(start + timedelta(days=10), tick=False):
        two_factor.enrolment_request(user=world.staff, by=world.staff)
    with time_machine.travel(start + timedelta(days=32), tick=False):
        two_factor.enrolment_request(user=world.staff, by=world.staff)
    assert TwoFactorEnrolment.objects.filter(user=world.staff).count() == 2  # the first is gone
