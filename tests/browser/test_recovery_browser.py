"""Recovery of a self-registered parent in a real browser (#20): register on an offer page, let the
issued password expire, "Neues Passwort anfordern" by mail to the registered address, log in."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.browser.conftest import check_accessibility

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def kita_offer(make_institution, make_offer):
    from wagtail.models import Site

    from workpro_plugin.models import Institution

    Site.objects.all().delete()  # Wagtail's welcome site also claims localhost
    kita = make_institution("kita", hostname="localhost", name="KiTa Sonnenschein")
    Institution.objects.filter(pk=kita.pk).update(email="info@kita.test", phone="0341 1234")
    today = timezone.localdate()
    offer = make_offer(kita, "Krippenplatz", capacity=10, age_min=0, age_max=3,
                       starts_on=today + timedelta(days=60), ends_on=today + timedelta(days=800),
                       applications_open_from=today - timedelta(days=10), applications_close_on=today + timedelta(days=30))
    offer.save_revision().publish()
    return kita, offer


def _field(scope, label: str):
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}\s*\*?$"))


def _password(address: str) -> str:
    for message in reversed(mail.outbox):
        if address in message.to:
            match = re.search(r"Passwort: (\S+)", message.body)
            if match:
                return match.group(1)
    raise AssertionError(f"no password mail to {address}")


def test_a_self_registered_parent_renews_an_expired_password_by_mail(page, live_server, kita_offer, shots):
    from workpro_plugin.models import Person

    base = live_server.url
    page.goto(base + "/")
    page.get_by_role("link", name="Angebote", exact=True).first.click()
    page.get_by_role("link", name="Krippenplatz").first.click()
    page.wait_for_url(re.compile(r"/krippenplatz/$"))
    _field(page, "Name").fill("Beispiel")
    _field(page, "Vorname").fill("Anna")
    _field(page, "Mailadresse").fill("anna@example.org")
    page.get_by_label(re.compile("Datenschutzhinweise")).check()
    page.get_by_role("button", name="Registrieren").click()
    page.wait_for_url(re.compile(r"/registriert/"))
    issued = _password("anna@example.org")

    # Three days and more pass: the issued password has expired (time travel through the model field).
    Person.objects.filter(email="anna@example.org").update(password_issued_at=timezone.now() - timedelta(hours=73))
    page.goto(base + reverse("workpro:login"))
    _field(page, "Mailadresse").fill("anna@example.org")
    _field(page, "Passwort").fill(issued)
    page.get_by_role("button", name="Anmelden").click()
    page.get_by_text(re.compile("abgelaufen")).first.wait_for()
    shots(page, "passwort abgelaufen")

    # Neues Passwort anfordern: no birth date, no mobile, no Kundennummer on file; name and address suffice.
    page.get_by_role("link", name="Neues Passwort anfordern").first.click()
    page.wait_for_url(re.compile(r"/passwort-anfordern/$"))
    check_accessibility(page, "Neues Passwort anfordern (per Mail)")
    _field(page, "Name").fill("Beispiel")
    _field(page, "Vorname").fill("Anna")
    page.get_by_label(re.compile("Mailadresse")).fill("anna@example.org")
    shots(page, "neues passwort anfordern")
    mail.outbox.clear()
    page.get_by_role("button", name="Diese Angaben sind korrekt").click()
    page.wait_for_url(re.compile(r"/gesendet/"))
    assert "info@kita.test" in page.content()  # what to do when nothing comes: the institution's contact
    shots(page, "neues passwort gesendet")
    renewed = _password("anna@example.org")
    assert renewed != issued

    page.goto(base + reverse("workpro:login"))
    _field(page, "Mailadresse").fill("anna@example.org")
    _field(page, "Passwort").fill(renewed)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(re.compile(r"/konto/passwort/"))
    _field(page, "Zugesandtes Passwort").fill(renewed)
    _field(page, "Neues Passwort").fill("Sonnenblume-2026!")
    page.get_by_label(re.compile("bestätigen|Bestätigung")).fill("Sonnenblume-2026!")
    page.get_by_role("button", name="Passwort speichern").click()
    page.wait_for_url(re.compile(r"/konto/$"))
    shots(page, "mein konto nach neuem passwort")
