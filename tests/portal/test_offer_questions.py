"""The offer's own questions (#23): portal flow, validation, versioning, print, fingerprint, admin, exports."""

import io

import pytest
from bs4 import BeautifulSoup
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from tests.factories import make_child, pdf_bytes, set_questions
from tests.helpers import HOST
from workpro_plugin.models import Document, Enrollment, EnrollmentSection
from workpro_plugin.models.enrollment import print_is_current
from workpro_plugin.services import applications as app_svc
from workpro_plugin.services.documents import render_contract_offer_pdf
from workpro_plugin.services.privacy import person_export_data

pytestmark = pytest.mark.django_db
S = Enrollment.Status

ALLERGIES = {"type": "short_text", "id": "q-allergien", "label": "Allergien", "help_text": "z. B. Nüsse"}
SETTLING = {"type": "date", "id": "q-eingewoehnung", "label": "Eingewöhnung gewünscht ab"}
HOURS = {"type": "number", "id": "q-stunden", "label": "Betreuungsumfang (Stunden pro Woche)"}
LUNCH = {"type": "yes_no", "id": "q-mittag", "label": "Mittagessen gewünscht?"}
GROUP = {"type": "choice", "id": "q-gruppe", "label": "Wunschgruppe", "choices": ["Bären", "Füchse"],
         "required": False}
DAYS = {"type": "multiple_choice", "id": "q-tage", "label": "Betreuungstage", "choices": ["Mo", "Di", "Mi"]}
PASS = {"type": "file", "id": "q-impfpass", "label": "Impfausweis", "required": False}
LATER = {"type": "long_text", "id": "q-gewohnheiten", "label": "Schlafgewohnheiten", "phase": 2}
URL = "/workpro/konto/anmeldung/{pk}/angaben/{section}/"
VALID = {"q_q-allergien": "Erdnüsse", "q_q-eingewoehnung": "2027-08-02", "q_q-stunden": "35", "q_q-mittag": "ja",
         "q_q-gruppe": "Füchse", "q_q-tage": ["Mo", "Mi"]}


@pytest.fixture
def family(world, client):
    set_questions(world.offer, ALLERGIES, SETTLING, HOURS, LUNCH, GROUP, DAYS, PASS, LATER)
    enrollment = Enrollment.objects.create(offer=world.offer, institution=world.kita, account_holder=world.holder,
                                           participant=world.holder.workpro_person)
    client.force_login(world.holder)
    world.client, world.enrollment = client, enrollment
    return world


def _text(response) -> str:
    return BeautifulSoup(response.content, "html.parser").get_text(" ", strip=True)


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _post(w, data, section="questions"):
    return w.client.post(URL.format(pk=w.enrollment.pk, section=section), data, **HOST)


def _answers(w, section="questions") -> EnrollmentSection:
    return EnrollmentSection.objects.get(enrollment=w.enrollment, section=section)


def test_the_phase_one_questions_are_a_step_of_the_application(family):
    response = family.client.get(URL.format(pk=family.enrollment.pk, section="questions"), **HOST)
    assert response.status_code == 200
    text = _text(response)
    for label in ("Fragen der Einrichtung", "Allergien", "z. B. Nüsse", "Eingewöhnung gewünscht ab", "Wunschgruppe",
                  "Impfausweis"):
        assert label in text
    assert "Schlafgewohnheiten" not in text  # asked of a Kandidat, later
    assert b'enctype="multipart/form-data"' in response.content
    assert family.enrollment.required_sections(phase=1) == ["personal", "questions"]
    assert family.enrollment.required_sections() == ["personal", "income", "questions", "questions_candidate"]
    # Not yet Kandidat: the later questions are shown but cannot be answered.
    response = _post(family, {"q_q-gewohnheiten": "Mittagsschlaf"}, "questions_candidate")
    assert "kann dieser Abschnitt nicht bearbeitet werden" in _text(response)
    assert not EnrollmentSection.objects.filter(section="questions_candidate").exists()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("q_q-stunden", "viele", "Bitte eine Zahl eingeben."),
    ("q_q-stunden", "1e400", "kleinere Zahl"),
    ("q_q-eingewoehnung", "31.02.2027", "TT.MM.JJJJ"),
    ("q_q-eingewoehnung", "0001-01-01", "zwischen 1900 und 2100"),
    ("q_q-mittag", "vielleicht", "„ja“ oder „nein“"),
    ("q_q-gruppe", "Hacker", "eine der Möglichkeiten"),
    ("q_q-tage", ["Mo", "So"], "nur die angebotenen"),
    ("q_q-allergien", "", "Bitte beantworten Sie diese Frage."),
    ("q_q-allergien", "x" * 201, "höchstens 200 Zeichen"),
    ("q_q-allergien", "Nüsse\x00", ""),
])
def test_bad_answers_get_a_german_message_next_to_the_field_and_nothing_typed_is_lost(family, field, value,
                                                                                        message):
    response = _post(family, {**VALID, field: value})
    assert response.status_code == 400
    form = response.context["form"]
    errors = " ".join(form.errors.get(field, []))
    assert errors and message in errors
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.select_one(f"#id_{field}_error") is not None or soup.select(".wp-field--error")
    stored = _answers(family)
    assert not stored.is_complete
    assert stored.data["answers"]["q-allergien"] == VALID["q_q-allergien"] if field != "q_q-allergien" else True
    assert "Erdnüsse" in response.content.decode() or field == "q_q-allergien"


def test_valid_answers_are_kept_with_the_question_version(family):
    response = _post(family, {**VALID, "weiter": "1"})
    assert response.status_code == 302, _text(response)
    stored = _answers(family)
    assert stored.is_complete
    assert stored.data["answers"] == {"q-allergien": "Erdnüsse", "q-eingewoehnung": "2027-08-02", "q-stunden": "35",
                                      "q-mittag": True, "q-gruppe": "Füchse", "q-tage": ["Mo", "Mi"]}
    family.enrollment.refresh_from_db()
    assert [q["label"] for q in family.enrollment.questions][:2] == ["Allergien", "Eingewöhnung gewünscht ab"]
    # Shown again as answered.
    response = family.client.get(URL.format(pk=family.enrollment.pk, section="questions"), **HOST)
    assert 'value="Erdnüsse"' in response.content.decode()


def test_a_file_answer_is_checked_by_content_and_stored_as_a_document(family):
    fake = SimpleUploadedFile("impfpass.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = _post(family, {**VALID, "q_q-impfpass": fake})
    assert response.status_code == 400
    assert response.context["form"].errors["q_q-impfpass"]
    assert not Document.objects.exists()
    assert _answers(family).data["answers"]["q-allergien"] == "Erdnüsse"  # the typed answers stay as a draft
    good = SimpleUploadedFile("impfpass.pdf", pdf_bytes(), content_type="application/pdf")
    assert _post(family, {**VALID, "q_q-impfpass": good}).status_code == 302
    answer = _answers(family).data["answers"]["q-impfpass"]
    document = Document.objects.get(pk=answer["document"])
    assert (document.enrollment, document.title, answer["name"]) == (family.enrollment, "Impfausweis",
                                                                     "impfpass.pdf")
    # Saving again without a file keeps it; a new file supersedes it.
    assert _post(family, VALID).status_code == 302
    assert _answers(family).data["answers"]["q-impfpass"]["document"] == document.pk
    again = SimpleUploadedFile("neu.pdf", pdf_bytes(2), content_type="application/pdf")
    assert _post(family, {**VALID, "q_q-impfpass": again}).status_code == 302
    document.refresh_from_db()
    assert document.superseded


def test_answers_are_printed_in_the_anmeldung_and_the_angebot(family):
    assert _post(family, VALID).status_code == 302
    response = family.client.post(f"/workpro/konto/anmeldung/{family.enrollment.pk}/drucken/", **HOST)
    assert response.status_code == 200
    text = _pdf_text(response.content)
    for expected in ("Fragen der Einrichtung", "Allergien", "Erdnüsse", "Eingewöhnung gewünscht ab", "02.08.2027",
                     "35", "Mittagessen gewünscht?", "ja", "Betreuungstage", "Mo, Mi"):
        assert expected in text, expected
    offer_text = _pdf_text(render_contract_offer_pdf(family.enrollment, sign=False, preview=True))
    assert "Allergien" in offer_text and "Erdnüsse" in offer_text


def test_changing_an_answer_after_printing_needs_a_new_print(family):
    assert _post(family, VALID).status_code == 302
    family.client.post(f"/workpro/konto/anmeldung/{family.enrollment.pk}/drucken/", **HOST)
    family.enrollment.refresh_from_db()
    assert print_is_current(family.enrollment)
    assert _post(family, {**VALID, "q_q-allergien": "keine"}).status_code == 302
    family.enrollment.refresh_from_db()
    assert not print_is_current(family.enrollment)
    detail = family.client.get(f"/workpro/konto/anmeldung/{family.enrollment.pk}/", **HOST)
    assert detail.context["print_outdated"]


def test_changing_the_offers_questions_never_breaks_an_enrollment_already_started(family):
    assert _post(family, VALID).status_code == 302
    family.enrollment.refresh_from_db()
    fingerprint = family.enrollment.data_fingerprint()
    # The editor renames "Allergien", drops the date and adds a new required question.
    renamed = {**ALLERGIES, "label": "Unverträglichkeiten"}
    new = {"type": "short_text", "id": "q-neu", "label": "Kinderarzt"}
    set_questions(family.offer, renamed, HOURS, LUNCH, GROUP, DAYS, new)
    enrollment = Enrollment.objects.get(pk=family.enrollment.pk)
    assert enrollment.data_fingerprint() == fingerprint
    assert enrollment.sections_complete(phase=1) is False  # personal data are still missing, nothing else
    assert "questions" not in set(enrollment.required_sections(phase=1)) - {
        s.section for s in enrollment.sections.filter(is_complete=True)}
    response = family.client.get(URL.format(pk=enrollment.pk, section="questions"), **HOST)
    text = _text(response)
    assert "Allergien" in text and "Eingewöhnung gewünscht ab" in text and "Kinderarzt" not in text
    assert _post(family, VALID).status_code == 302  # the old version still validates
    # A new enrollment gets the questions as they are now.
    other = Enrollment.objects.create(offer=family.offer, institution=family.kita, account_holder=family.holder)
    assert [q["label"] for q in other.question_definitions][0] == "Unverträglichkeiten"
    assert "Kinderarzt" in [q["label"] for q in other.question_definitions]


def test_a_kandidat_answers_the_later_questions(family):
    assert _post(family, VALID).status_code == 302
    Enrollment.objects.filter(pk=family.enrollment.pk).update(status=S.KANDIDAT)
    response = _post(family, {"q_q-gewohnheiten": ""}, "questions_candidate")
    assert response.status_code == 400 and "Bitte beantworten Sie diese Frage." in _text(response)
    assert _post(family, {"q_q-gewohnheiten": "Mittagsschlaf 1 Stunde"}, "questions_candidate").status_code == 302
    assert _answers(family, "questions_candidate").data["answers"] == {"q-gewohnheiten": "Mittagsschlaf 1 Stunde"}


def test_staff_of_the_institution_see_the_answers_others_do_not(family, client):
    _post(family, VALID)
    good = SimpleUploadedFile("impfpass.pdf", pdf_bytes(), content_type="application/pdf")
    _post(family, {**VALID, "q_q-impfpass": good})
    document = Document.objects.get(title="Impfausweis")
    inspect = f"/admin/workpro_plugin/enrollment/inspect/{family.enrollment.pk}/"
    client.force_login(family.staff)
    text = _text(client.get(inspect))
    assert "Fragen der Einrichtung" in text and "Allergien" in text and "Erdnüsse" in text
    assert "impfpass.pdf (hochgeladen am" in text
    client.force_login(family.other_staff)
    assert client.get(inspect).status_code in (302, 403, 404)
    assert client.get(f"/workpro/konto/dokumente/{document.pk}/", **HOST).status_code in (302, 403, 404)
    client.force_login(family.stranger)
    assert client.get(f"/workpro/konto/dokumente/{document.pk}/", **HOST).status_code in (302, 403, 404)
    client.force_login(family.holder)
    assert client.get(f"/workpro/konto/dokumente/{document.pk}/", **HOST).status_code == 200


def test_answers_are_in_the_spreadsheet_export_and_the_privacy_export(family, client):
    _post(family, VALID)
    client.force_login(family.staff)
    response = client.get("/admin/workpro_plugin/enrollment/?export=csv")
    content = b"".join(response.streaming_content if response.streaming else [response.content]).decode("utf-8")
    assert "fragen der einrichtung" in content.lower()
    assert "Allergien: Erdnüsse" in content and "Betreuungstage: Mo, Mi" in content
    data = person_export_data(family.holder.workpro_person)
    enrollment = next(e for e in data["enrollments"] if e["id"] == family.enrollment.pk)
    by_label = {q["question"]: q for q in enrollment["questions"]}
    assert by_label["Allergien"]["answer"] == "Erdnüsse"
    assert by_label["Mittagessen gewünscht?"]["display"] == "ja"


def _answered_enrollments(world, count):
    """`count` more children of the holder with an answered application to the offer (its own questions)."""
    for n in range(count):
        child = make_child(world.holder, first_name=f"Kind{Enrollment.objects.count()}")
        enrollment = Enrollment.objects.create(offer=world.offer, institution=world.kita, account_holder=world.holder,
                                               participant=child)
        app_svc.questions_save(enrollment=enrollment, by=world.holder, section="questions",
                               answers={"q-allergien": f"Antwort {n}"}, is_complete=False)


def _export(client, export_format):
    response = client.get(f"/admin/workpro_plugin/enrollment/?export={export_format}")
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_the_spreadsheet_export_reads_the_answers_of_all_rows_in_one_query(family, client, export_format,
                                                                           django_assert_num_queries):
    _answered_enrollments(family, 2)
    client.force_login(family.staff)
    _export(client, export_format)  # the first request of a session fills caches
    with CaptureQueriesContext(connection) as two_rows:
        _export(client, export_format)
    _answered_enrollments(family, 4)
    with django_assert_num_queries(len(two_rows)):
        content = _export(client, export_format)
    if export_format == "csv":
        assert "Allergien: Antwort 3" in content.decode("utf-8")


def test_the_privacy_export_reads_the_enrollments_rows_in_a_fixed_number_of_queries(family,
                                                                                    django_assert_num_queries):
    _answered_enrollments(family, 2)
    person = family.holder.workpro_person
    with CaptureQueriesContext(connection) as two_rows:
        person_export_data(person)
    _answered_enrollments(family, 4)
    with django_assert_num_queries(len(two_rows)):
        data = person_export_data(person)
    assert len(data["enrollments"]) == 7
    assert {"Antwort 3"} <= {q["answer"] for e in data["enrollments"] for q in e["questions"]}


def test_unknown_question_ids_are_dropped(family):
    stored = app_svc.questions_save(enrollment=family.enrollment, by=family.holder, section="questions",
                                    answers={"q-allergien": "keine", "erfunden": "x"}, is_complete=False)
    assert stored.data["answers"] == {"q-allergien": "keine"}
    with pytest.raises(app_svc.EnrollmentActionError):
        app_svc.questions_save(enrollment=family.enrollment, by=family.stranger, section="questions",
                               answers={}, is_complete=False)
