"""Data entry, Anmeldung drucken/absenden, Angebot annehmen, documents: through the portal views."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from pypdf import PdfReader

from tests.factories import enrollment_in, pdf_bytes
from tests.helpers import HOST
from workpro_plugin.models import (
    Document,
    Enrollment,
    FeeBracket,
    FeeSchedule,
    OfferSection,
    Person,
)
from workpro_plugin.services import enrollments as svc

pytestmark = pytest.mark.django_db
S = Enrollment.Status
TODAY = timezone.localdate()


@pytest.fixture
def portal(world, client):
    schedule = FeeSchedule.objects.create(name="Beiträge", maximum_rate=Decimal("420"))
    FeeBracket.objects.create(schedule=schedule, income_from=0, income_to=40000, amount=Decimal("150"))
    FeeBracket.objects.create(schedule=schedule, income_from=40000, income_to=None, amount=Decimal("300"))
    offer = world.offer
    offer.fee_schedule = schedule
    offer.required_documents = "Impfnachweis"
    offer.save()
    OfferSection.objects.create(page=offer, section="guardians", phase=1)
    OfferSection.objects.create(page=offer, section="uploads", phase=2)
    client.force_login(world.holder)
    world.client = client
    return world


def _text(response) -> str:
    return BeautifulSoup(response.content, "html.parser").get_text(" ", strip=True)


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


CHOOSE = "teilnehmer_waehlen"


def _start_for_new_child(w):
    url = f"/workpro/angebot/{w.offer.pk}/anmelden/"
    response = w.client.post(url, **HOST)  # the offer page's button shows the choice, creates nothing
    assert response.status_code == 200 and "Wer soll teilnehmen?" in _text(response)
    assert not Enrollment.objects.filter(account_holder=w.holder).exists()
    response = w.client.post(url, {
        CHOOSE: "1", "participant": "neu", "last_name": "Müller", "first_name": "Jörg", "date_of_birth": "2024-03-01",
        "relation": "mutter", "custody": "on"}, **HOST)
    assert response.status_code == 302, _text(response)
    return Enrollment.objects.get(account_holder=w.holder)


def _fill_phase_one(w, enrollment):
    base = f"/workpro/konto/anmeldung/{enrollment.pk}/angaben"
    r = w.client.post(f"{base}/personal/", {
        "last_name": "Müller", "first_name": "Jörg", "date_of_birth": "2024-03-01", "street": "Straße 1",
        "postcode": "04109", "city": "Leipzig", "email": "", "mobile": "", "weiter": "1"}, **HOST)
    assert r.status_code == 302, _text(r)
    r = w.client.post(f"{base}/guardians/", {
        "guardians-TOTAL_FORMS": "1", "guardians-INITIAL_FORMS": "0", "guardians-MIN_NUM_FORMS": "0",
        "guardians-MAX_NUM_FORMS": "3", "guardians-0-last_name": "Müller", "guardians-0-first_name": "Uwe",
        "guardians-0-relation": "vater", "guardians-0-phone": "0151 23456789", "guardians-0-email": ""}, **HOST)
    assert r.status_code == 302, _text(r)


def test_child_gets_numbers_and_holder_becomes_psb1(portal):
    enrollment = _start_for_new_child(portal)
    child = enrollment.participant
    assert (child.first_name, child.is_minor) == ("Jörg", True)
    assert child.primary_guardian() == portal.holder.workpro_person
    assert enrollment.contract_number == f"KITA-{TODAY.year}-00001" and child.customer_number == "K-000001"


def test_adult_cannot_be_added_as_a_new_child(portal):
    response = portal.client.post(f"/workpro/angebot/{portal.offer.pk}/anmelden/", {
        CHOOSE: "1", "participant": "neu", "last_name": "Groß", "first_name": "Erwin", "date_of_birth": "1990-01-01",
        "relation": "vater", "custody": "on"}, **HOST)
    assert response.status_code == 400
    assert "Volljährige registrieren sich bitte selbst" in _text(response)
    assert not Person.objects.filter(first_name="Erwin").exists()
    assert not Enrollment.objects.filter(account_holder=portal.holder).exists()


def test_a_child_outside_the_age_group_is_refused_with_the_reason(portal):
    """A 3-year-old for a 6–10-year Hort place: refused when chosen, nothing created; a fitting child is enrolled."""
    offer = portal.offer
    offer.age_min, offer.age_max, offer.starts_on = 6, 10, TODAY + timedelta(days=60)
    offer.save()
    url = f"/workpro/angebot/{offer.pk}/anmelden/"
    born = (TODAY - timedelta(days=3 * 365 + 30)).isoformat()
    response = portal.client.post(url, {CHOOSE: "1", "participant": "neu", "last_name": "Klein", "first_name": "Mia",
                                        "date_of_birth": born, "relation": "mutter", "custody": "on"}, **HOST)
    assert response.status_code == 400
    text = _text(response)
    assert "6 bis 10 Jahren" in text and "Mia Klein ist am" in text and "3 Jahre alt" in text
    assert not Person.objects.filter(first_name="Mia").exists() and not Enrollment.objects.exists()
    # The holder (an adult) is refused as well, with the age group named.
    response = portal.client.post(url, {CHOOSE: "1", "participant": str(portal.holder.workpro_person.pk)}, **HOST)
    assert response.status_code == 400 and "6 bis 10 Jahren" in _text(response)
    older = (TODAY - timedelta(days=7 * 365)).isoformat()
    response = portal.client.post(url, {CHOOSE: "1", "participant": "neu", "last_name": "Klein", "first_name": "Ben",
                                        "date_of_birth": older, "relation": "mutter", "custody": "on"}, **HOST)
    assert response.status_code == 302
    assert Enrollment.objects.get().participant.first_name == "Ben"


def test_an_interest_from_the_registration_is_completed_not_duplicated(portal):
    interest = Enrollment.objects.create(offer=portal.offer, institution=portal.kita, account_holder=portal.holder)
    response = portal.client.post(f"/workpro/angebot/{portal.offer.pk}/anmelden/", {
        CHOOSE: "1", "participant": str(portal.holder.workpro_person.pk)}, **HOST)
    assert response.status_code == 302
    interest.refresh_from_db()
    assert interest.participant == portal.holder.workpro_person and Enrollment.objects.count() == 1


def test_section_errors_keep_what_was_typed_as_a_draft(portal):
    enrollment = _start_for_new_child(portal)
    url = f"/workpro/konto/anmeldung/{enrollment.pk}/angaben/personal/"
    response = portal.client.post(url, {"last_name": "Müller", "first_name": "Jörg", "date_of_birth": "01.13.2024",
                                        "street": "Straße 1", "postcode": "123", "city": "Leipzig"}, **HOST)
    assert response.status_code == 400
    form = response.context["form"]
    assert "TT.MM.JJJJ" in " ".join(form.errors["date_of_birth"])
    assert "fünfstellige Postleitzahl" in " ".join(form.errors["postcode"])
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.find("input", {"name": "street"})["value"] == "Straße 1"
    section = enrollment.sections.get(section="personal")
    assert not section.is_complete and section.data["street"] == "Straße 1"
    again = portal.client.get(url, **HOST)
    assert BeautifulSoup(again.content, "html.parser").find("input", {"name": "street"})["value"] == "Straße 1"


def test_print_then_submit_and_the_fingerprint_rule(portal, run_on_commit):
    enrollment = _start_for_new_child(portal)
    _fill_phase_one(portal, enrollment)
    submit_url = f"/workpro/konto/anmeldung/{enrollment.pk}/absenden/"
    refused = portal.client.post(submit_url, follow=True, **HOST)
    assert "drucken" in _text(refused)
    assert Enrollment.objects.get(pk=enrollment.pk).status == S.INTERESSENT

    printed = portal.client.post(f"/workpro/konto/anmeldung/{enrollment.pk}/drucken/", **HOST)
    assert printed["Content-Type"] == "application/pdf"
    text = _pdf_text(printed.content)
    for expected in ("Anmeldung", "Müller", "Jörg", f"KITA-{TODAY.year}-00001", "K-000001", "Krippenplatz",
                     "Uwe", "Straße 1", "Seite 1 von"):
        assert expected in text, expected
    assert "Handynummer" not in text  # a child is not asked for a mobile

    # a change after printing needs a new print
    portal.client.post(f"/workpro/konto/anmeldung/{enrollment.pk}/angaben/personal/", {
        "last_name": "Müller", "first_name": "Jörg", "date_of_birth": "2024-03-01", "street": "Straße 2",
        "postcode": "04109", "city": "Leipzig"}, **HOST)
    refused = portal.client.post(submit_url, follow=True, **HOST)
    assert "seit dem letzten Druck geändert" in _text(refused)
    portal.client.post(f"/workpro/konto/anmeldung/{enrollment.pk}/drucken/", **HOST)
    with run_on_commit():
        done = portal.client.post(submit_url, follow=True, **HOST)
    assert "Status: Bewerber" in _text(done)
    enrollment.refresh_from_db()
    assert enrollment.status == S.BEWERBER
    application = enrollment.documents.get(kind="application")
    assert "Straße 2" in _pdf_text(application.file.read())
    sent = mail.outbox[-1]
    assert sent.subject == "Anmeldung eingegangen: Krippenplatz"
    assert sent.attachments[0][0].endswith(".pdf") and sent.attachments[0][1].startswith(b"%PDF")


def test_a_child_is_not_asked_for_a_mobile_but_an_adult_participant_is(portal):
    enrollment = _start_for_new_child(portal)
    page = BeautifulSoup(portal.client.get(f"/workpro/konto/anmeldung/{enrollment.pk}/angaben/personal/",
                                           **HOST).content, "html.parser")
    assert page.find("input", {"name": "street"}) and not page.find("input", {"name": "mobile"})
    assert "neues Passwort per SMS" not in page.get_text()
    own = enrollment_in(S.INTERESSENT, offer=portal.offer, institution=portal.kita, holder=portal.holder)
    page = BeautifulSoup(portal.client.get(f"/workpro/konto/anmeldung/{own.pk}/angaben/personal/",
                                           **HOST).content, "html.parser")
    assert page.find("input", {"name": "mobile"})


def test_the_first_print_shows_no_income_and_no_rate_before_the_income_is_given(portal):
    OfferSection.objects.create(page=portal.offer, section="income", phase=2)
    enrollment = _start_for_new_child(portal)
    _fill_phase_one(portal, enrollment)
    text = _pdf_text(portal.client.post(f"/workpro/konto/anmeldung/{enrollment.pk}/drucken/", **HOST).content)
    assert "0,00 €" not in text and "420,00" not in text and "Es gilt der Höchstsatz" not in text
    assert "noch nicht angegeben" in text and "sobald es angegeben ist" in text
    enrollment.refresh_from_db()
    assert enrollment.costs_period == "monatlich"


def test_costs_show_their_period(portal):
    enrollment = enrollment_in(S.ANGEBOT, offer=portal.offer, institution=portal.kita, holder=portal.holder)
    Enrollment.objects.filter(pk=enrollment.pk).update(costs=Decimal("260"))
    page = _text(portal.client.get(f"/workpro/konto/anmeldung/{enrollment.pk}/", **HOST))
    assert "260,00 € monatlich" in page
    offer_page = _text(portal.client.get(portal.offer.url, **HOST))
    assert "150,00 € monatlich" in offer_page and "Höchstsatz: 420,00 € monatlich." in offer_page


def test_income_section_shows_the_computed_fee(portal):
    enrollment = enrollment_in(S.KANDIDAT, offer=portal.offer, institution=portal.kita, holder=portal.holder)
    url = f"/workpro/konto/anmeldung/{enrollment.pk}/angaben/income/"
    response = portal.client.post(url, {
        "earners-TOTAL_FORMS": "2", "earners-INITIAL_FORMS": "0", "earners-MIN_NUM_FORMS": "1",
        "earners-MAX_NUM_FORMS": "10", "earners-0-name": "Mama", "earners-0-annual_income": "25000",
        "earners-1-name": "Papa", "earners-1-annual_income": "20000,50"}, **HOST)
    assert response.status_code == 302
    assert enrollment.declared_income() == Decimal("45000.50")
    page = _text(portal.client.get(url, **HOST))
    assert "300,00 €" in page
    bad = portal.client.post(url, {
        "earners-TOTAL_FORMS": "1", "earners-INITIAL_FORMS": "0", "earners-MIN_NUM_FORMS": "1",
        "earners-MAX_NUM_FORMS": "10", "earners-0-name": "Mama", "earners-0-annual_income": "-5"}, **HOST)
    assert bad.status_code == 400 and "nicht negativ" in _text(bad)


def test_sections_are_read_only_after_submitting(portal):
    enrollment = enrollment_in(S.BEWERBER, offer=portal.offer, institution=portal.kita, holder=portal.holder)
    url = f"/workpro/konto/anmeldung/{enrollment.pk}/angaben/personal/"
    response = portal.client.post(url, {"last_name": "X"}, **HOST)
    assert response.status_code == 200
    assert "kann dieser Abschnitt nicht bearbeitet werden" in _text(response)
    assert Person.objects.get(pk=enrollment.participant_id).last_name == "Muster"


def _png(size=(40, 30)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, format="PNG")
    return buffer.getvalue()


def _jpeg_with_exif() -> bytes:
    from PIL import Image

    image = Image.new("RGB", (60, 40), "red")
    exif = Image.Exif()
    exif[0x010F] = "Kamera GmbH"  # Make
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("vertrag.pdf", b"MZ\x90\x00" + b"\x00" * 100, "keine PDF-, JPEG- oder PNG-Datei"),
        ("leer.pdf", b"", "leer"),
        ("kaputt.jpg", _jpeg_with_exif()[:200], "beschädigt oder unvollständig"),
        ("script.pdf", b"%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj",
         "aktive Inhalte"),
        ("kaputt.pdf", b"%PDF-1.4 this is not really a pdf", "keine lesbare PDF-Datei"),
        ("bild.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
         "keine PDF-, JPEG- oder PNG-Datei"),
    ],
)
def test_signed_upload_is_checked_by_content(portal, name, content, message):
    enrollment = enrollment_in(S.ANGEBOT, offer=portal.offer, institution=portal.kita, holder=portal.holder)
    Document.objects.filter(enrollment=enrollment).delete()
    response = portal.client.post(f"/workpro/konto/anmeldung/{enrollment.pk}/angebot-annehmen/",
                                  {"files": [SimpleUploadedFile(name, content)]}, **HOST)
    assert response.status_code == 400
    assert message in _text(response)
    enrollment.refresh_from_db()
    assert enrollment.status == S.ANGEBOT
    assert not enrollment.documents.filter(kind="signed_contract").exists()


def test_decompression_bomb_is_refused(portal, settings):
    from workpro_plugin.services import images

    enrollment = enrollment_in(S.ANGEBOT, offer=portal.offer, institution=portal.kita, holder=portal.holder)
    bomb = _png(size=(9000, 9000))  # 81 megapixels of white compress to a few KB
    assert len(bomb) < 500_000
    response = portal.client.post(f"/workpro/konto/anmeldung/{enrollment.pk}/angebot-annehmen/",
                                  {"files": [SimpleUploadedFile("scan.png", bomb)]}, **HOST)
    assert response.status_code == 400 and "zu viele Bildpunkte" in _text(response)
    assert images.MAX_IMAGE_PIXELS < 9000 * 9000


def test_too_large_upload_is_refused(portal, monkeypatch):
    from workpro_plugin.services import documents

    monkeypatch.setattr(documents, "MAX_UPLOAD_BYTES", 1000)
    enrollment = enrollment_in(S.ANGEBOT, offer=portal.offer, institution=portal.kita, holder=portal.holder)
    response = portal.client.post(f"/workpro/konto/anmeldung/{enrollment.pk}/angebot-annehmen/",
                                  {"files": [SimpleUploadedFile("gross.pdf", pdf_bytes(3) + b" " * 2000)]}, **HOST)
    assert response.status_code == 400 and "20 MB" in _text(response)


def test_signed_pages_and_photos_become_one_pdf_without_exif(portal, run_on_commit):
    enrollment = enrollment_in(S.ANGEBOT, offer=portal.offer, institution=portal.kita, holder=portal.holder)
    Document.objects.filter(enrollment=enrollment).delete()
    files = [SimpleUploadedFile("seite1.pdf", pdf_bytes(2)), SimpleUploadedFile("seite3.jpg", _jpeg_with_exif()),
             SimpleUploadedFile("seite4.png", _png())]
    with run_on_commit():
        response = portal.client.post(f"/workpro/konto/anmeldung/{enrollment.pk}/angebot-annehmen/",
                                      {"files": files}, **HOST)
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.status == S.ANGENOMMEN
    signed = enrollment.documents.get(kind="signed_contract")
    content = signed.file.read()
    assert len(PdfReader(io.BytesIO(content)).pages) == 4
    assert b"Kamera GmbH" not in content
    import hashlib
    assert signed.sha256 == hashlib.sha256(content).hexdigest()


def test_contract_offer_and_ratified_pdfs(portal, run_on_commit):
    enrollment = enrollment_in(S.EINGESTUFT, offer=portal.offer, institution=portal.kita, holder=portal.holder)
    with run_on_commit():
        svc.enrollment_make_offer(enrollment=enrollment, by=portal.staff, costs=Decimal("300.00"),
                                  contract_start=date(TODAY.year + 1, 1, 1), contract_end=date(TODAY.year + 1, 12, 31),
                                  costs_reason="Höchstsatz laut Vereinbarung")
    offer_pdf = enrollment.documents.get(kind="contract_offer")
    text = _pdf_text(offer_pdf.file.read())
    assert "300,00 €" in text and "Vertragsbeginn" in text and "Höchstsatz laut Vereinbarung" in text
    assert mail.outbox[-1].attachments[0][1].startswith(b"%PDF")

    portal.client.post(f"/workpro/konto/anmeldung/{enrollment.pk}/angebot-annehmen/",
                       {"files": [SimpleUploadedFile("unterschrieben.pdf", pdf_bytes(2))]}, **HOST)
    with run_on_commit():
        svc.enrollment_ratify(enrollment=enrollment, by=portal.staff)
    ratified = enrollment.documents.get(kind="ratified_contract")
    reader = PdfReader(io.BytesIO(ratified.file.read()))
    assert len(reader.pages) == 3  # two signed pages + the countersignature page
    signed = enrollment.documents.get(kind="signed_contract", superseded=False)
    last_page = reader.pages[-1].extract_text()
    assert "Ratifizierung" in last_page and signed.sha256[:16] in last_page.replace("\n", "")


@pytest.mark.parametrize("who", ["stranger", "other_staff"])
def test_documents_are_private(portal, client, who):
    enrollment = enrollment_in(S.ANGENOMMEN, offer=portal.offer, institution=portal.kita, holder=portal.holder)
    document = enrollment.documents.get()
    client.force_login(getattr(portal, who))
    assert client.get(f"/workpro/konto/dokumente/{document.pk}/", **HOST).status_code == 404
    assert client.get(f"/workpro/konto/anmeldung/{enrollment.pk}/", **HOST).status_code == 404
    client.logout()
    assert client.get(f"/workpro/konto/dokumente/{document.pk}/", **HOST).status_code == 302
    assert not document.file.name.startswith("/") and "media" not in document.file.storage.location.split("/")[-1]


def test_holder_and_staff_open_documents_and_delivery_is_recorded(portal):
    from django.test import Client

    enrollment = enrollment_in(S.ANGENOMMEN, offer=portal.offer, institution=portal.kita, holder=portal.holder)
    document = enrollment.documents.get()
    staff_client = Client()
    staff_client.force_login(portal.staff)
    assert staff_client.get(f"/workpro/konto/dokumente/{document.pk}/", **HOST).status_code == 200
    document.refresh_from_db()
    assert document.first_opened_at is None  # staff opening it is not the delivery
    response = portal.client.get(f"/workpro/konto/dokumente/{document.pk}/?download=1", **HOST)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    document.refresh_from_db()
    assert document.first_opened_at is not None


def test_required_upload_completes_the_section(portal):
    enrollment = enrollment_in(S.KANDIDAT, offer=portal.offer, institution=portal.kita, holder=portal.holder)
    url = f"/workpro/konto/anmeldung/{enrollment.pk}/angaben/uploads/"
    bad = portal.client.post(url, {"title": "Impfnachweis", "file": SimpleUploadedFile("x.pdf", b"GIF89a")}, **HOST)
    assert bad.status_code == 400
    ok = portal.client.post(url, {"title": "Impfnachweis", "file": SimpleUploadedFile("impf.png", _png())}, **HOST)
    assert ok.status_code == 302
    section = enrollment.sections.get(section="uploads")
    assert section.is_complete and section.data["documents"][0]["title"] == "Impfnachweis"


def test_upload_after_the_deadline_is_refused_and_stores_nothing(portal):
    enrollment = enrollment_in(S.ANGEBOT, offer=portal.offer, institution=portal.kita, holder=portal.holder)
    Document.objects.filter(enrollment=enrollment).delete()
    Enrollment.objects.filter(pk=enrollment.pk).update(signed_copy_deadline=TODAY - timedelta(days=1))
    storage_before = _stored_files()
    response = portal.client.post(f"/workpro/konto/anmeldung/{enrollment.pk}/angebot-annehmen/",
                                  {"files": [SimpleUploadedFile("scan.pdf", pdf_bytes())]}, **HOST)
    assert response.status_code == 400 and "Frist" in _text(response)
    assert not enrollment.documents.exists()
    assert _stored_files() == storage_before


def _stored_files() -> set[str]:
    import os

    root = Document._meta.get_field("file").storage.location
    return {os.path.join(d, f) for d, _, files in os.walk(root) for f in files}


def test_guardian_section_asks_the_psb1_for_birth_date_and_mobile_once(portal, run_on_commit):
    """What "Neues Passwort anfordern" checks is asked where it is natural: the PSB1's own data."""
    holder = portal.holder.workpro_person
    Person.objects.filter(pk=holder.pk).update(date_of_birth=None, mobile="")
    enrollment = _start_for_new_child(portal)
    url = f"/workpro/konto/anmeldung/{enrollment.pk}/angaben/guardians/"
    page = _text(portal.client.get(url, **HOST))
    assert "Ihr Geburtsdatum" in page and "Ihre Handynummer" in page and "neues Passwort per SMS" in page
    data = {"guardians-TOTAL_FORMS": "0", "guardians-INITIAL_FORMS": "0", "guardians-MIN_NUM_FORMS": "0",
            "guardians-MAX_NUM_FORMS": "3", "holder-date_of_birth": "1985-04-12", "holder-mobile": "12"}
    bad = portal.client.post(url, data, **HOST)
    assert bad.status_code == 400 and "gültige" in _text(bad)
    with run_on_commit():
        assert portal.client.post(url, {**data, "holder-mobile": "0151 23456789"}, **HOST).status_code == 302
    holder.refresh_from_db()
    assert (holder.date_of_birth, holder.mobile) == (date(1985, 4, 12), "+4915123456789")
    assert any(portal.holder.email in m.to and "Handynummer" in m.subject for m in mail.outbox)
    page = _text(portal.client.get(url, **HOST))
    assert "Ihr Geburtsdatum" not in page  # on file now: changed only under Meine Daten, with the password
    portal.client.post(url, {**data, "holder-mobile": "0151 99999999"}, **HOST)
    holder.refresh_from_db()
    assert holder.mobile == "+4915123456789"


def test_other_guardians_are_prefilled_from_the_familys_previous_enrollment(portal):
    first = _start_for_new_child(portal)
    _fill_phase_one(portal, first)  # names Uwe Müller as the father
    sibling = portal.client.post(f"/workpro/angebot/{portal.offer.pk}/anmelden/", {
        CHOOSE: "1", "participant": "neu", "last_name": "Müller", "first_name": "Ida", "date_of_birth": "2025-01-01",
        "relation": "mutter", "custody": "on"}, **HOST)
    assert sibling.status_code == 302
    second = Enrollment.objects.get(participant__first_name="Ida")
    page = BeautifulSoup(portal.client.get(f"/workpro/konto/anmeldung/{second.pk}/angaben/guardians/",
                                           **HOST).content, "html.parser")
    assert page.find("input", {"name": "guardians-0-first_name"})["value"] == "Uwe"
    assert page.find("input", {"name": "guardians-0-phone"})["value"]
    # A stranger's guardians are never offered.
    other = enrollment_in(S.INTERESSENT, offer=portal.offer, institution=portal.kita, holder=portal.stranger)
    portal.client.force_login(portal.stranger)
    page = BeautifulSoup(portal.client.get(f"/workpro/konto/anmeldung/{other.pk}/angaben/guardians/",
                                           **HOST).content, "html.parser")
    assert "Uwe" not in page.get_text() and not page.find("input", {"value": "Uwe"})
