"""The whole way of the user guide in a real browser, clicking the German labels a user sees.

Screenshots of each main page land in test-artifacts/browser/<test name>/; axe-core checks
each of them for serious or critical WCAG 2.1 A/AA violations.
"""

from __future__ import annotations

import io
import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from tests.browser.conftest import check_accessibility
from tests.factories import make_user, pdf_bytes

# The live server runs in another thread: real commits, the migration data restored after each test.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

STAFF_PASSWORD = "Browser-Test-2026!"  # noqa: S105 - a test account on a throwaway database


@pytest.fixture
def journey_world(make_institution, make_offer):
    """An institution served on the live server's host, one offer with three sections, staff with passwords."""
    from wagtail.models import Site

    from workpro_plugin.models import Institution, OfferSection

    Site.objects.all().delete()  # Wagtail's welcome site also claims localhost
    kita = make_institution("kita", hostname="localhost", name="KiTa Sonnenschein")
    Institution.objects.filter(pk=kita.pk).update(email="info@kita.test", street="Sonnenweg 1", postcode="12345",
                                                  city="Musterstadt")
    today = timezone.localdate()
    offer = make_offer(kita, "Krippenplatz", capacity=10, age_min=0, age_max=3,
                       starts_on=today + timedelta(days=60), ends_on=today + timedelta(days=800),
                       applications_open_from=today - timedelta(days=10), applications_close_on=today + timedelta(days=30))
    for section, phase in (("guardians", 1), ("income", 2)):
        OfferSection.objects.create(page=offer, section=section, phase=phase)
    offer.save_revision().publish()
    caseworker = make_user("sachbearbeitung@kita.test", person=False, groups=[kita.staff_group])
    lead = make_user("leitung@kita.test", person=False, groups=[kita.lead_group])
    for user in (caseworker, lead):
        user.set_password(STAFF_PASSWORD)
        user.save()
    # A Zusatzangebot bookable with the Krippenplatz, and an app assigned to everyone in it.
    from workpro_plugin.models.apps import App, AppAssignment

    addon = make_offer(kita, "Ferienbetreuung", is_addon=True, capacity=5, starts_on=today + timedelta(days=70),
                       ends_on=today + timedelta(days=200))
    addon.addon_for.add(offer)
    addon.save_revision().publish()
    app = App.objects.create(institution=kita, name="Lernplattform", description="Lieder, Bilder und Termine.",
                             launch_url="https://lernen.example.org/", terms="Die Nutzung ist kostenlos.")
    AppAssignment.objects.create(app=app, offer=offer, assigned_by=lead)
    return kita, offer, caseworker, lead


def password_from_mail(address: str) -> str:
    for message in reversed(mail.outbox):
        if address in message.to:
            match = re.search(r"Passwort: (\S+)", message.body)
            if match:
                return match.group(1)
    raise AssertionError(f"no password mail to {address}: {[m.to for m in mail.outbox]}")


def field(scope, label: str):
    """The input labelled exactly `label` (a required field's label ends in an aria-hidden "*")."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}\s*\*?$"))


def status_text(page) -> str:
    return page.locator(".wp-status").first.inner_text()


def staff_login(browser, live_server, email: str):
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    staff = context.new_page()
    staff.goto(live_server.url + "/admin/login/")
    staff.fill("#id_username", email)
    staff.fill("#id_password", STAFF_PASSWORD)
    staff.locator("form button[type=submit]").first.click()
    staff.wait_for_url(re.compile(r"/admin/$"))
    return staff


def staff_action(staff, live_server, enrollment_pk: int, label: str, fill=None, shots=None):
    staff.goto(live_server.url + reverse("workpro_plugin_enrollment_modeladmin_inspect", args=[enrollment_pk]))
    try:
        staff.get_by_role("link", name=label, exact=True).click()
        if fill:
            fill(staff)
        if shots:
            shots(staff, f"admin {label}")
        staff.locator("form button[type=submit]", has_text=label).click()
        staff.wait_for_url(re.compile(r"/inspect/"))
    except Exception:
        if shots:
            shots(staff, f"FAILED admin {label}")
        raise


def test_whole_journey(page, browser, live_server, journey_world, shots):
    kita, offer, caseworker, lead = journey_world
    base = live_server.url

    # Homepage → Angebote → offer
    page.goto(base + "/")
    shots(page, "homepage")
    check_accessibility(page, "Startseite")
    page.get_by_role("link", name="Angebote", exact=True).first.click()
    page.wait_for_url(re.compile(r"/angebote/$"))
    shots(page, "angebote")
    check_accessibility(page, "Angebote")
    page.get_by_role("link", name="Krippenplatz").first.click()
    page.wait_for_url(re.compile(r"/krippenplatz/$"))
    check_accessibility(page, "Angebot")

    # Register with Name, Vorname, Mailadresse; the password comes by mail.
    field(page, "Name").fill("Beispiel")
    field(page, "Vorname").fill("Anna")
    field(page, "Mailadresse").fill("anna@example.org")
    page.get_by_label(re.compile("Datenschutzhinweise")).check()
    shots(page, "angebot registrieren")
    page.get_by_role("button", name="Registrieren").click()
    page.wait_for_url(re.compile(r"/registriert/"))
    shots(page, "registriert")
    issued = password_from_mail("anna@example.org")

    # Mein Konto: log in with the issued password, set an own one.
    page.get_by_role("link", name="Mein Konto").first.click()
    page.wait_for_url(re.compile(r"/konto/anmelden/"))
    check_accessibility(page, "Anmeldung (Login)")
    field(page, "Mailadresse").fill("anna@example.org")
    field(page, "Passwort").fill(issued)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(re.compile(r"/konto/passwort/"))
    shots(page, "eigenes passwort")
    field(page, "Zugesandtes Passwort").fill(issued)  # the current password, even right after the login
    field(page, "Neues Passwort").fill("Sonnenblume-2026!")
    page.get_by_label(re.compile("bestätigen|Bestätigung")).fill("Sonnenblume-2026!")
    page.get_by_role("button", name="Passwort speichern").click()
    page.wait_for_url(re.compile(r"/konto/$"))
    shots(page, "mein konto")
    check_accessibility(page, "Mein Konto")

    # Zum Angebot anmelden for a child.
    page.get_by_role("link", name="Krippenplatz").first.click()
    page.get_by_role("link", name="Zum Angebot anmelden").click()
    page.get_by_label(re.compile("weiteres Kind")).check()
    field(page, "Name").fill("Beispiel")
    field(page, "Vorname").fill("Lena")
    field(page, "Geburtsdatum").fill((timezone.localdate() - timedelta(days=400)).isoformat())
    page.get_by_label(re.compile("als PSB1")).check()
    check_accessibility(page, "Teilnehmer wählen")
    page.get_by_role("button", name="Zum Angebot anmelden").click()

    # Sections of phase 1: personal data, guardians.
    page.wait_for_url(re.compile(r"/angaben/personal/"))
    field(page, "Straße und Hausnummer").fill("Lindenweg 5")
    field(page, "PLZ").fill("12345")
    field(page, "Ort").fill("Musterstadt")
    shots(page, "angaben persoenlich")
    check_accessibility(page, "Abschnitt Persönliche Daten")
    page.get_by_role("button", name="Speichern und weiter").click()
    page.wait_for_url(re.compile(r"/angaben/guardians/"))
    check_accessibility(page, "Abschnitt Personensorgeberechtigte")
    page.get_by_role("button", name="Speichern und weiter").click()
    page.wait_for_url(re.compile(r"/konto/anmeldung/\d+/$"))
    enrollment_pk = int(re.search(r"/anmeldung/(\d+)/", page.url).group(1))
    check_accessibility(page, "Anmeldung (Übersicht)")

    # Anmeldung drucken (PDF in a new tab), then Anmeldung absenden → Bewerber.
    with page.expect_popup() as popup_info:
        page.get_by_role("button", name="Anmeldung drucken").click()
    popup = popup_info.value
    popup.wait_for_load_state()
    pdf = popup.request.get(popup.url) if popup.url.startswith("http") and "drucken" not in popup.url else None
    popup.close()
    from workpro_plugin.models import Enrollment

    assert Enrollment.objects.get(pk=enrollment_pk).printed_fingerprint, "the print was not recorded"
    assert pdf is None or pdf.headers["content-type"].startswith("application/pdf")
    page.reload()
    page.get_by_role("button", name="Anmeldung absenden").click()
    page.wait_for_load_state()
    assert status_text(page) == "Bewerber"
    shots(page, "bewerber")

    # Staff in the Wagtail admin: Einladen, Entscheiden (Kandidat).
    staff = staff_login(browser, live_server, caseworker.email)

    def invite(p):
        p.fill("#id_date", (timezone.localdate() + timedelta(days=3)).isoformat())
        p.fill("#id_time", "10:00")
        p.fill("#id_place", "Gruppenraum 1")

    staff_action(staff, live_server, enrollment_pk, "Einladen", invite, shots)

    def decide(p):
        p.locator("input[name=decision][value=kandidat]").check()
        # The interview is in three days: only "ohne Gespräch" can be chosen before it.
        assert p.locator("input[name=basis][value=attended]").is_disabled()
        p.locator("input[name=basis][value=no_interview]").check()

    staff_action(staff, live_server, enrollment_pk, "Entscheiden", decide, shots)
    assert Enrollment.objects.get(pk=enrollment_pk).status == "kandidat"

    # The participant completes the rest (income), prints and submits again → Eingestuft.
    page.reload()
    assert status_text(page) == "Kandidat"
    page.get_by_role("link", name=re.compile("Haushalt und Jahreseinkommen")).first.click()
    page.wait_for_url(re.compile(r"/angaben/[\w-]+/"))
    field(page, "Name des Einkommensbeziehers").first.fill("Anna Beispiel")
    page.get_by_label(re.compile("Jahreseinkommen brutto")).first.fill("32000")
    check_accessibility(page, "Abschnitt Einkommen")
    page.get_by_role("button", name="Speichern und weiter").click()
    page.wait_for_url(re.compile(r"/konto/anmeldung/\d+/$"))
    with page.expect_popup() as popup_info:
        page.get_by_role("button", name="Anmeldung drucken").click()
    popup_info.value.close()
    page.reload()
    page.get_by_role("button", name="Anmeldung absenden").click()
    page.wait_for_load_state()
    assert status_text(page) == "Eingestuft"

    # Leitung: Angebot erstellen.
    staff.context.close()
    staff = staff_login(browser, live_server, lead.email)

    def make_offer(p):
        p.fill("#id_costs", "250,00")

    staff_action(staff, live_server, enrollment_pk, "Angebot erstellen", make_offer, shots)
    assert Enrollment.objects.get(pk=enrollment_pk).status == "angebot"

    # Angebot annehmen: upload the signed scan → Angenommen.
    page.reload()
    page.get_by_role("link", name="Angebot annehmen").click()
    page.wait_for_url(re.compile(r"/angebot-annehmen/$"))
    check_accessibility(page, "Angebot annehmen")
    page.locator("input[type=file]").set_input_files(
        [{"name": "unterschrieben.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes(2)}])
    page.get_by_role("button", name="Angebot annehmen").click()
    page.wait_for_url(re.compile(r"/konto/anmeldung/\d+/$"))
    assert status_text(page) == "Angenommen"

    # Leitung: Ratifizieren → Ratifiziert.
    def confirm(p):  # the scan carries no digital signature: each needed signature is confirmed
        p.locator("#id_confirm").wait_for()  # the form page, not the inspect page still on screen
        boxes = p.locator("form:has(#id_confirm) input[type=checkbox]")
        assert boxes.count() >= 2  # the confirmation and at least one named signature
        for box in boxes.all():
            box.check()

    staff_action(staff, live_server, enrollment_pk, "Ratifizieren", confirm, shots)
    page.reload()
    assert status_text(page) == "Ratifiziert"
    shots(page, "ratifiziert")

    # Documents inbox.
    page.goto(base + reverse("workpro:documents"))
    shots(page, "dokumente")
    check_accessibility(page, "Dokumente")
    assert page.get_by_role("link", name=re.compile("Angebot|Vertrag")).count() >= 1

    # Notfallkontakt and Abholberechtigte with a passport photo.
    page.goto(base + reverse("workpro:enrollment_detail", args=[enrollment_pk]))
    page.get_by_role("link", name="Notfallkontakt und Abholberechtigte eintragen").click()
    page.wait_for_url(re.compile(r"/notfall/$"))
    check_accessibility(page, "Notfallkontakt und Abholberechtigte")
    emergency = page.locator("form", has=page.locator("input[value=notfallkontakt]"))
    field(emergency, "Name").fill("Erna Beispiel")
    field(emergency, "Beziehung zum Kind").fill("Großmutter")
    field(emergency, "Telefon").fill("0151 23456789")
    emergency.get_by_role("button", name="Notfallkontakt speichern").click()
    pickup = page.locator("form", has=page.locator("input[value=abholberechtigt]"))
    field(pickup, "Name").fill("Tom Beispiel")
    field(pickup, "Beziehung zum Kind").fill("Onkel")
    field(pickup, "Telefon").fill("030 1234567")
    photo = io.BytesIO()
    Image.new("RGB", (420, 540), (180, 140, 110)).save(photo, format="JPEG")
    pickup.locator("input[type=file]").set_input_files(
        [{"name": "passfoto.jpg", "mimeType": "image/jpeg", "buffer": photo.getvalue()}])
    pickup.get_by_role("button", name="Abholberechtigte Person speichern").click()
    page.wait_for_load_state()
    assert page.get_by_text("Alle nötigen Angaben sind vollständig.").is_visible()
    shots(page, "notfallkontakt abholberechtigte")

    # Zusatzangebot: book Ferienbetreuung, staff confirm it.
    page.goto(base + reverse("workpro:enrollment_detail", args=[enrollment_pk]))
    page.get_by_role("link", name="Zusatzangebote buchen").click()
    page.wait_for_url(re.compile(r"/zusatzangebote/$"))
    check_accessibility(page, "Zusatzangebote")
    page.get_by_role("link", name=re.compile("^Buchen")).first.click()
    today = timezone.localdate()
    field(page, "Von").fill((today + timedelta(days=75)).isoformat())
    field(page, "Bis").fill((today + timedelta(days=89)).isoformat())
    page.locator("input[type=checkbox]").check()
    check_accessibility(page, "Zusatzangebot buchen")
    page.get_by_role("button", name="Verbindlich buchen").click()
    page.wait_for_load_state()
    from workpro_plugin.models.addons import AddonBooking

    booking = AddonBooking.objects.get(enrollment_id=enrollment_pk)
    staff.goto(base + reverse("workpro_admin:addon_confirm", args=[booking.pk]))
    if staff.locator("#id_cost").count():
        staff.fill("#id_cost", "80,00")
    staff.get_by_role("button", name="Bestätigen").click()
    staff.wait_for_load_state()
    booking.refresh_from_db()
    assert booking.status == "bestaetigt", booking.status
    shots(staff, "admin zusatzbuchung bestaetigt")

    # Anwendungen: accept the Lernplattform's terms, then it can be opened.
    page.goto(base + reverse("workpro:account"))
    page.get_by_role("link", name="Anwendungen").click()
    page.wait_for_url(re.compile(r"/konto/anwendungen/$"))
    check_accessibility(page, "Anwendungen")
    page.get_by_role("button", name="Annehmen").first.click()
    page.wait_for_load_state()
    assert page.get_by_role("link", name="Öffnen").count() == 1
    shots(page, "anwendungen")

    # Chat: the participant writes, staff answer in the admin, the answer shows in the portal.
    page.goto(base + reverse("workpro:enrollment_detail", args=[enrollment_pk]))
    page.get_by_role("link", name=re.compile("^Nachrichten")).first.click()
    field(page, "Ihre Nachricht").fill("Dürfen wir zur Eingewöhnung eine Stunde früher kommen?")
    page.get_by_role("button", name="Senden").click()
    page.wait_for_load_state()
    check_accessibility(page, "Nachrichten")
    from workpro_plugin.models import Conversation

    conversation = Conversation.objects.get(enrollment_id=enrollment_pk)
    staff.goto(base + reverse("workpro_chat:thread", args=[conversation.pk]))
    staff.locator("textarea").last.fill("Gern, wir erwarten Sie um 8 Uhr.")
    staff.get_by_role("button", name="Senden").click()
    staff.wait_for_load_state()
    shots(staff, "admin nachrichten")
    page.reload()
    page.get_by_text("Gern, wir erwarten Sie um 8 Uhr.").wait_for()
    shots(page, "nachrichten")
    staff.context.close()


def test_password_request_with_sms(page, live_server, journey_world, sms_outbox, shots):
    make_user("eltern@example.org", last_name="Beispiel", first_name="Anna", date_of_birth=date(1988, 5, 17),
              mobile="+4915112345678")
    page.goto(live_server.url + reverse("workpro:login"))
    page.get_by_role("link", name="Neues Passwort anfordern").click()
    page.wait_for_url(re.compile(r"/passwort-anfordern/$"))
    check_accessibility(page, "Neues Passwort anfordern")
    field(page, "Name").fill("Beispiel")
    field(page, "Vorname").fill("Anna")
    field(page, "Geburtsdatum").fill("1988-05-17")
    field(page, "Hinterlegte Handynummer").fill("0151 12345678")
    page.get_by_label(re.compile("Mailadresse")).fill("eltern@example.org")
    shots(page, "neues passwort anfordern")
    page.get_by_role("button", name="Diese Angaben sind korrekt").click()
    page.wait_for_url(re.compile(r"/gesendet/"))
    shots(page, "neues passwort gesendet")
    assert len(sms_outbox) == 1 and sms_outbox[0].to == "+4915112345678"

    # The phone is the proof: the SMS password logs in with the address given, then an own one is set.
    sms_password = re.search(r": (\S+) \(72", sms_outbox[0].body).group(1)
    page.goto(live_server.url + reverse("workpro:login"))
    field(page, "Mailadresse").fill("eltern@example.org")
    field(page, "Passwort").fill(sms_password)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(re.compile(r"/konto/passwort/"))
    field(page, "Zugesandtes Passwort").fill(sms_password)
    field(page, "Neues Passwort").fill("Sonnenblume-2026!")
    page.get_by_label(re.compile("bestätigen|Bestätigung")).fill("Sonnenblume-2026!")
    page.get_by_role("button", name="Passwort speichern").click()
    page.wait_for_url(re.compile(r"/konto/$"))


def test_public_part_with_the_keyboard_only(page, live_server, journey_world):
    """Tab and Enter alone: homepage → Angebote → offer → registration."""
    page.goto(live_server.url + "/")

    def tab_to(name: str, limit: int = 60):
        for _ in range(limit):
            page.keyboard.press("Tab")
            focused = page.evaluate("document.activeElement && (document.activeElement.innerText || "
                                    "document.activeElement.value || '').trim()")
            if focused and name in focused:
                return
        raise AssertionError(f"“{name}” is not reachable with Tab")

    tab_to("Angebote")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/angebote/$"))
    tab_to("Krippenplatz")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/krippenplatz/$"))
    field(page, "Name").focus()  # the form is reached by Tab as well:
    assert page.evaluate("document.activeElement.tabIndex") >= 0
    page.keyboard.type("Beispiel")
    page.keyboard.press("Tab")
    page.keyboard.type("Anna")
    page.keyboard.press("Tab")
    page.keyboard.type("tastatur@example.org")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # consent checkbox
    for _ in range(5):
        if page.evaluate("document.activeElement.type") == "submit":
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/registriert/"))
    assert password_from_mail("tastatur@example.org")


PHONE = {"width": 390, "height": 844}
PHONE_SHOTS = {"Mein Konto": "parents-b-konto.png", "Dokumente": "parents-b-dokumente.png"}


@pytest.fixture
def ratified_family(journey_world):
    """Anna (own password) with her son Lena's ratified Krippenplatz, its documents and care contacts."""
    from django.core.files.base import ContentFile

    from tests.factories import S, enrollment_in, make_child
    from workpro_plugin.models import Document, EmergencyContact, Enrollment

    kita, offer, caseworker, lead = journey_world
    holder = make_user("anna.beispiel-mit-langer-adresse@example.org", last_name="Beispiel", first_name="Anna",
                       street="Lindenweg 5", postcode="12345", city="Musterstadt")
    holder.set_password("Sonnenblume-2026!")
    holder.save()
    child = make_child(holder, last_name="Beispiel", first_name="Lena",
                       date_of_birth=timezone.localdate() - timedelta(days=400))
    contract = enrollment_in(S.RATIFIZIERT, offer=offer, institution=kita, holder=holder, participant=child)
    today = timezone.localdate()
    Enrollment.objects.filter(pk=contract.pk).update(
        contract_number=f"KITA-{today.year}-00001", costs=260, contract_start=today + timedelta(days=60),
        contract_end=today + timedelta(days=800))
    for kind, title in (("application", "Anmeldung KITA-2026-00001"),
                        ("contract_offer", "Angebot (Vertrag) KITA-2026-00001 Krippenplatz"),
                        ("ratified_contract", "Ratifizierter Vertrag KITA-2026-00001 Krippenplatz")):
        Document.objects.create(enrollment=contract, owner=child, kind=kind, title=title,
                                file=ContentFile(pdf_bytes(), name="vertrag.pdf"))
    EmergencyContact.objects.create(enrollment=contract, name="Erna Beispiel", relation="Großmutter",
                                    phone="+4915123456789")
    # Her younger son's application is still being filled in (the sections' menu and forms).
    younger = make_child(holder, last_name="Beispiel", first_name="Tom",
                         date_of_birth=timezone.localdate() - timedelta(days=200))
    contract.pending = enrollment_in(S.INTERESSENT, offer=offer, institution=kita, holder=holder, participant=younger)
    return holder, child, contract, offer


def test_portal_pages_fit_a_phone(browser, live_server, ratified_family, shots):
    """At 390×844 no portal page of a ratified family scrolls sideways, and no page repeats a heading."""
    holder, child, contract, offer = ratified_family
    # Not is_mobile: a mobile layout viewport widens to the content, so innerWidth would hide the overflow.
    context = browser.new_context(locale="de-DE", viewport=PHONE, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    base = live_server.url
    page.goto(base + reverse("workpro:login"))
    field(page, "Mailadresse").fill(holder.email)
    field(page, "Passwort").fill("Sonnenblume-2026!")
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(re.compile(r"/konto/$"))
    pages = {
        "Mein Konto": reverse("workpro:account"),
        "Dokumente": reverse("workpro:documents"),
        "Vertrag": reverse("workpro:enrollment_detail", args=[contract.pk]),
        "Notfallkontakt und Abholberechtigte": reverse("workpro:care", args=[contract.pk]),
        "Zusatzangebote": reverse("workpro:enrollment_addons", args=[contract.pk]),
        "Anwendungen": reverse("workpro:apps"),
        "Nachrichten": reverse("workpro:chat_list"),
        "Meine Daten": reverse("workpro:contact_data"),
        "Passwort ändern": reverse("workpro:set_password"),
        "Angaben (nur lesen)": reverse("workpro:enrollment_section", args=[contract.pk, "personal"]),
        "Anmeldung in Arbeit": reverse("workpro:enrollment_detail", args=[contract.pending.pk]),
        "Personensorgeberechtigte": reverse("workpro:enrollment_section", args=[contract.pending.pk, "guardians"]),
        "Einkommen": reverse("workpro:enrollment_section", args=[contract.pending.pk, "income"]),
        "Zum Angebot anmelden": reverse("workpro:offer_enroll", args=[offer.pk]),
        "Hilfe": reverse("workpro:help"),
        "Angebote": "/angebote/",
        "Angebot": offer.url,
    }
    wide, repeated = [], []
    for label, url in pages.items():
        page.goto(base + url)
        page.wait_for_load_state("load")
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[1] == PHONE["width"]
        if width[0] > width[1]:
            widest = page.evaluate(
                "(() => { let w = null; for (const el of document.querySelectorAll('main *')) {"
                " const r = el.getBoundingClientRect(); if (r.right > window.innerWidth + 1 && (!w || r.width > w[1]))"
                " w = [el.tagName + '.' + el.className, Math.round(r.width)]; } return w; })()")
            wide.append(f"{label} ({url}): {width[0]} px > {width[1]} px, widest {widest}")
        headings = page.evaluate("[...document.querySelectorAll('main h1, main h2, main h3')]"
                                 ".filter(h => h.offsetParent !== null).map(h => h.innerText.trim())")
        if len(headings) != len(set(headings)):
            repeated.append(f"{label}: {headings}")
        path = shots(page, f"phone {label}")
        if label in PHONE_SHOTS and os.environ.get("WORKPRO_PHONE_SHOTS"):  # copies for a review or release note
            (Path(os.environ["WORKPRO_PHONE_SHOTS"]) / PHONE_SHOTS[label]).write_bytes(path.read_bytes())
    context.close()
    assert wide == [], "pages wider than a phone:\n" + "\n".join(wide)
    assert repeated == [], "headings repeated on a page:\n" + "\n".join(repeated)


# Every word of a table cell on one line: a word split across lines has two client rects.
BROKEN_WORDS = """(() => { const broken = [];
  for (const cell of document.querySelectorAll('main .wp-table th, main .wp-table td')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.textContent.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (tops.size > 1) broken.push(m[0]);
      } } }
  return broken; })()"""


def test_mein_konto_tables_keep_whole_words_on_a_desktop(browser, live_server, ratified_family):
    """On a desktop no name or header of Mein Konto's tables breaks mid-word ("Einrichtun|g"); on a
    tablet the tables still fit the width."""
    holder, child, contract, offer = ratified_family
    context = browser.new_context(locale="de-DE", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + reverse("workpro:login"))
    field(page, "Mailadresse").fill(holder.email)
    field(page, "Passwort").fill("Sonnenblume-2026!")
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(re.compile(r"/konto/$"))
    assert page.locator("main .wp-table td").count() > 5
    assert page.evaluate(BROKEN_WORDS) == []
    for width in (1024, 800):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]") == [width, width]
    context.close()
