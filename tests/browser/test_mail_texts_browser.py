"""#23 in a real browser: the Leitung edits the institution's "Einladung" mail text in the admin (placeholders
beside the form, a refused placeholder, a preview), then staff invite an applicant and the invitation mail
uses the new text."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.browser.conftest import check_accessibility
from tests.factories import enrollment_in, make_child
from workpro_plugin.models import Enrollment, MailText

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
S = Enrollment.Status
PASSWORD = "Browser-Texte-2026!"  # noqa: S105 - a test account on a throwaway database


def _login(browser, live_server, user):
    user.set_password(PASSWORD)
    user.save()
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(live_server.url + "/admin/login/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/admin/$"))
    return page


def test_an_edited_invitation_text_is_used_for_the_next_invitation(world, browser, live_server, shots):
    child = make_child(world.holder, first_name="Mia")
    enrollment = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder,
                               participant=child)
    editor = _login(browser, live_server, world.staff)

    # The Leitung finds the texts in the WorkPro menu's page and opens "Einladung".
    editor.goto(live_server.url + reverse("workpro_admin:texts_index"))
    shots(editor, "texte uebersicht")
    editor.get_by_role("link", name="Einladung", exact=True).first.click()
    editor.wait_for_url(re.compile(r"/texte/\d+/invited/$"))
    aside = editor.get_by_role("complementary", name="Platzhalter").inner_text()
    assert "{{ termin }}" in aside and "{{ vorname }}" in aside and "Ort des Gesprächs" in aside
    check_accessibility(editor, "Mail-Text bearbeiten")

    # A placeholder the invitation does not know is refused next to the field; the typed text stays.
    editor.fill("#id_subject_de", "Kennenlernen: {{ angebot }} mit {{ Vorname }}")
    editor.fill("#id_body_de", "Liebe Familie von {{ vorname }},\n\nwir freuen uns auf das Kennenlernen am "
                               "{{ termin }} in {{ termin_ort }}.")
    editor.get_by_role("button", name="Speichern").click()
    editor.wait_for_load_state()
    assert "Den Platzhalter {{ Vorname }} gibt es für diesen Text nicht" in editor.locator("form[novalidate]").inner_text()
    assert "{{ termin_ort }}" in editor.input_value("#id_body_de")
    shots(editor, "platzhalter abgelehnt")
    assert not MailText.objects.exists()

    # Corrected, previewed with a real enrollment of the KiTa, saved.
    editor.fill("#id_subject_de", "Kennenlernen: {{ angebot }} mit {{ vorname }}")
    editor.get_by_role("button", name="Vorschau anzeigen").click()
    editor.wait_for_load_state()
    preview = editor.locator("#text-preview").inner_text()
    assert "Kennenlernen: Krippenplatz mit Mia" in preview and "Liebe Familie von Mia," in preview
    shots(editor, "vorschau")
    editor.get_by_role("button", name="Speichern").click()
    editor.wait_for_url(re.compile(r"/admin/workpro/texte/$"))
    assert "gespeichert" in editor.locator("body").inner_text()

    # Staff invite the applicant in the admin.
    mail.outbox.clear()
    editor.goto(live_server.url + reverse("workpro_plugin_enrollment_modeladmin_inspect", args=[enrollment.pk]))
    editor.get_by_role("link", name="Einladen", exact=True).click()
    editor.fill("#id_date", (timezone.localdate() + timedelta(days=3)).isoformat())
    editor.fill("#id_time", "10:00")
    editor.fill("#id_place", "Gruppenraum 1")
    editor.locator("form button[type=submit]", has_text="Einladen").click()
    editor.wait_for_url(re.compile(r"/inspect/"))
    assert Enrollment.objects.get(pk=enrollment.pk).status == S.EINGELADEN

    invitation = [m for m in mail.outbox if m.to == [world.holder.email]]
    assert len(invitation) == 1, [m.subject for m in mail.outbox]
    message = invitation[0]
    assert message.subject == "Kennenlernen: Krippenplatz mit Mia"
    assert "Liebe Familie von Mia," in message.body and "10:00 Uhr in Gruppenraum 1." in message.body
    assert "einladung.ics" in [attachment[0] for attachment in message.attachments]
    editor.context.close()
