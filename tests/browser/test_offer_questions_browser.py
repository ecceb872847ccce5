"""#23 in a real browser: an editor adds two questions to an offer in the Wagtail page editor and
publishes; a parent answers them and finds them in the printed Anmeldung; staff see them in the admin."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "Browser-Test-2026!"  # noqa: S105 - a test account on a throwaway database


@pytest.fixture
def kita_world(make_institution, make_offer):
    from wagtail.models import Site

    from workpro_plugin.models import Enrollment, OfferSection

    Site.objects.all().delete()  # Wagtail's welcome site also claims localhost
    kita = make_institution("kita", hostname="localhost", name="KiTa Sonnenschein")
    today = timezone.localdate()
    offer = make_offer(kita, "Krippenplatz", capacity=10, age_min=0, age_max=3,
                       starts_on=today + timedelta(days=60), applications_open_from=today - timedelta(days=10))
    OfferSection.objects.create(page=offer, section="guardians", phase=1)
    offer.save_revision().publish()
    lead = make_user("leitung@kita.test", person=False, groups=[kita.lead_group])
    parent = make_user("eltern@example.org")
    for user in (lead, parent):
        user.set_password(PASSWORD)
        user.save()
    enrollment = Enrollment.objects.create(offer=offer, institution=kita, account_holder=parent,
                                           participant=parent.workpro_person)
    return kita, offer, lead, parent, enrollment


def _login_admin(page, base: str, email: str):
    page.goto(base + "/admin/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/admin/$"))


def _add_question(page, index: int, kind: str, label: str, phase_value: str = "1"):
    """Append a block of type `kind` (its German label) to "Eigene Fragen" and fill its question."""
    panel = page.locator("[data-contentpath=questions]").first
    panel.scroll_into_view_if_needed()
    panel.locator("button[title='Block einfügen'], button[aria-label='Block einfügen'], "
                  "button.c-sf-add-button").last.click()
    page.get_by_role("option", name=kind, exact=True).click()
    page.locator(f"[name='questions-{index}-value-label']").fill(label)
    page.locator(f"[name='questions-{index}-value-phase']").select_option(phase_value)


def test_editor_adds_questions_parent_answers_and_prints_staff_see_them(browser, live_server, kita_world, shots,
                                                                        settings):
    kita, offer, lead, parent, enrollment = kita_world
    base = live_server.url
    # Wagtail 8 autosaves the editor in the background; on SQLite the live server's threads share one
    # in-memory connection, where an autosave beside the publish breaks the transaction. Publishing is the
    # editor's own click here, so the test does without autosave.
    settings.WAGTAIL_AUTOSAVE_INTERVAL = 0

    # The editor (Leitung of the KiTa) adds two questions in the page editor and publishes.
    editor = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 1000}).new_page()
    editor.set_default_timeout(20_000)
    _login_admin(editor, base, lead.email)
    editor.goto(base + f"/admin/pages/{offer.pk}/edit/")
    _add_question(editor, 0, "Kurzer Text", "Allergien")
    _add_question(editor, 1, "Datum", "Eingewöhnung gewünscht ab")
    shots(editor, "editor eigene fragen")
    editor.locator("button[name='action-publish']").evaluate("button => button.click()")
    editor.wait_for_url(re.compile(r"/admin/pages/\d+/$"))
    offer.refresh_from_db()
    live = type(offer).objects.get(pk=offer.pk)
    labels = [q["label"] for q in live.question_definitions()]
    assert labels == ["Allergien", "Eingewöhnung gewünscht ab"], labels
    assert live.live and not live.has_unpublished_changes

    # The parent answers them in the application.
    page = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(20_000)
    page.goto(base + reverse("workpro:login"))
    page.get_by_label(re.compile(r"^Mailadresse")).fill(parent.email)
    page.get_by_label(re.compile(r"^Passwort")).fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_load_state()
    page.goto(base + reverse("workpro:enrollment_section", args=[enrollment.pk, "questions"]))
    page.get_by_label(re.compile(r"^Allergien")).fill("Erdnüsse")
    page.get_by_label(re.compile(r"^Eingewöhnung gewünscht ab")).fill("2027-08-02")
    shots(page, "eltern fragen")
    page.get_by_role("button", name="Speichern", exact=True).click()
    page.wait_for_url(re.compile(r"/konto/anmeldung/\d+/$"))

    # Anmeldung drucken: the PDF carries the questions with the answers.
    token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    response = page.request.post(base + reverse("workpro:enrollment_print", args=[enrollment.pk]),
                                 form={"csrfmiddlewaretoken": token}, headers={"Referer": page.url})
    assert response.ok and response.headers["content-type"].startswith("application/pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)
    for expected in ("Fragen der Einrichtung", "Allergien", "Erdnüsse", "Eingewöhnung gewünscht ab", "02.08.2027"):
        assert expected in text, (expected, text)

    # Staff see the answers in the admin.
    editor.goto(base + reverse("workpro_plugin_enrollment_modeladmin_inspect", args=[enrollment.pk]))
    body = editor.locator("main").inner_text()
    assert "Fragen der Einrichtung" in body and "Erdnüsse" in body and "02.08.2027" in body
    shots(editor, "admin anmeldung")
