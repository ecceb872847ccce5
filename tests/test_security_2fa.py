"""Two-factor authentication (django-otp TOTP) for everyone with access to the Wagtail admin."""

import time
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.test import override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import enrollment_in
from tests.security_figures import add
from workpro_plugin.models import AuditEvent, Document, Enrollment

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "kita.test"}
SETUP = "/admin/workpro/zwei-faktor/einrichten/"
VERIFY = "/admin/workpro/zwei-faktor/code/"
MANAGE = "/admin/workpro/zwei-faktor/"
required = override_settings(WORKPRO_REQUIRE_STAFF_2FA=True)


def code(device: TOTPDevice, offset: int = 0) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift + offset):06d}"


def confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="WorkPro", confirmed=True)


@required
def test_staff_without_device_is_sent_to_setup(world, client):
    client.force_login(world.staff)
    response = client.get("/admin/pages/", **HOST)
    assert response.status_code == 302
    target = urlparse(response["Location"])
    assert target.path == SETUP
    add("2FA gate redirects asserted")
    assert parse_qs(target.query)["next"] == ["/admin/pages/"]
    # The setup page itself is reachable and shows a QR code and the secret.
    page = client.get(response["Location"], **HOST)
    assert page.status_code == 200
    soup = BeautifulSoup(page.content, "html.parser")
    assert soup.select_one("img.workpro-2fa-qr")["src"].startswith("data:image/svg+xml;base64,")
    device = TOTPDevice.objects.get(user=world.staff, confirmed=False)
    secret = soup.select_one(".workpro-2fa-secret").get_text().replace(" ", "")
    import base64

    assert base64.b32decode(secret + "=" * (-len(secret) % 8)) == device.bin_key


@required
def test_setup_refuses_a_wrong_code_in_german_and_accepts_the_right_one(world, client):
    client.force_login(world.caseworker)
    client.get(SETUP, **HOST)
    device = TOTPDevice.objects.get(user=world.caseworker, confirmed=False)
    wrong = client.post(SETUP, {"token": f"{(int(code(device)) + 1) % 1_000_000:06d}", "next": "/admin/pages/"},
                        **HOST)
    assert wrong.status_code == 400
    assert "Der Code ist nicht korrekt oder abgelaufen" in wrong.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get("/admin/", **HOST).status_code == 302  # still locked out of the admin

    with time_machine.travel(time.time() + 2, tick=False):  # django-otp throttles the next try for 1 s
        right = client.post(SETUP, {"token": code(device), "next": "/admin/pages/"}, **HOST)
        assert right.status_code == 302 and right["Location"] == "/admin/pages/"
        device.refresh_from_db()
        assert device.confirmed
        assert client.get("/admin/", **HOST).status_code == 200
    actions = list(AuditEvent.objects.filter(actor=world.caseworker).values_list("action", flat=True))
    assert "auth.2fa_failed" in actions and "auth.2fa_enabled" in actions


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

    client.get(SETUP, **HOST)
    device = TOTPDevice.objects.get(user=world.staff)
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
