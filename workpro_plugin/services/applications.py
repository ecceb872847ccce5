"""Data entry of an application: sections saved as drafts, uploads, the phase rules."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..lib.questions import QUESTION_SECTIONS, questions_of_section
from ..models import Document, Enrollment, EnrollmentSection
from . import accounts, audit
from .documents import UploadError, check_upload, deposit, merge_to_pdf
from .enrollments import EnrollmentActionError, log, pin_questions

S = Enrollment.Status
PERSON_FIELDS = ("last_name", "first_name", "date_of_birth", "street", "postcode", "city", "email", "mobile")


def editable_sections(enrollment: Enrollment) -> list[str]:
    """Phase 1 sections before the application, all sections as a candidate, none otherwise."""
    if enrollment.participant_id is None:
        return []
    if enrollment.status == S.INTERESSENT:
        return enrollment.required_sections(phase=1)
    if enrollment.status == S.KANDIDAT:
        return enrollment.required_sections(phase=2)
    return []


def _check_editable(enrollment: Enrollment, by, section: str) -> None:
    if enrollment.account_holder_id != getattr(by, "pk", None):
        raise EnrollmentActionError(_("Diese Aktion ist Ihnen nicht erlaubt."))
    if section not in editable_sections(enrollment):
        raise EnrollmentActionError(_("Dieser Abschnitt kann im Status „%(status)s“ nicht bearbeitet werden.")
                                    % {"status": enrollment.get_status_display()})


@transaction.atomic
def section_save(*, enrollment: Enrollment, by, section: str, data: dict, is_complete: bool,
                 holder: dict | None = None) -> EnrollmentSection:
    """Save a section as entered (a draft when incomplete); personal data also update the person.

    `holder`: the account holder's own birth date and mobile number, asked in the guardian section
    (the PSB1's data needed for "Neues Passwort anfordern"); only what is missing is filled in.
    """
    enrollment = Enrollment.objects.select_for_update(of=("self",)).select_related("participant").get(pk=enrollment.pk)
    _check_editable(enrollment, by, section)
    pin_questions(enrollment)
    if section == "personal" and is_complete:
        participant = enrollment.participant
        for field in PERSON_FIELDS:
            if field in data:
                setattr(participant, field, data[field])
        participant.full_clean(exclude=["user", "customer_number"])
        participant.save()
    if holder and is_complete:
        accounts.account_complete_recovery_data(user=by, date_of_birth=holder.get("date_of_birth"),
                                                mobile=holder.get("mobile", ""))
    stored, _created = EnrollmentSection.objects.update_or_create(
        enrollment=enrollment, section=section, defaults={"data": data, "is_complete": is_complete})
    audit.record(audit.A.APPLICATION_CHANGED, actor=by, obj=enrollment,
                 person=enrollment.participant if enrollment.participant_id else None,
                 detail={"section": section, "complete": is_complete})
    return stored


def personal_initial(enrollment: Enrollment) -> dict:
    participant = enrollment.participant
    return {field: getattr(participant, field) for field in PERSON_FIELDS}


def guardians_initial(enrollment: Enrollment) -> list[dict]:
    """The other guardians the family named last time: for this participant if possible, else for a sibling.

    Only complete sections of the same account holder count; the holder sees and may change the prefill.
    """
    previous = (EnrollmentSection.objects
                .filter(section="guardians", is_complete=True, enrollment__account_holder_id=enrollment.account_holder_id)
                .exclude(enrollment=enrollment).exclude(data__guardians=[])
                .order_by("-updated_at"))
    same_child = previous.filter(enrollment__participant_id=enrollment.participant_id).first()
    chosen = same_child or previous.first()
    return list(chosen.data.get("guardians", [])) if chosen else []


@transaction.atomic
def section_upload(*, enrollment: Enrollment, by, title: str, upload) -> Document:
    """Upload one required document (PDF, JPEG or PNG; checked by content, stored as PDF)."""
    enrollment = Enrollment.objects.select_for_update(of=("self",)).get(pk=enrollment.pk)
    _check_editable(enrollment, by, "uploads")
    pin_questions(enrollment)
    required = enrollment.offer.specific.required_document_list
    if title not in required:
        raise EnrollmentActionError(_("Dieser Nachweis wird für das Angebot nicht verlangt."))
    checked = check_upload(upload)
    content = merge_to_pdf([checked])
    enrollment.documents.filter(kind=Document.Kind.UPLOAD, title=title).update(superseded=True)
    document = deposit(kind=Document.Kind.UPLOAD, title=title, content=content, enrollment=enrollment, by=by)
    current = {d.title: d for d in enrollment.documents.filter(kind=Document.Kind.UPLOAD, superseded=False)}
    data = {"documents": [{"title": t, "sha256": current[t].sha256,
                           "date": timezone.localdate(current[t].deposited_at).isoformat()}
                          for t in required if t in current]}
    EnrollmentSection.objects.update_or_create(
        enrollment=enrollment, section="uploads",
        defaults={"data": data, "is_complete": all(t in current for t in required)})
    log(enrollment, action="document_uploaded", by=by, note=title)
    return document


class QuestionUploadError(UploadError):
    """A file answer refused by content; `question_id` names the question it belongs to."""

    def __init__(self, message: str, *, question_id: str):
        super().__init__(message)
        self.question_id = question_id


@transaction.atomic
def questions_save(*, enrollment: Enrollment, by, section: str, answers: dict, uploads: dict | None = None,
                   is_complete: bool) -> EnrollmentSection:
    """Save the answers to the offer's own questions of one phase (a draft when incomplete).

    The answers are keyed by the question ids of the version kept with the enrollment; unknown ids
    are dropped. `uploads` ({question id: file}) are checked by content (PDF, JPEG, PNG) before
    anything is written, stored as PDF documents of the enrollment and referenced from the answer;
    a file answered before stays the answer until a new one replaces it.
    """
    if section not in QUESTION_SECTIONS:
        raise EnrollmentActionError(_("Diesen Abschnitt gibt es nicht."))
    enrollment = Enrollment.objects.select_for_update(of=("self",)).get(pk=enrollment.pk)
    _check_editable(enrollment, by, section)
    pin_questions(enrollment)
    questions = {q["id"]: q for q in questions_of_section(enrollment.question_definitions, section)}
    checked = {}
    for question_id, upload in (uploads or {}).items():
        if questions.get(question_id, {}).get("type") != "file":
            raise EnrollmentActionError(_("Diese Frage gibt es in der Anmeldung nicht."))
        try:
            checked[question_id] = check_upload(upload)
        except UploadError as exc:
            raise QuestionUploadError(str(exc), question_id=question_id) from exc
    stored = EnrollmentSection.objects.filter(enrollment=enrollment, section=section).first()
    previous = (stored.data.get("answers") or {}) if stored else {}
    kept = {qid: value for qid, value in answers.items() if qid in questions and questions[qid]["type"] != "file"}
    for question_id, question in questions.items():
        if question["type"] == "file" and isinstance(previous.get(question_id), dict):
            kept[question_id] = previous[question_id]
    for question_id, upload in checked.items():
        earlier = previous.get(question_id)
        if isinstance(earlier, dict) and earlier.get("document"):
            enrollment.documents.filter(pk=earlier["document"]).update(superseded=True)
        document = deposit(kind=Document.Kind.UPLOAD, title=questions[question_id]["label"][:200],
                           content=merge_to_pdf([upload]), enrollment=enrollment, by=by)
        kept[question_id] = {"document": document.pk, "name": upload.name[:200], "sha256": document.sha256,
                             "date": timezone.localdate(document.deposited_at).isoformat()}
    complete = is_complete and all(kept.get(qid) not in (None, "", []) for qid, q in questions.items()
                                   if q.get("required"))
    result, _created = EnrollmentSection.objects.update_or_create(
        enrollment=enrollment, section=section, defaults={"data": {"answers": kept}, "is_complete": complete})
    audit.record(audit.A.APPLICATION_CHANGED, actor=by, obj=enrollment,
                 person=enrollment.participant if enrollment.participant_id else None,
                 detail={"section": section, "complete": complete, "files": sorted(checked)})
    return result
