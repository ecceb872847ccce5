"""Data protection (DSGVO): consent records, the export of a person's data, retention.

Other modules add their data to the export and to the erasure by registering
callables (chat messages, apps, add-on bookings ...):

    from workpro_plugin.services import privacy
    privacy.register_exporter("chat", lambda person: [...])      # JSON-able data
    privacy.register_eraser("chat", lambda person: 3)            # returns a count
    privacy.register_export_files("care", lambda person: [("fotos/1-foto.jpg", field_file)])
    privacy.register_retention("access_log", lambda now: 12)    # the daily run; returns a count

An exporter returns what belongs to the person; an eraser removes or anonymises it
when the person is anonymised and returns how many rows it touched; a file source
names further files (not Documents) that go into the ZIP beside data.json.
The modules register when Django starts (WorkProConfig.ready imports them).

The complete export is for the person themself (and their PSB1) and for superusers. Staff
export only what belongs to their institutions: a section registered with `scoped=True`
is called as `exporter(person, institutions=ids)` and must return only what belongs to
those institutions; a section registered without it (the person's own logins, say) is
left out of staff exports altogether, so a section added later cannot leak by default.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import PROTECT, Max, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import conf
from ..access import speaks_for
from ..lib.questions import QUESTION_SECTIONS, display_answer, questions_of_section
from ..lib.users import login_field
from ..models import (
    CLOSED_STATUSES,
    Consent,
    Document,
    Enrollment,
    EnrollmentLog,
    EnrollmentSection,
    Institution,
    Message,
    OutboxMessage,
    Person,
    PrivacyLog,
)
from ..selectors.institutions import staff_institutions
from .errors import ServiceError

logger = logging.getLogger(__name__)
S = Enrollment.Status

ACTION_EXPORTED = "workpro.privacy.exported"
ACTION_ANONYMISED = "workpro.privacy.anonymised"
ACTION_RETENTION = "workpro.privacy.retention"
ACTION_ERASURE_REQUESTED = "workpro.privacy.erasure_requested"
ANONYMISED_NAME = "Anonymisiert"

_exporters: dict[str, Callable[[Person], object]] = {}
_erasers: dict[str, Callable[[Person], int]] = {}
_file_sources: dict[str, Callable[[Person], Iterable[tuple[str, object]]]] = {}
# Sections (exporters and file sources) that can answer for a set of institutions.
_scoped_exporters: set[str] = set()
_scoped_file_sources: set[str] = set()
_retention_runs: dict[str, Callable[..., int]] = {}


def register_exporter(name: str, exporter: Callable[..., object], *, scoped: bool = False) -> None:
    """Add a section `name` to every export; `exporter(person)` returns JSON-able data.

    With `scoped=True` the exporter also accepts `institutions=` (a set of institution ids) and
    then returns only what belongs to those institutions; only such sections go into a staff export.
    """
    _exporters[name] = exporter
    (_scoped_exporters.add if scoped else _scoped_exporters.discard)(name)


def register_eraser(name: str, eraser: Callable[[Person], int]) -> None:
    """Run `eraser(person)` when a person is anonymised; it returns the number of rows touched."""
    _erasers[name] = eraser


def register_retention(name: str, purge: Callable[..., int]) -> None:
    """Run `purge(now=...)` in the daily retention run (apply_retention); it returns how many rows went."""
    _retention_runs[name] = purge


def register_export_files(name: str, source: Callable[..., Iterable[tuple[str, object]]], *,
                          scoped: bool = False) -> None:
    """Add files to every export: `source(person)` yields (path in the ZIP, FieldFile) pairs;
    `scoped` as for register_exporter."""
    _file_sources[name] = source
    (_scoped_file_sources.add if scoped else _scoped_file_sources.discard)(name)


# --- consent --------------------------------------------------------------------------------

def consent_version(text: str) -> str:
    """The version of a consent text: its SHA-256, so a changed wording is a new version."""
    return hashlib.sha256(" ".join(str(text).split()).encode()).hexdigest()


def consent_record(*, kind: str, text, person: Person | None = None, user=None, subject: str = "",
                   ip: str | None = None) -> Consent:
    """Record a consent with the exact German text shown, its version hash, time and IP address."""
    with translation.override("de"):
        wording = str(text)
    return Consent.objects.create(
        person=person, user=user or (person.user if person is not None else None), kind=kind, subject=subject[:200],
        text=wording, version=consent_version(wording), ip=ip or None,
    )


def consent_withdraw(*, consent: Consent) -> Consent:
    """A withdrawn consent stays on record with the time it was withdrawn."""
    Consent.objects.filter(pk=consent.pk, withdrawn_at__isnull=True).update(withdrawn_at=timezone.now())
    consent.refresh_from_db()
    return consent


# --- who may export whose data ----------------------------------------------------------------

def portal_exportable_people(user) -> list[Person]:
    """The account holder's own person and the people they speak for (their wards as PSB1)."""

    own = getattr(user, "workpro_person", None) if user is not None and user.is_authenticated else None
    if own is None:
        return []
    wards = Person.objects.filter(guardianships__guardian=own, guardianships__is_primary=True,
                                  anonymised_at__isnull=True).distinct()
    return [own, *[ward for ward in wards if speaks_for(user, ward)]]


def staff_may_export(user, person: Person) -> bool:
    """Superusers, and staff of an institution the person has an enrollment with."""

    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return enrollments_of(person).filter(institution__in=staff_institutions(user)).exists()


def export_scope(user, person: Person) -> frozenset[int] | None:
    """What an export by `user` may hold: None for the complete export (a superuser, or the
    person themself), otherwise the ids of the institutions `user` works for. A staff member
    of institution A never exports what the person has at institution B."""

    if user is not None and user.is_authenticated and (
            user.is_superuser or (person.user_id is not None and person.user_id == user.pk)):
        return None
    return frozenset(staff_institutions(user).values_list("pk", flat=True))


def consents_for(user, person: Person):
    """The consents shown on the person's page in the admin: all for superusers; for staff those
    given for an offer of their institutions (a consent names its offer, not the institution)."""
    consents = person.consents.all()
    scope = export_scope(user, person)
    if scope is None:
        return consents
    titles = enrollments_of(person).filter(institution_id__in=scope).values_list("offer__title", flat=True)
    return consents.filter(subject__in=list(titles))


def privacy_log_for(user, person: Person):
    """The privacy log on the person's page in the admin: all for superusers; for staff the
    entries of the system, of the person and of staff of their own institutions (an export by
    another institution's staff would tell them where else the person is known)."""
    log = person.privacy_log.select_related("by")
    scope = export_scope(user, person)
    if scope is None:
        return log
    colleagues = Institution.objects.filter(pk__in=scope)
    where = Q(by__isnull=True) | Q(by=user) | Q(by__groups__in=colleagues.values("staff_group")) | Q(
        by__groups__in=colleagues.values("lead_group")) | Q(by__groups__in=colleagues.values("operator__lead_group"))
    if person.user_id:
        where |= Q(by_id=person.user_id)
    return log.filter(where).distinct()


# --- export ---------------------------------------------------------------------------------

def enrollments_of(person: Person):
    """Enrollments the person takes part in or holds as account holder."""
    where = Q(participant=person)
    if person.user_id:
        where |= Q(account_holder_id=person.user_id)
    return Enrollment.objects.filter(where)


def _documents_of(person: Person, institutions: frozenset[int] | None = None):
    documents = Document.objects.filter(Q(owner=person) | Q(enrollment__in=enrollments_of(person)))
    if institutions is None:
        return documents
    # A document belongs to an institution through its enrollment, or (an attachment to an offer
    # question, which has no enrollment) through the conversation it was sent in.
    attached = Message.objects.filter(conversation__institution_id__in=institutions, attachment__isnull=False)
    return documents.filter(Q(enrollment__institution_id__in=institutions)
                            | Q(enrollment__isnull=True, pk__in=attached.values("attachment_id")))


# Mails to an institution about a person (not to the person): they name the person and carry their
# customer number. New rows point to the person; older ones are found by the customer number.
INSTITUTION_MAIL_TEMPLATES = ("password_request_no_mobile", "coming_of_age_no_login")


def _outbox_of(person: Person):
    addresses = {a for a in (person.email, person.mobile, person.user.email if person.user_id else "") if a}
    where = Q(person=person) | Q(recipient__in=addresses)
    if person.customer_number:
        where |= Q(template__in=INSTITUTION_MAIL_TEMPLATES, context__customer_number=person.customer_number)
    return OutboxMessage.objects.filter(where)


def login_names(person: Person) -> set[str]:
    """The names someone logs in (or tries to) as this person: their addresses and username, lower case."""
    names = {person.email}
    if person.user_id:
        names |= {person.user.email, person.user.get_username()}
    return {n.strip().lower() for n in names if n}


def former_login_names(person: Person) -> list[tuple[str, object]]:
    """Addresses the person logged in with before the login moved to a new one ("Meine Daten" or the SMS
    password), each with the time it stopped being theirs: the mail telling that old address of the
    change. Someone else may use the address afterwards, so only what came before that time is theirs."""
    rows = OutboxMessage.objects.filter(person=person, template="email_changed").exclude(recipient="")
    return [(recipient.strip().lower(), at) for recipient, at in rows.values_list("recipient", "created_at")]


def actor_name(user) -> str:
    if user is None:
        return "System"
    return user.get_full_name() or user.email or user.get_username()


def _person_data(person: Person, *, complete: bool = True) -> dict:
    data = {
        "id": person.pk,
        "last_name": person.last_name, "first_name": person.first_name, "date_of_birth": person.date_of_birth,
        "email": person.email, "mobile": person.mobile, "street": person.street, "postcode": person.postcode,
        "city": person.city, "customer_number": person.customer_number, "language": person.language,
        "coming_of_age_notice_at": person.coming_of_age_notice_at, "came_of_age_at": person.came_of_age_at,
        "created_at": person.created_at, "updated_at": person.updated_at, "anonymised_at": person.anonymised_at,
    }
    if not complete:  # the login is the person's own, not an institution's
        return data
    data.update(password_issued_at=person.password_issued_at, must_set_password=person.must_set_password)
    if person.user_id:
        user = person.user
        data["account"] = {"email": user.email, "date_joined": user.date_joined, "last_login": user.last_login,
                           "is_active": user.is_active}
    return data


def _enrollment_data(enrollment: Enrollment) -> dict:
    return {
        "id": enrollment.pk,
        "offer": enrollment.offer.title,
        "institution": enrollment.institution.name,
        "contract_number": enrollment.contract_number,
        "status": enrollment.status, "status_label": str(enrollment.get_status_display()),
        "participant": enrollment.participant.full_name if enrollment.participant_id else None,
        "account_holder": enrollment.account_holder.email if enrollment.account_holder_id else None,
        "created_at": enrollment.created_at, "printed_at": enrollment.printed_at,
        "submitted_at": enrollment.submitted_at,
        "interview_at": enrollment.interview_at, "interview_place": enrollment.interview_place,
        "interview_note": enrollment.interview_note,
        "decision": enrollment.decision_basis, "decision_reason": enrollment.decision_reason,
        "decided_at": enrollment.decided_at,
        "proof_requested_at": enrollment.proof_requested_at, "proof_deadline": enrollment.proof_deadline,
        "proof_received_at": enrollment.proof_received_at, "proof_overdue": enrollment.proof_overdue,
        "proof_uploaded_at": enrollment.proof_uploaded_at,
        "fee_periods": [{"starts_on": p.starts_on, "amount": p.amount, "reason": p.reason}
                        for p in enrollment.fee_periods.all()],
        "costs": enrollment.costs, "costs_reason": enrollment.costs_reason,
        "contract_start": enrollment.contract_start, "contract_end": enrollment.contract_end,
        "signed_copy_deadline": enrollment.signed_copy_deadline, "offered_at": enrollment.offered_at,
        "accepted_at": enrollment.accepted_at, "ratified_at": enrollment.ratified_at,
        "withdrawn_reason": enrollment.withdrawn_reason,
        "sections": {s.section: {"data": s.data, "complete": s.is_complete, "updated_at": s.updated_at}
                     for s in enrollment.sections.all()},
        # The own questions of the offer, readable: each answer with the label it was given under.
        "questions": _question_answers(enrollment),
        "log": [{"at": e.at, "action": e.action, "label": e.label, "from": e.from_status, "to": e.to_status,
                 "by": actor_name(e.by), "note": e.note} for e in enrollment.log_entries.all()],
    }


def _question_answers(enrollment: Enrollment) -> list[dict]:
    questions = enrollment.questions or []
    if not questions:
        return []
    stored = {s.section: s.data for s in enrollment.sections.all() if s.section in QUESTION_SECTIONS}
    result = []
    for section in QUESTION_SECTIONS:
        answers = (stored.get(section) or {}).get("answers") or {}
        for question in questions_of_section(questions, section):
            value = answers.get(question["id"])
            result.append({"question": question["label"], "type": question["type"], "answer": value,
                           "display": display_answer(question, value)})
    return result


def document_path(document: Document) -> str:
    """Where a document lies in the export ZIP; other sections refer to it by this path."""
    return f"dokumente/{document.pk}-{document.filename}"


def _document_entry(document: Document) -> dict:
    return {
        "id": document.pk, "kind": document.kind, "kind_label": str(document.get_kind_display()),
        "title": document.title, "enrollment": document.enrollment_id, "content_type": document.content_type,
        "sha256": document.sha256, "deposited_at": document.deposited_at,
        "first_opened_at": document.first_opened_at, "superseded": document.superseded,
        # A document still being rendered (or whose rendering failed) has no file yet.
        "state": document.state, "file": document_path(document) if document.is_ready else None,
    }


def _outbox_entry(message: OutboxMessage) -> dict:
    secrets = set(message.secret_keys or [])
    return {
        "channel": message.channel, "recipient": message.recipient, "template": message.template,
        "subject": message.subject, "state": message.state, "created_at": message.created_at,
        "sent_at": message.sent_at,
        # Passwords and confirmation links never leave the outbox, sent or not.
        "data": {k: v for k, v in message.context.items() if k not in secrets},
    }


def person_export_data(person: Person, *, institutions: frozenset[int] | None = None) -> dict:
    """Everything WorkPro keeps about `person`, as JSON-able data (Art. 15 and 20 DSGVO).

    `institutions=None`: the complete export. Otherwise (a staff member's export, see export_scope)
    only what belongs to those institutions: their enrollments, documents, mails and the scoped
    sections; the person's logins, consents and the privacy log stay out.
    """
    complete = institutions is None
    with translation.override("de"):
        enrollments = enrollments_of(person)
        wards = person.wards.select_related("participant")
        messages = _outbox_of(person)
        if not complete:
            enrollments = enrollments.filter(institution_id__in=institutions)
            wards = wards.filter(participant__enrollments__institution_id__in=institutions).distinct()
            messages = messages.filter(institution_id__in=institutions)
        enrollments = (enrollments.select_related("offer", "institution", "participant", "account_holder")
                       .prefetch_related("sections", "fee_periods", "log_entries__by").order_by("created_at"))
        data = {
            "format": "workpro-export-1",
            "exported_at": timezone.now(),
            "scope": "complete" if complete else "institutions",
            "institutions": None if complete else sorted(
                Institution.objects.filter(pk__in=institutions).values_list("name", flat=True)),
            "person": _person_data(person, complete=complete),
            "guardians": [
                {"name": link.guardian.full_name, "relation": str(link.get_relation_display()),
                 "is_primary": link.is_primary, "access_ends_on": link.access_ends_on}
                for link in person.guardianships.select_related("guardian")],
            "wards": [
                {"name": link.participant.full_name, "date_of_birth": link.participant.date_of_birth,
                 "relation": str(link.get_relation_display()), "is_primary": link.is_primary,
                 "access_ends_on": link.access_ends_on}
                for link in wards],
            "enrollments": [_enrollment_data(e) for e in enrollments],
            "documents": [_document_entry(d) for d in _documents_of(person, institutions)
                          .order_by("deposited_at", "pk")],
            "messages": [_outbox_entry(m) for m in messages.order_by("created_at", "pk")],
        }
        if complete:
            data["consents"] = [
                {"kind": c.kind, "kind_label": str(c.get_kind_display()), "subject": c.subject, "text": c.text,
                 "version": c.version, "given_at": c.given_at, "ip": c.ip, "withdrawn_at": c.withdrawn_at}
                for c in person.consents.order_by("given_at", "pk")]
            data["privacy_log"] = [{"at": e.at, "action": e.action, "by": actor_name(e.by)}
                                   for e in person.privacy_log.select_related("by").order_by("at", "pk")]
        for name, exporter in sorted(_exporters.items()):
            if complete:
                data[name] = exporter(person)
            elif name in _scoped_exporters:
                data[name] = exporter(person, institutions=institutions)
    return data


def _export_files(person: Person, institutions: frozenset[int] | None):
    for name, source in sorted(_file_sources.items()):
        if institutions is None:
            yield from source(person)
        elif name in _scoped_file_sources:
            yield from source(person, institutions=institutions)


@dataclass(frozen=True)
class Export:
    file: object  # an open binary file positioned at 0
    size: int
    documents: int
    missing: int
    filename: str


def person_export(*, person: Person, by, via: str, institutions: frozenset[int] | None = None) -> Export:
    """The export as a ZIP (data.json and the person's documents), logged with its figures;
    `institutions` limits it as in person_export_data (None: complete)."""
    data = person_export_data(person, institutions=institutions)
    buffer = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)
    stored = missing = files = 0
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
        for document in _documents_of(person, institutions).filter(state=Document.State.READY).order_by("pk"):
            try:
                with document.file.open("rb") as handle:
                    archive.writestr(document_path(document), handle.read())
                stored += 1
            except (FileNotFoundError, OSError, ValueError):
                missing += 1  # listed in data.json; the file itself is gone
        for path, field_file in _export_files(person, institutions):
            try:
                with field_file.open("rb") as handle:
                    archive.writestr(path, handle.read())
                files += 1
            except (FileNotFoundError, OSError, ValueError):
                missing += 1
    size = buffer.tell()
    buffer.seek(0)
    figures = {"via": via, "bytes": size, "documents": stored, "files": files, "missing_files": missing,
               "enrollments": len(data["enrollments"]), "messages": len(data["messages"]),
               "consents": len(data.get("consents", [])),
               "scope": "complete" if institutions is None else sorted(institutions)}
    PrivacyLog.objects.create(person=person, action=ACTION_EXPORTED, by=by, figures=figures)
    logger.info("privacy export of person %s by %s: %s", person.pk, getattr(by, "pk", None), figures)
    stem = person.customer_number or f"person-{person.pk}"
    return Export(file=buffer, size=size, documents=stored, missing=missing,
                  filename=f"workpro-daten-{stem}-{timezone.localdate():%Y%m%d}.zip")


# --- retention and anonymisation --------------------------------------------------------------

def retention_days(key: str) -> int:
    """Days per document kind (and "contract", "person", "interest"): WorkPro's defaults (contracts
    ten years), with the host's WORKPRO_RETENTION_DAYS keys over them; unknown kinds as "other"."""
    table = conf.get("RETENTION_DAYS")
    return int(table.get(key, table["other"]))


def enrollment_ended_on(enrollment: Enrollment) -> date | None:
    """When an enrollment ended for retention: the contract end of a ratified contract, else the
    day it was closed (rejected, expired, withdrawn); None while it is open.

    An interest nobody pursued (still Interessent, unchanged for "interest" days) counts as
    ended on its last change, so a registration alone is not kept for ever.
    """
    if enrollment.status == S.INTERESSENT:
        last_change = timezone.localdate(enrollment.updated_at)
        if last_change + timedelta(days=retention_days("interest")) <= timezone.localdate():
            return last_change
        return None
    if enrollment.status not in CLOSED_STATUSES:
        return None
    if enrollment.status == S.RATIFIZIERT:
        if enrollment.contract_end:
            return enrollment.contract_end
        return timezone.localdate(enrollment.ratified_at) if enrollment.ratified_at else None
    closed = (EnrollmentLog.objects.filter(enrollment=enrollment, to_status=enrollment.status)
              .aggregate(at=Max("at"))["at"]) or enrollment.updated_at
    return timezone.localdate(closed)


def document_due_on(document: Document, ended: date | None) -> date | None:
    """The day from which a document may be deleted, or None while its enrollment is open."""
    if document.enrollment_id is None:
        return timezone.localdate(document.deposited_at) + timedelta(days=retention_days(document.kind))
    if ended is None:
        return None
    days = retention_days(document.kind)
    if document.enrollment.status == S.RATIFIZIERT:
        days = max(days, retention_days("contract"))
    return ended + timedelta(days=days)


def _release_references(document: Document) -> None:
    """Rows that merely point at a document (a chat message's attachment, an add-on booking's
    confirmation) protect it from an accidental delete; a deliberate one leaves them without it."""
    for relation in Document._meta.get_fields(include_hidden=True):  # related_name="+" hides them
        if not (relation.one_to_many and relation.auto_created) or relation.on_delete is not PROTECT:
            continue
        field = relation.field
        if field.null:
            relation.related_model._base_manager.filter(**{field.name: document}).update(**{field.name: None})


def _delete_document(document: Document) -> None:
    name = document.file.name
    _release_references(document)
    document.delete()
    if name:
        # After the row is gone for good: a rolled-back delete must not lose the file.
        transaction.on_commit(lambda: document.file.storage.delete(name))


def purge_documents(*, today: date | None = None) -> int:
    """Delete documents (row and file) whose retention period has passed."""
    today = today or timezone.localdate()
    count = 0
    ended_cache: dict[int, date | None] = {}
    # Documents without an enrollment go with their owner (see person_anonymise).
    candidates = Document.objects.select_related("enrollment").filter(
        enrollment__status__in=[*CLOSED_STATUSES, S.INTERESSENT]).order_by("pk")
    for document in candidates.iterator():
        if document.enrollment_id not in ended_cache:
            ended_cache[document.enrollment_id] = enrollment_ended_on(document.enrollment)
        due = document_due_on(document, ended_cache[document.enrollment_id])
        if due is not None and due <= today:
            with transaction.atomic():
                _delete_document(document)
            count += 1
    return count


def person_due_on(person: Person) -> date | None:
    """The day from which a person may be anonymised: every enrollment closed, the last one ended
    `person` days ago, and every document of theirs past its retention. None: not (yet) due."""
    if person.user_id and (person.user.is_staff or person.user.is_superuser or person.user.groups.exists()):
        return None  # staff accounts are managed by hand
    if person.erasure_requested_at is not None:  # "Konto löschen": only the retention duties wait
        kept = erasure_kept(person)
        return max(k.until for k in kept) if kept else timezone.localdate()
    enrollments = list(enrollments_of(person).select_related("account_holder"))
    ends = []
    for enrollment in enrollments:
        ended = enrollment_ended_on(enrollment)
        if ended is None:
            return None
        ends.append((enrollment, ended))
    # A PSB1 speaks for wards with open enrollments held by someone else: still needed.
    if Enrollment.objects.filter(participant__guardianships__guardian=person,
                                 participant__guardianships__is_primary=True) \
            .exclude(status__in=CLOSED_STATUSES).exists():
        return None
    if ends:
        base = max(ended for _, ended in ends)
    else:
        activity = [person.created_at, person.user.last_login if person.user_id else None]
        base = timezone.localdate(max(a for a in activity if a is not None))
    due = base + timedelta(days=retention_days("person"))
    ended_by_pk = {e.pk: ended for e, ended in ends}
    for document in Document.objects.filter(enrollment__in=[e for e, _ended in ends]).select_related("enrollment"):
        document_due = document_due_on(document, ended_by_pk[document.enrollment_id])
        due = max(due, document_due)
    return due


@transaction.atomic
def person_anonymise(*, person: Person, by=None) -> dict:
    """Replace the name, clear birth date, address, mobile and email, close the login,
    delete the remaining documents and the free texts about the person; logged with counts."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    if person.anonymised_at is not None:
        return {}
    figures = {"documents_deleted": 0, "sections_cleared": 0, "messages_scrubbed": 0}
    enrollments = enrollments_of(person)
    as_participant = Enrollment.objects.filter(participant=person)
    for document in _documents_of(person).filter(Q(owner=person) | Q(enrollment__in=as_participant)):
        _delete_document(document)
        figures["documents_deleted"] += 1
    figures["sections_cleared"] = EnrollmentSection.objects.filter(enrollment__in=as_participant).update(data={})
    as_participant.update(interview_note="", decision_reason="", withdrawn_reason="", costs_reason="",
                          printed_fingerprint="")
    EnrollmentLog.objects.filter(enrollment__in=as_participant).update(note="")
    # The erasers first: they find the person's former addresses in the mails scrubbed below.
    for name, eraser in sorted(_erasers.items()):
        figures[name] = eraser(person)
    _outbox_of(person).filter(state=OutboxMessage.State.PENDING).update(state=OutboxMessage.State.FAILED)
    figures["messages_scrubbed"] = _outbox_of(person).update(recipient="", context={}, subject="", last_error="")
    Consent.objects.filter(person=person).update(ip=None)

    if person.user_id:
        User = get_user_model()
        user = User.objects.select_for_update().get(pk=person.user_id)
        user.email = user.first_name = user.last_name = ""
        setattr(user, login_field(), f"anonymisiert-{user.pk}")  # after the address: it may be the login
        user.is_active = False
        user.set_unusable_password()
        user.save()
    person.last_name, person.first_name = ANONYMISED_NAME, ""
    person.date_of_birth = None
    person.email = person.mobile = person.street = person.postcode = person.city = ""
    person.customer_number = None
    person.password_issued_at, person.must_set_password = None, False
    person.anonymised_at = timezone.now()
    person.save()
    figures["enrollments"] = enrollments.count()
    PrivacyLog.objects.create(person=person, action=ACTION_ANONYMISED, by=by, figures=figures)
    logger.info("privacy: person %s anonymised: %s", person.pk, figures)
    return figures


# --- Konto löschen: erasure on request (Art. 17 DSGVO) ----------------------------------------------

class ErasureRefused(ServiceError):
    """The account cannot be erased now; the message says why and what to do."""


@dataclass(frozen=True)
class Kept:
    """What a retention duty keeps after an erasure request, why, and until when."""

    what: str
    why: str
    until: date


def _contract_until(enrollment: Enrollment, ended: date) -> date:
    due = ended + timedelta(days=retention_days("contract"))
    for document in enrollment.documents.all():
        due = max(due, document_due_on(document, ended) or due)
    return due


def erasure_kept(person: Person, today: date | None = None) -> list[Kept]:
    """Concluded contracts whose retention period (ten years by default) has not passed yet."""
    today = today or timezone.localdate()
    kept = []
    for enrollment in (enrollments_of(person).filter(status=S.RATIFIZIERT).select_related("offer")
                       .order_by("contract_start", "pk")):
        ended = enrollment_ended_on(enrollment)
        until = _contract_until(enrollment, ended or today)
        if until > today:
            kept.append(Kept(
                what=_("Vertrag %(number)s (%(offer)s): Vertragsunterlagen, Beiträge, Name, Anschrift, Geburtsdatum "
                       "und Kundennummer") % {"number": enrollment.contract_number or enrollment.pk,
                                             "offer": enrollment.offer.title},
                why=_("gesetzliche Aufbewahrungspflicht für Verträge und Abrechnungsunterlagen "
                      "(§ 147 AO, § 257 HGB)"),
                until=until))
    return kept


def running_contract(person: Person, today: date):
    for enrollment in enrollments_of(person).filter(status=S.RATIFIZIERT).select_related("offer"):
        ended = enrollment_ended_on(enrollment)
        if ended is None or ended >= today:
            return enrollment
    return None


def erasure_subjects(user) -> list[Person]:
    """Whom "Konto löschen" concerns: the account holder and the wards without an own login they are PSB1 of."""
    own = Person.objects.filter(user=user, anonymised_at__isnull=True).first()
    if own is None:
        return []
    wards = Person.objects.filter(guardianships__guardian=own, guardianships__is_primary=True, user__isnull=True,
                                  anonymised_at__isnull=True).distinct()
    return [own, *wards]


ERASED_NOW = (
    gettext_lazy("Ihr Zugang: eine Anmeldung ist nicht mehr möglich"),
    gettext_lazy("Mailadresse und Handynummer"),
    gettext_lazy("Anmeldungen ohne Vertrag mit ihren Angaben und Dokumenten (offene Anmeldungen wurden "
                 "zurückgezogen)"),
    gettext_lazy("Texte Ihrer Nachrichten, Notfallkontakte und Abholberechtigte, Anmelde- und Zugriffsprotokolle"),
)


def erase_now(person: Person, *, keep: set[int], by) -> dict:
    """What no retention duty keeps goes at once; the concluded contracts in `keep` stay as they are."""
    figures = {"documents_deleted": 0, "sections_cleared": 0, "messages_scrubbed": 0}
    others = enrollments_of(person).exclude(pk__in=keep)
    for document in _documents_of(person).exclude(enrollment_id__in=keep):
        _delete_document(document)
        figures["documents_deleted"] += 1
    figures["sections_cleared"] = EnrollmentSection.objects.filter(enrollment__in=others).update(data={})
    others.update(interview_note="", decision_reason="", withdrawn_reason="", costs_reason="", printed_fingerprint="")
    enrollments_of(person).filter(pk__in=keep).update(interview_note="", decision_reason="")
    EnrollmentLog.objects.filter(enrollment__in=others).update(note="")
    for name, eraser in sorted(_erasers.items()):
        if name != "addon_bookings":  # a booking's cost reason belongs to the kept contract
            figures[name] = eraser(person)
    _outbox_of(person).filter(state=OutboxMessage.State.PENDING).update(state=OutboxMessage.State.FAILED)
    figures["messages_scrubbed"] = _outbox_of(person).update(recipient="", context={}, subject="", last_error="")
    Consent.objects.filter(person=person).update(ip=None)
    if person.user_id:
        User = get_user_model()
        user = User.objects.select_for_update().get(pk=person.user_id)
        user.email = ""
        setattr(user, login_field(), f"anonymisiert-{user.pk}")
        user.is_active = False
        user.set_unusable_password()
        user.save()
    person.email = person.mobile = ""
    person.password_issued_at, person.must_set_password = None, False
    person.erasure_requested_at = timezone.now()
    person.save()
    return figures


def apply_retention(*, today: date | None = None) -> dict:
    """The daily run: delete documents past retention, run the registered purges (django-axes'
    login records ...), anonymise people whose retention passed.

    Safe to run twice: anonymised people and deleted documents are not touched again.
    """
    today = today or timezone.localdate()
    figures = {"documents_deleted": purge_documents(today=today), "persons_anonymised": 0,
               "person_documents_deleted": 0}
    now = timezone.now()
    for name, purge in sorted(_retention_runs.items()):
        figures[f"{name}_deleted"] = purge(now=now)
    for person in Person.objects.filter(anonymised_at__isnull=True).select_related("user").iterator():
        due = person_due_on(person)
        if due is not None and due <= today:
            done = person_anonymise(person=person)
            if done:
                figures["persons_anonymised"] += 1
                figures["person_documents_deleted"] += done["documents_deleted"]
    if any(figures.values()):
        PrivacyLog.objects.create(action=ACTION_RETENTION, figures={**figures, "today": today.isoformat()})
    logger.info("privacy retention run %s: %s", today, figures)
    return figures



def clear_expired_sessions() -> int:
    """What `manage.py clearsessions` does, run daily by the schedule workpro-clear-sessions:
    expired sessions (who was logged in, and what views kept in the session) are deleted.
    Returns how many database rows went (0 for engines that expire by themselves, e.g. the cache)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    model = store.get_model_class() if hasattr(store, "get_model_class") else None
    expired = model.objects.filter(expire_date__lt=timezone.now()).count() if model is not None else 0
    try:
        store.clear_expired()
    except NotImplementedError:
        return 0
    logger.info("privacy: %s expired sessions cleared", expired)
    return expired
