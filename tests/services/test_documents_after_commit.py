"""Generated PDFs (Anmeldung, Angebot, Vertrag, Änderungsmitteilung, Buchungsbestätigung) are rendered after commit by a task, not inside the action's
transaction (issue #22): pending row first, the file and the mail only once the task has run."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.formats import date_format
from pypdf import PdfReader

from tests.factories import complete_sections, enrollment_in, make_child, pdf_bytes
from tests.helpers import HOST
from workpro_plugin.models import (
    AddonBooking,
    Document,
    Enrollment,
    EnrollmentLog,
    FeeBracket,
    FeePeriod,
    FeeSchedule,
    OfferPage,
    OutboxMessage,
    Person,
)
from workpro_plugin.services import addons, documents
from workpro_plugin.services import enrollments as svc
from workpro_plugin.services.privacy import person_export

pytestmark = pytest.mark.django_db
S = Enrollment.Status
TODAY = timezone.localdate()


@pytest.fixture
def renders(monkeypatch):
    """Every WeasyPrint rendering, with whether the action's on_commit callbacks had run by then."""
    calls = []
    real = documents.render_pdf_locating

    def spy(template, context, element_id=""):
        calls.append(template)
        return real(template, context, element_id)

    monkeypatch.setattr(documents, "render_pdf_locating", spy)
    return calls


def _pdf_text(document: Document) -> str:
    with document.file.open("rb") as handle:
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(handle.read())).pages)


def _submitted(world, django_capture_on_commit_callbacks, renders):
    enrollment = enrollment_in(S.INTERESSENT, offer=world.offer, institution=world.kita, holder=world.holder)
    with django_capture_on_commit_callbacks() as callbacks:
        svc.enrollment_submit(enrollment=enrollment, by=world.holder)
    return enrollment, callbacks


def test_submit_renders_the_anmeldung_only_after_commit_and_mails_it_once_ready(
        world, django_capture_on_commit_callbacks, renders):
    enrollment, callbacks = _submitted(world, django_capture_on_commit_callbacks, renders)
    document = enrollment.documents.get(kind="application")
    # inside the transaction: a pending row, no WeasyPrint, the mail waits for the document
    assert renders == [] and document.state == Document.State.PENDING and not document.file
    message = OutboxMessage.objects.get(template="enrollment_event", context__event="submitted")
    assert message.state == OutboxMessage.State.WAITING and message.context["document_ids"] == [document.pk]
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:  # the commit: the render task runs (synchronously in tests)
            callback()
    document.refresh_from_db()
    assert renders == ["workpro_plugin/pdf/application.html"]
    assert document.state == Document.State.READY and document.render_attempts == 1
    assert document.sha256 and "Prüfsumme der Angaben" in _pdf_text(document)
    [sent] = mail.outbox
    assert sent.subject == "Anmeldung eingegangen: Krippenplatz"
    assert sent.attachments[0][1].startswith(b"%PDF")

    # a retried task does nothing: no second rendering, no second mail
    assert documents.render_document(document.pk) is False
    assert len(renders) == 1 and len(mail.outbox) == 1


def test_the_anmeldung_shows_the_data_as_submitted_not_as_changed_before_rendering(
        world, django_capture_on_commit_callbacks, renders):
    enrollment, callbacks = _submitted(world, django_capture_on_commit_callbacks, renders)
    submitted = enrollment.data_fingerprint()
    participant = enrollment.participant
    participant.street = "Geänderte Straße 99"
    participant.save()
    section = enrollment.sections.get(section="personal")
    section.data = {**section.data, "street": "Geänderte Straße 99"}
    section.save()
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    document = enrollment.documents.get(kind="application")
    text = _pdf_text(document)
    assert "Geänderte Straße" not in text
    assert submitted[:12] in text.replace("\n", "")


def test_make_offer_renders_the_angebot_after_commit_with_the_terms_as_made(
        world, django_capture_on_commit_callbacks, renders):
    enrollment = enrollment_in(S.EINGESTUFT, offer=world.offer, institution=world.kita, holder=world.holder)
    with django_capture_on_commit_callbacks() as callbacks:
        svc.enrollment_make_offer(enrollment=enrollment, by=world.staff, costs=Decimal("260.00"),
                                  contract_start=TODAY + timedelta(days=30), contract_end=TODAY + timedelta(days=400),
                                  deadline=TODAY + timedelta(days=10))
    assert renders == []
    offer = enrollment.documents.get(kind="contract_offer")
    assert offer.state == Document.State.PENDING
    # the participant cannot upload a signed copy of an Angebot that is not there yet
    with pytest.raises(svc.EnrollmentActionError, match="Das Angebot wird noch erstellt"):
        svc.enrollment_upload_signed(enrollment=enrollment, by=world.holder,
                                     files=[SimpleUploadedFile("unterschrieben.pdf", pdf_bytes(1))])
    # a later change of the row (e.g. Frist verlängern) does not reach the Angebot made before
    Enrollment.objects.filter(pk=enrollment.pk).update(signed_copy_deadline=TODAY + timedelta(days=60))
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    offer.refresh_from_db()
    assert offer.state == Document.State.READY
    text = _pdf_text(offer)
    assert "260,00" in text and _shown(TODAY + timedelta(days=10)) in text
    assert _shown(TODAY + timedelta(days=60)) not in text
    assert (world.staff.get_full_name() or world.staff.email) in text  # the Leitung who made the offer signs it
    assert mail.outbox[-1].subject == "Ihr Angebot: Krippenplatz"
    assert mail.outbox[-1].attachments[0][1].startswith(b"%PDF")


def _shown(day) -> str:
    with translation.override("de"):
        return date_format(day, "DATE_FORMAT")


def _failing(monkeypatch):
    def broken(template, context, element_id=""):
        raise RuntimeError("Pango ist weg")

    monkeypatch.setattr(documents, "render_pdf_locating", broken)


def test_a_failing_rendering_is_retried_a_bounded_number_of_times_then_failed(
        world, django_capture_on_commit_callbacks, monkeypatch):
    _failing(monkeypatch)
    enrollment = enrollment_in(S.INTERESSENT, offer=world.offer, institution=world.kita, holder=world.holder)
    with django_capture_on_commit_callbacks(execute=True):
        svc.enrollment_submit(enrollment=enrollment, by=world.holder)
    document = enrollment.documents.get(kind="application")
    assert document.state == Document.State.PENDING and document.render_attempts == 1
    assert "Pango ist weg" in document.render_error
    for _attempt in range(documents.RENDER_MAX_ATTEMPTS - 1):  # the scheduled retries
        documents.render_document(document.pk)
    document.refresh_from_db()
    assert document.state == Document.State.FAILED and document.render_attempts == documents.RENDER_MAX_ATTEMPTS
    assert documents.render_document(document.pk) is False  # no further attempt
    assert mail.outbox == []  # the mail never goes without its document
    assert OutboxMessage.objects.filter(state=OutboxMessage.State.WAITING).count() == 1


def test_staff_see_the_failure_and_erneut_erstellen_renders_and_mails(
        world, client, django_capture_on_commit_callbacks, monkeypatch):
    real = documents.render_pdf_locating
    _failing(monkeypatch)
    enrollment = enrollment_in(S.INTERESSENT, offer=world.offer, institution=world.kita, holder=world.holder)
    with django_capture_on_commit_callbacks(execute=True):
        svc.enrollment_submit(enrollment=enrollment, by=world.holder)
    document = enrollment.documents.get(kind="application")
    Document.objects.filter(pk=document.pk).update(state=Document.State.FAILED)

    client.force_login(world.staff)
    page = client.get(f"/admin/workpro_plugin/enrollment/inspect/{enrollment.pk}/")
    text = BeautifulSoup(page.content, "html.parser").get_text(" ", strip=True)
    assert "Erstellung fehlgeschlagen: RuntimeError: Pango ist weg" in text and "Erneut erstellen" in text
    action = f"/admin/workpro/anmeldung/{enrollment.pk}/erneut-erstellen/"
    monkeypatch.setattr(documents, "render_pdf_locating", real)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(action)
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.state == Document.State.READY and document.render_error == ""
    assert EnrollmentLog.objects.filter(enrollment=enrollment, action="workpro.enrollment.documents_retried",
                                        by=world.staff).exists()
    assert [m.subject for m in mail.outbox] == ["Anmeldung eingegangen: Krippenplatz"]
    # nothing failed any more: the action is refused, not a 500
    assert client.post(action).status_code == 400


def test_a_pending_document_is_shown_as_being_made_and_never_500s(
        world, client, django_capture_on_commit_callbacks, renders):
    enrollment, _callbacks = _submitted(world, django_capture_on_commit_callbacks, renders)
    document = enrollment.documents.get(kind="application")
    client.force_login(world.holder)
    listing = client.get("/workpro/konto/dokumente/", **HOST)
    assert listing.status_code == 200 and listing["Refresh"] == "5"
    soup = BeautifulSoup(listing.content, "html.parser")
    assert "wird erstellt …" in soup.get_text(" ", strip=True)
    assert not soup.select(f'a[href^="/workpro/konto/dokumente/{document.pk}/"]')
    detail = client.get(f"/workpro/konto/anmeldung/{enrollment.pk}/", **HOST)
    assert detail.status_code == 200 and "wird erstellt …" in detail.content.decode() and detail["Refresh"] == "5"

    for url in (f"/workpro/konto/dokumente/{document.pk}/", f"/workpro/konto/dokumente/{document.pk}/?download=1"):
        response = client.get(url, **HOST)
        assert response.status_code == 202 and response["Refresh"] == "5"
        assert "Das Dokument wird erstellt" in response.content.decode()
    Document.objects.filter(pk=document.pk).update(state=Document.State.FAILED, render_error="RuntimeError: x")
    failed = client.get(f"/workpro/konto/dokumente/{document.pk}/", **HOST)
    assert failed.status_code == 409 and "konnte nicht erstellt werden" in failed.content.decode()
    assert "RuntimeError" not in failed.content.decode()  # the technical error is for staff only

    # the Datenauskunft lists it without a file and does not fail
    export = person_export(person=enrollment.participant, by=world.holder, via="portal")
    assert export.missing == 0


def test_the_documents_list_reads_a_constant_number_of_queries(world, client, django_capture_on_commit_callbacks,
                                                               renders):
    client.force_login(world.holder)
    enrollment, _callbacks = _submitted(world, django_capture_on_commit_callbacks, renders)
    client.get("/workpro/konto/dokumente/", **HOST)  # the session's first request does more
    with CaptureQueriesContext(connection) as one:
        assert client.get("/workpro/konto/dokumente/", **HOST).status_code == 200
    for state in (Document.State.READY, Document.State.FAILED, Document.State.PENDING):
        Document.objects.create(kind="other", title=f"Dokument {state}", enrollment=enrollment,
                                owner=enrollment.participant, state=state)
    with CaptureQueriesContext(connection) as four:
        assert client.get("/workpro/konto/dokumente/", **HOST).status_code == 200
    assert len(four) == len(one)


def test_ratify_countersigns_after_commit_and_mails_the_contract_once_ready(
        world, django_capture_on_commit_callbacks, renders):
    enrollment = enrollment_in(S.ANGENOMMEN, offer=world.offer, institution=world.kita, holder=world.holder)
    with django_capture_on_commit_callbacks() as callbacks:
        svc.enrollment_ratify(enrollment=enrollment, by=world.staff)
    ratified = enrollment.documents.get(kind="ratified_contract")
    assert renders == [] and ratified.state == Document.State.PENDING and mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    ratified.refresh_from_db()
    assert renders == ["workpro_plugin/pdf/countersignature.html"] and ratified.state == Document.State.READY
    signed = enrollment.documents.get(kind="signed_contract")
    assert signed.sha256[:16] in _pdf_text(ratified).replace("\n", "")
    assert [m.subject for m in mail.outbox] == ["Vertrag ratifiziert: Krippenplatz"]
    assert mail.outbox[0].attachments[0][1].startswith(b"%PDF")


def test_the_sweep_queues_a_lost_or_abandoned_rendering_again(world, django_capture_on_commit_callbacks, renders):
    enrollment, _callbacks = _submitted(world, django_capture_on_commit_callbacks, renders)  # never committed
    document = enrollment.documents.get(kind="application")
    assert documents.sweep_renders() == 0  # just made: its task is on its way
    Document.objects.filter(pk=document.pk).update(deposited_at=timezone.now() - timedelta(minutes=3))
    with django_capture_on_commit_callbacks(execute=True):  # the mail it releases goes after commit
        assert documents.sweep_renders() == 1
    document.refresh_from_db()
    assert document.state == Document.State.READY and len(renders) == 1
    assert [m.subject for m in mail.outbox] == ["Anmeldung eingegangen: Krippenplatz"]
    # a worker that died while rendering: its claim goes stale and the row is rendered by the next sweep
    other = enrollment_in(S.INTERESSENT, offer=world.offer, institution=world.kita, holder=world.holder)
    with django_capture_on_commit_callbacks():
        svc.enrollment_submit(enrollment=other, by=world.holder)
    abandoned = other.documents.get(kind="application")
    Document.objects.filter(pk=abandoned.pk).update(render_claimed_at=timezone.now() - timedelta(minutes=11),
                                                    render_attempts=1)
    assert documents.render_document(abandoned.pk) is True  # a stale claim may be taken over
    assert documents.sweep_renders() == 0


# --- Änderungsmitteilung and Buchungsbestätigung: the letters on a concluded contract -----------------

def _run(callbacks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the commit: the render task runs
        for callback in callbacks:
            callback()


@pytest.fixture
def contract(world):
    """A ratified contract at 150 € with an income-based fee schedule (maximum rate 400 €, monthly)."""
    schedule = FeeSchedule.objects.create(name="Beiträge", maximum_rate=Decimal("400"), billing_period="monatlich")
    FeeBracket.objects.create(schedule=schedule, income_from=0, income_to=None, amount=Decimal("150"))
    world.offer.fee_schedule = schedule
    world.offer.save()
    enrollment = enrollment_in(S.RATIFIZIERT, offer=world.offer, institution=world.kita, holder=world.holder,
                               participant=make_child(world.holder, first_name="Lena"))
    Enrollment.objects.filter(pk=enrollment.pk).update(
        contract_number="KITA-2026-00007", costs=Decimal("150"), contract_start=TODAY.replace(day=1),
        contract_end=TODAY + timedelta(days=400))
    enrollment.refresh_from_db()
    return enrollment


def test_the_aenderungsmitteilung_is_rendered_after_commit_as_issued_and_its_mail_waits(
        world, contract, django_capture_on_commit_callbacks, renders):
    svc.enrollment_request_proof(enrollment=contract, by=world.staff, deadline=TODAY + timedelta(days=10))
    issued = timezone.now() + timedelta(days=11)
    with time_machine.travel(issued), django_capture_on_commit_callbacks() as callbacks:
        assert svc.apply_overdue_proofs() == 1
    notice = contract.documents.get(kind=Document.Kind.CHANGE_NOTICE)
    # inside the daily job's transaction: the fee changed, a pending row, no WeasyPrint, the mail waits
    assert renders == [] and notice.state == Document.State.PENDING and not notice.file
    message = OutboxMessage.objects.get(template="enrollment_event", context__event="fee_changed")
    assert message.state == OutboxMessage.State.WAITING and message.context["document_ids"] == [notice.pk]
    assert mail.outbox == []

    # changed before the task runs: the fee history, the participant's name, the offer's title
    first = svc.first_of_next_month(timezone.localdate(issued))
    FeePeriod.objects.filter(enrollment=contract, starts_on=first).update(amount=Decimal("333"), reason="später")
    Enrollment.objects.filter(pk=contract.pk).update(costs=Decimal("333"))
    Person.objects.filter(pk=contract.participant_id).update(first_name="Umbenannt")
    OfferPage.objects.filter(pk=world.offer.pk).update(title="Umbenanntes Angebot")
    _run(callbacks, django_capture_on_commit_callbacks)

    notice.refresh_from_db()
    assert renders == ["workpro_plugin/pdf/change_notice.html"] and notice.state == Document.State.READY
    text = _pdf_text(notice)
    assert "Änderungsmitteilung" in text and "400,00" in text and "150,00" in text and _shown(first) in text
    assert "monatlich" in text and "nicht eingegangen" in text and "Lena" in text and "Krippenplatz" in text
    assert timezone.localdate(issued).strftime("%d.%m.%Y") in text  # the day of issue, not of rendering
    assert "333" not in text and "später" not in text and "Umbenannt" not in text
    [sent] = mail.outbox
    assert sent.subject == "Änderungsmitteilung: Krippenplatz" and sent.attachments[0][1].startswith(b"%PDF")
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.SENT


@pytest.fixture
def addon_booking(world, contract, make_offer):
    """A requested booking of the add-on "Ferienbetreuung" (50 € once) on the ratified contract."""
    schedule = FeeSchedule.objects.create(name="Ferien", institution=world.kita, billing_period="einmalig",
                                          maximum_rate=Decimal("100.00"))
    FeeBracket.objects.create(schedule=schedule, income_from=0, income_to=None, amount=Decimal("50.00"))
    addon = make_offer(world.kita, "Ferienbetreuung", is_addon=True, starts_on=TODAY + timedelta(days=10),
                       ends_on=TODAY + timedelta(days=60), fee_schedule=schedule, capacity=5)
    addon.schedule, addon.location = "Mo–Fr 8–12 Uhr", "Turnhalle"
    addon.addon_for.add(world.offer)
    addon.save()
    complete_sections(contract, phase=2, income=20000)
    return addons.addon_book(enrollment=contract, addon=addon, by=world.holder, consent=True,
                             starts_on=TODAY + timedelta(days=12), ends_on=TODAY + timedelta(days=16))


def test_the_buchungsbestaetigung_is_rendered_after_commit_as_confirmed_and_its_mail_waits(
        world, client, addon_booking, django_capture_on_commit_callbacks, renders):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks() as callbacks:
        addons.addon_confirm(booking=addon_booking, by=world.caseworker)
    addon_booking.refresh_from_db()
    document = addon_booking.confirmation
    assert renders == [] and document.state == Document.State.PENDING and not document.file
    assert document.kind == Document.Kind.ADDON_CONFIRMATION and document.owner == addon_booking.enrollment.participant
    message = OutboxMessage.objects.get(template="addon_booking", context__event="confirmed")
    assert message.state == OutboxMessage.State.WAITING and message.context["document_ids"] == [document.pk]
    assert EnrollmentLog.objects.filter(action="workpro.enrollment.addon_confirmed", by=world.caseworker).exists()
    # the Datenauskunft names no file for it yet (the ZIP holds none)
    [exported] = addons.addon_bookings_export(addon_booking.enrollment.participant)
    assert exported["confirmation"] is None

    # Mein Konto and the admin say "wird erstellt …" (and look again), no link to a file that is not there
    client.force_login(world.holder)
    page = client.get(f"/workpro/konto/anmeldung/{addon_booking.enrollment_id}/zusatzangebote/", **HOST)
    assert page.status_code == 200 and page["Refresh"] == "5" and "wird erstellt …" in page.content.decode()
    assert f"/workpro/konto/dokumente/{document.pk}/" not in page.content.decode()
    client.force_login(world.caseworker)
    inspect = client.get(f"/admin/workpro_plugin/addonbooking/inspect/{addon_booking.pk}/")
    assert inspect.status_code == 200 and inspect["Refresh"] == "5" and "wird erstellt …" in inspect.content.decode()

    # changed before the task runs: the add-on's title, times and place, the booking's cost
    OfferPage.objects.filter(pk=addon_booking.addon_id).update(title="Sommerferien", schedule="abends",
                                                               location="Aula")
    AddonBooking.objects.filter(pk=addon_booking.pk).update(cost=Decimal("77.00"), cost_reason="nachträglich")
    _run(callbacks, django_capture_on_commit_callbacks)

    document.refresh_from_db()
    assert renders == ["workpro_plugin/pdf/addon_confirmation.html"] and document.state == Document.State.READY
    text = _pdf_text(document)
    for expected in ("Buchungsbestätigung", "Ferienbetreuung", "Mo–Fr 8–12 Uhr", "Turnhalle", "KITA-2026-00007",
                     "50,00", _shown(TODAY + timedelta(days=12)), "sachbearbeitung@kita.test"):
        assert expected in text, expected
    for later in ("Sommerferien", "abends", "Aula", "77,00", "nachträglich"):
        assert later not in text, later
    [sent] = mail.outbox
    assert sent.subject == "Buchungsbestätigung: Ferienbetreuung" and sent.attachments[0][2] == "application/pdf"
    page = client.get(f"/admin/workpro_plugin/addonbooking/inspect/{addon_booking.pk}/")
    assert "Refresh" not in page and f"/workpro/konto/dokumente/{document.pk}/" in page.content.decode()


def test_a_failed_buchungsbestaetigung_is_shown_to_staff_and_erneut_erstellen_renders_it(
        world, client, addon_booking, django_capture_on_commit_callbacks, monkeypatch):
    real = documents.render_pdf_locating
    _failing(monkeypatch)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        addons.addon_confirm(booking=addon_booking, by=world.caseworker)
    document = Document.objects.get(kind=Document.Kind.ADDON_CONFIRMATION)
    Document.objects.filter(pk=document.pk).update(state=Document.State.FAILED)
    client.force_login(world.caseworker)
    inspect = client.get(f"/admin/workpro_plugin/addonbooking/inspect/{addon_booking.pk}/")
    assert "Erstellung fehlgeschlagen: RuntimeError: Pango ist weg" in inspect.content.decode()
    monkeypatch.setattr(documents, "render_pdf_locating", real)
    with django_capture_on_commit_callbacks(execute=True):
        svc.enrollment_retry_documents(enrollment=addon_booking.enrollment_id, by=world.staff)
    document.refresh_from_db()
    assert document.state == Document.State.READY
    assert [m.subject for m in mail.outbox] == ["Buchungsbestätigung: Ferienbetreuung"]
