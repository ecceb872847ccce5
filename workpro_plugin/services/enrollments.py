"""Enrollment services: every change of an enrollment goes through here.

Each service has the same shape: one transaction, the row locked, permission and
guards checked (a refused action changes nothing and logs nothing), the
transition applied, saved, logged with an action code, and the mail queued in the
outbox so it leaves only after commit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition

from ..lib.choices import DeadlineKind, status_holds_place
from ..lib.formats import format_date, format_datetime
from ..models import (
    PLACE_TAKING_STATUSES,
    PLACE_TAKING_TRANSITIONS,
    STANDING_STATUSES,
    Document,
    Enrollment,
    EnrollmentLog,
    FeePeriod,
    Guardian,
    Institution,
    OfferPage,
    Person,
)
from ..models.enrollment import deadline_not_passed, is_account_holder
from ..selectors.texts import current_terms
from . import audit
from .documents import (
    DocumentNotReady,
    _holder_language,
    application_spec,
    change_notice_spec,
    check_upload,
    check_uploads,
    deposit,
    document_retry,
    merge_to_pdf,
    offer_spec,
    ratified_spec,
    require_ready,
    schedule_render,
)
from .errors import ServiceError
from .notify import queue_mail
from .numbers import assign_contract_number, assign_customer_number
from .offers import places_moved

S = Enrollment.Status

# Sent after commit when an enrollment gave up a place of its offer (or a place offered to it from
# the waiting list): signals.py connects it to Nachrücken (services.allocation.fill_freed_places).
place_freed = Signal()


class EnrollmentActionError(ServiceError):
    """A refused action, with a message for the user and the unmet guards."""

    def __init__(self, message: str, reasons: list[str] | None = None, field: str | None = None):
        super().__init__(message, field)
        self.message = message
        self.reasons = [str(r) for r in reasons or []]

    def __str__(self) -> str:
        return " ".join([self.message, *self.reasons])


def _locked(enrollment: Enrollment | int) -> Enrollment:
    """The enrollment, row-locked, with what services need.

    Lock first, then read: on PostgreSQL a locking query that waited for another
    transaction re-reads the locked row but not its joins, so a participant created
    by that transaction would come back as None beside a set participant_id.
    """
    pk = enrollment.pk if isinstance(enrollment, Enrollment) else enrollment
    Enrollment.objects.select_for_update().filter(pk=pk).values_list("pk", flat=True).get()
    return (
        Enrollment.objects
        .select_related("institution__site", "institution__operator", "offer", "participant", "account_holder")
        .get(pk=pk)
    )


def check_transition(enrollment: Enrollment, name: str, user) -> None:
    """Raise EnrollmentActionError unless `user` may run transition `name` now."""
    transition = getattr(enrollment, name)._django_fsm.get_transition(enrollment.status)
    if transition is None:
        raise EnrollmentActionError(
            _("Diese Aktion ist im Status „%(status)s“ nicht möglich.") % {"status": enrollment.get_status_display()}
        )
    if not transition.has_perm(enrollment, user):
        raise EnrollmentActionError(_("Diese Aktion ist Ihnen nicht erlaubt."))
    unmet = [condition.message for condition in transition.conditions if not condition(enrollment)]
    if unmet:
        raise EnrollmentActionError(_("Die Aktion ist noch nicht möglich:"), reasons=unmet)


def available_transitions(enrollment: Enrollment, user) -> list[str]:
    """Names of the transitions `user` may run now (guards met)."""
    names = []
    for transition in enrollment.get_available_status_transitions():
        if transition.has_perm(enrollment, user):
            names.append(transition.name)
    return names


def possible_transitions(enrollment: Enrollment, user) -> set[str]:
    """Transitions leaving the current state that `user` may start; their guards are checked on submit.

    Staff forms (e.g. Einladen) supply the data some guards need, so buttons must not wait for it.
    """
    names = set()
    for transition in enrollment.get_all_status_transitions():
        if transition.source in (enrollment.status, "*") and transition.has_perm(enrollment, user):
            names.add(transition.name)
    return names


def log(enrollment: Enrollment, *, action: str, by=None, note: str = "", from_status: str = "",
        to_status: str = "") -> EnrollmentLog:
    entry = EnrollmentLog.objects.create(enrollment=enrollment, action=f"workpro.enrollment.{action}", by=by,
                                         note=note, from_status=from_status, to_status=to_status or enrollment.status)
    audit.record(audit.A.STATUS_CHANGED, actor=by, obj=enrollment,
                 person=enrollment.participant if enrollment.participant_id else None,
                 detail={"step": action, "from": entry.from_status, "to": entry.to_status})
    return entry


def _fmt_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return value.isoformat()


def event_context(enrollment, event: str, *, offer_title: str, participant, documents=(), **extra) -> dict:
    """The context of an event mail: the enrollment's own fields (an Enrollment or a row with the same
    field names, as an allocation round reads them) and the event's extras."""
    return {
        "event": event,
        "offer": offer_title,
        "participant": participant.full_name if participant else "",
        "participant_first_name": participant.first_name if participant else "",
        "customer_number": (participant.customer_number if participant else "") or "",
        "contract_number": enrollment.contract_number or "",
        "status": enrollment.status,
        "enrollment_id": enrollment.pk,
        "interview_at": _fmt_date(enrollment.interview_at),
        "interview_place": enrollment.interview_place,
        "interview_note": enrollment.interview_note,
        "costs": str(enrollment.costs) if enrollment.costs is not None else "",
        "contract_start": _fmt_date(enrollment.contract_start),
        "contract_end": _fmt_date(enrollment.contract_end),
        "deadline": _fmt_date(enrollment.signed_copy_deadline),
        "proof_deadline": _fmt_date(enrollment.proof_deadline),
        "document_ids": [document.pk for document in documents],
        **extra,
    }


def event_mail_rows(enrollment: Enrollment, event: str, *, documents=(), **extra) -> list[dict]:
    """The event mail to the account holder (and the participant's own login, if any), as outbox rows."""
    holder = enrollment.account_holder
    recipients = []
    if holder is not None and holder.email:
        recipients.append((holder.email, getattr(holder, "workpro_person", None)))
    participant = enrollment.participant
    if participant is not None and participant.user_id and participant.user_id != enrollment.account_holder_id \
            and participant.user.email:
        recipients.append((participant.user.email, participant))
    context = event_context(enrollment, event, offer_title=enrollment.offer.title, participant=participant,
                            documents=documents, **extra)
    return [{"to": address, "template": "enrollment_event", "context": context,
             "institution": enrollment.institution, "person": person,
             "language": person.language if person else None} for address, person in recipients]


def notify(enrollment: Enrollment, event: str, *, documents=(), **extra) -> None:
    """Queue the event mail to the account holder (and the participant's own login, if any); a mail
    with a document still being rendered waits for it and goes once the render task stored it."""
    waits = any(not document.is_ready for document in documents)
    for row in event_mail_rows(enrollment, event, documents=documents, **extra):
        queue_mail(**row, wait_for_documents=waits)


def _run(
    enrollment: Enrollment | int,
    *,
    by,
    name: str,
    event: str | Callable[[Enrollment], str],
    note: str = "",
    prepare: Callable[[Enrollment], None] | None = None,
    kwargs: dict | None = None,
    mail_extra: dict | None = None,
    produce: Callable[[Enrollment], list] | None = None,
) -> Enrollment:
    with transaction.atomic():
        capacity = lock_offer(enrollment) if name in PLACE_TAKING_TRANSITIONS else None
        locked = _locked(enrollment)
        if prepare is not None:
            prepare(locked)
        check_transition(locked, name, by)
        if name in PLACE_TAKING_TRANSITIONS:
            check_capacity(locked, capacity)
        from_status = locked.status
        getattr(locked, name)(**(kwargs or {}))
        try:
            locked.save()
        except ConcurrentTransition as exc:
            raise EnrollmentActionError(
                _("Die Anmeldung wurde inzwischen von jemand anderem geändert. Bitte laden Sie die Seite neu.")
            ) from exc
        event_code = event(locked) if callable(event) else event
        log(locked, action=event_code, by=by, note=note, from_status=from_status, to_status=locked.status)
        reserved = locked.place_reserved_at is not None or locked.place_offered_at is not None
        if status_holds_place(from_status, reserved=reserved) and not status_holds_place(
                locked.status, reserved=reserved):
            offer_id = locked.offer_id
            transaction.on_commit(lambda: place_freed.send(sender=Enrollment, offer_id=offer_id))
        documents = produce(locked) if produce is not None else []
        notify(locked, event_code, documents=documents, **(mail_extra or {}))
    return locked


# --- capacity ---------------------------------------------------------------------------------

def lock_offer(enrollment: Enrollment | int) -> int | None:
    """Row-lock the enrollment's offer: every place-taking transition of one offer queues here.

    The offer is always locked before its enrollments (allocation rounds do the same), so
    two transitions never wait for each other in opposite order. Returns the offer's capacity as
    read under the lock (None: unlimited), what `check_capacity` needs.
    """
    pk = enrollment.pk if isinstance(enrollment, Enrollment) else enrollment
    offer_id = Enrollment.objects.filter(pk=pk).values_list("offer_id", flat=True).get()
    return OfferPage.objects.select_for_update(of=("self",)).filter(pk=offer_id).values_list(
        "capacity", flat=True).get()


def check_capacity(enrollment: Enrollment, capacity: int | None) -> None:
    """Refuse a place-taking transition when the offer's places are all taken by others.

    Must run under the offer's row lock (`lock_offer`, which read `capacity`); an enrollment already
    holding a place (Angebot → Angenommen → Ratifiziert) is not counted against itself, nor is a
    contract that has ended.
    """
    if capacity is None:
        return
    taken = (Enrollment.objects.filter(offer_id=enrollment.offer_id, status__in=PLACE_TAKING_STATUSES,
                                       contract_ended_at__isnull=True)
             .exclude(pk=enrollment.pk).count())
    if taken >= capacity:
        raise EnrollmentActionError(
            _("Für dieses Angebot sind alle Plätze vergeben (%(taken)s von %(capacity)s). Sobald ein Platz "
              "frei wird, rückt das nächste Kind von der Warteliste nach.")
            % {"taken": taken, "capacity": capacity}
        )


def release_ended_contracts(*, today: date | None = None) -> int:
    """Daily: a ratified contract whose end date has passed gives its place back, once; the offer's
    Nachrücken runs after commit (`place_freed`). Returns the number of contracts released."""
    today = today or timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        # of=("self",): the participant is a nullable join, and PostgreSQL cannot lock an outer join.
        ended = list(Enrollment.objects.select_for_update(of=("self",)).filter(
            status=S.RATIFIZIERT, contract_end__lt=today, contract_ended_at__isnull=True
        ).select_related("participant"))
        Enrollment.objects.filter(pk__in=[e.pk for e in ended]).update(contract_ended_at=now)
        for enrollment in ended:
            log(enrollment, action="contract_ended", from_status=enrollment.status,
                note=_("Vertragsende %(date)s: der Platz ist wieder frei.") % {"date": format_date(enrollment.contract_end)})
        for offer_id in sorted({e.offer_id for e in ended}):
            transaction.on_commit(lambda offer_id=offer_id: place_freed.send(sender=Enrollment, offer_id=offer_id))
        places_changed({e.institution_id for e in ended})
    return len(ended)


def places_changed(institution_ids) -> None:
    """The taken places at these institutions changed by a bulk write (an update sends no signal, which
    is how signals.py hears of a single enrollment): their sites' listings and offer pages reread them."""
    ids = set(institution_ids)
    if None in ids:
        places_moved(None)
    for site_id in Institution.objects.filter(pk__in=ids - {None}).values_list("site_id", flat=True).distinct():
        places_moved(site_id)


# --- starting an enrollment ---------------------------------------------------------------

def participants_for(user) -> list[Person]:
    """The people an account holder may enroll: themselves and the minors they are PSB1 for."""
    person = getattr(user, "workpro_person", None)
    if person is None:
        return []
    wards = Person.objects.filter(guardianships__guardian=person, guardianships__is_primary=True)
    return [person, *wards]


def enrollment_enroll_participant(*, enrollment: Enrollment | int, participant: Person, by) -> Enrollment:
    """Zum Angebot anmelden: choose the participant; assigns customer and contract number once.

    Only the account holder may do it, only for themselves or a minor they are PSB1 for.
    """
    with transaction.atomic():
        locked = _locked(enrollment)
        if locked.account_holder_id != getattr(by, "pk", None):
            raise EnrollmentActionError(_("Diese Aktion ist Ihnen nicht erlaubt."))
        if locked.participant_id == participant.pk and locked.contract_number:
            return locked  # the same choice sent twice: done already, nothing to log or mail again
        if locked.status != S.INTERESSENT:
            raise EnrollmentActionError(_("Der Teilnehmer kann nur im Status „Interessent“ gewählt werden."))
        if participant.pk not in {p.pk for p in participants_for(by)}:
            raise EnrollmentActionError(
                _("Minderjährige können nur von ihrem Personensorgeberechtigten 1 (PSB1) angemeldet werden.")
            )
        if locked.participant_id and locked.participant_id != participant.pk:
            raise EnrollmentActionError(_("Für diese Anmeldung ist bereits ein anderer Teilnehmer gewählt."))
        refusal = locked.offer.specific.age_refusal(participant)
        if refusal:
            raise EnrollmentActionError(refusal)
        assign_customer_number(participant, locked.institution)
        locked.participant = participant
        assign_contract_number(locked)
        locked.save(update_fields=["participant", "contract_number", "updated_at"])
        log(locked, action="participant_enrolled", by=by, note=participant.full_name)
        notify(locked, "participant_enrolled")
    return locked


def _lock_account(user) -> None:
    """Serialise one account's enrollment starts: a form sent twice at once creates one enrollment."""

    get_user_model().objects.select_for_update().filter(pk=user.pk).first()


def enrollment_begin(*, offer: OfferPage, by) -> Enrollment:
    """Zum Angebot anmelden on an offer page: reuse the open interest without participant, or record one."""
    with transaction.atomic():
        _lock_account(by)
        existing = Enrollment.objects.filter(offer=offer, account_holder=by, status=S.INTERESSENT,
                                             participant__isnull=True).first()
        if existing is not None:
            return existing
        state = offer.registration_state()
        if not state.is_open:
            raise EnrollmentActionError(str(state.reason))
        enrollment = Enrollment.objects.create(offer=offer, institution=offer.get_institution(), account_holder=by)
        log(enrollment, action="registered", by=by)
        return enrollment


def enrollment_start(*, offer: OfferPage, participant: Person, by) -> Enrollment:
    """Enroll `participant` for `offer` in one step; an enrollment they already have is returned as is."""
    with transaction.atomic():
        _lock_account(by)
        current = Enrollment.objects.filter(offer=offer, account_holder=by, participant=participant,
                                            status__in=STANDING_STATUSES).first()
        if current is not None:
            return current
        return enrollment_enroll_participant(enrollment=enrollment_begin(offer=offer, by=by),
                                             participant=participant, by=by)


def enrollment_start_new_child(*, offer: OfferPage, by, last_name: str, first_name: str, date_of_birth: date,
                               relation: str) -> Enrollment:
    """Zum Angebot anmelden for a child new to the account: child, PSB1 link and enrollment in one step.

    Nothing is created when the enrollment is refused (registration closed, outside the age group);
    the same child sent twice is one child with one enrollment.
    """
    with transaction.atomic():
        _lock_account(by)
        holder = by.workpro_person
        child = Person.objects.filter(guardianships__guardian=holder, guardianships__is_primary=True,
                                      last_name=last_name, first_name=first_name, date_of_birth=date_of_birth).first()
        if child is None:
            refusal = offer.age_refusal(Person(last_name=last_name, first_name=first_name, date_of_birth=date_of_birth))
            if refusal:
                raise EnrollmentActionError(refusal)
            child = Person.objects.create(last_name=last_name, first_name=first_name, date_of_birth=date_of_birth,
                                          street=holder.street, postcode=holder.postcode, city=holder.city,
                                          language=holder.language)
            add_guardian(participant=child, guardian=holder, relation=relation, is_primary=True)
        return enrollment_start(offer=offer, participant=child, by=by)


def enrollment_enroll_new_child(*, enrollment: Enrollment | int, by, last_name: str, first_name: str,
                                date_of_birth: date, relation: str) -> Enrollment:
    """A child new to the account becomes the participant; the account holder becomes its PSB1."""
    with transaction.atomic():
        locked = _locked(enrollment)
        current = locked.participant
        if current is not None and locked.account_holder_id == getattr(by, "pk", None) \
                and (current.last_name, current.first_name, current.date_of_birth) == (
                    last_name, first_name, date_of_birth):
            return locked  # the same new child sent twice: one child, one enrollment
        holder = by.workpro_person
        child = Person.objects.create(last_name=last_name, first_name=first_name, date_of_birth=date_of_birth,
                                      street=holder.street, postcode=holder.postcode, city=holder.city,
                                      language=holder.language)
        add_guardian(participant=child, guardian=holder, relation=relation, is_primary=True)
        return enrollment_enroll_participant(enrollment=enrollment, participant=child, by=by)


def add_guardian(*, participant: Person, guardian: Person, relation: str, is_primary: bool = False) -> Guardian:
    with transaction.atomic():
        if is_primary and participant.guardianships.filter(is_primary=True).exclude(guardian=guardian).exists():
            raise EnrollmentActionError(_("Für diesen Teilnehmer ist bereits ein PSB1 eingetragen."))
        link, _created = Guardian.objects.update_or_create(
            participant=participant, guardian=guardian, defaults={"relation": relation, "is_primary": is_primary}
        )
    return link


def pin_questions(enrollment: Enrollment) -> None:
    """Keep the offer's own questions with the enrollment from its first data on (call with the row
    locked): the editor may change the offer's questions later without touching this application."""
    if enrollment.questions is None:
        enrollment.questions = enrollment.offer.specific.question_definitions()
        enrollment.save(update_fields=["questions", "updated_at"])


# --- the transitions ----------------------------------------------------------------------

def enrollment_mark_printed(*, enrollment: Enrollment | int, by) -> Enrollment:
    """Anmeldung drucken: remember what was printed; submitting needs the data unchanged since."""
    with transaction.atomic():
        locked = _locked(enrollment)
        if locked.account_holder_id != getattr(by, "pk", None) and not locked.institution.is_staff_member(by):
            raise EnrollmentActionError(_("Diese Aktion ist Ihnen nicht erlaubt."))
        pin_questions(locked)
        locked.printed_fingerprint = locked.data_fingerprint()
        locked.printed_at = timezone.now()
        locked.save(update_fields=["printed_fingerprint", "printed_at", "updated_at"])
        log(locked, action="printed", by=by)
    return locked


def enrollment_submit(*, enrollment: Enrollment | int, by) -> Enrollment:
    """Anmeldung absenden: interessent → bewerber, or (second time) kandidat → eingestuft."""

    def application(title):
        def produce(e: Enrollment) -> list:
            # Rendered after commit with the data as submitted (application_spec), not as they are then.
            return [schedule_render(kind=Document.Kind.APPLICATION, title=title % {"number": e.contract_number},
                                    enrollment=e, by=by, renderer="application", spec=application_spec(e))]
        return produce

    current = enrollment if isinstance(enrollment, Enrollment) else Enrollment.objects.get(pk=enrollment)
    if current.status == S.KANDIDAT:  # the second print carries the remaining sections: tell the two apart
        return _run(enrollment, by=by, name="classify", event="classified",
                    produce=application(_("Anmeldung %(number)s (ergänzt zur Einstufung)")))
    return _run(enrollment, by=by, name="submit", event="submitted", produce=application(_("Anmeldung %(number)s")))


def enrollment_invite(*, enrollment: Enrollment | int, by, at: datetime, place: str, note: str = "") -> Enrollment:
    def prepare(e: Enrollment) -> None:
        e.interview_at, e.interview_place, e.interview_note = at, place.strip(), note.strip()

    return _run(enrollment, by=by, name="invite", event="invited", prepare=prepare, note=note)


def enrollment_decide(*, enrollment: Enrollment | int, by, accept: bool, basis: str, reason: str = "") -> Enrollment:
    """Kandidat or Abgelehnt. "ohne Gespräch" is possible at any time; "nach dem Gespräch" and
    "Nichterscheinen" only for an invited applicant once the interview's date and time has passed."""
    def prepare(e: Enrollment) -> None:
        if e.status not in (S.BEWERBER, S.EINGELADEN) or basis in e.decision_bases():
            return  # a wrong status is refused by check_transition with its own message
        if e.status == S.EINGELADEN and basis in (Enrollment.Basis.ATTENDED, Enrollment.Basis.NO_SHOW):
            raise EnrollmentActionError(
                _("„%(basis)s“ ist erst nach dem Gesprächstermin (%(at)s) möglich; vorher nur „ohne Gespräch“.")
                % {"basis": Enrollment.Basis(basis).label, "at": format_datetime(e.interview_at)}, field="basis")
        raise EnrollmentActionError(_("Diese Entscheidungsgrundlage passt nicht zum Status „%(status)s“.")
                                    % {"status": e.get_status_display()}, field="basis")

    return _run(enrollment, by=by, name="decide", event=lambda e: f"decided_{e.status}", prepare=prepare,
                kwargs={"accept": accept, "basis": basis, "reason": reason.strip()}, note=reason,
                mail_extra={"reason": reason.strip()})


def enrollment_make_offer(
    *, enrollment: Enrollment | int, by, costs: Decimal, contract_start: date, contract_end: date,
    deadline: date | None = None, costs_reason: str = "",
) -> Enrollment:
    """Angebot erstellen: costs default to the fee schedule; a different amount needs a reason."""
    def prepare(e: Enrollment) -> None:
        fee = e.computed_fee()
        if fee is not None and costs != fee.amount and not costs_reason.strip():
            raise EnrollmentActionError(
                _("Die Kosten weichen von der Gebührenordnung (%(amount)s €) ab: bitte begründen.")
                % {"amount": fee.amount}
            )
        e.costs, e.costs_reason = costs, costs_reason.strip()
        e.contract_start, e.contract_end = contract_start, contract_end
        e.signed_copy_deadline = deadline or (
            timezone.localdate() + timedelta(days=e.offer.specific.contract_return_days))
        e.contract_terms = current_terms(e.offer.specific, e.institution)  # the version sent stays with it

    def contract_offer(e: Enrollment) -> list:
        title = _("Angebot %(number)s") % {"number": e.contract_number}
        # Rendered and signed after commit, with the terms as made here (offer_spec).
        return [schedule_render(kind=Document.Kind.CONTRACT_OFFER, title=title, enrollment=e, by=by,
                                renderer="contract_offer", spec=offer_spec(e))]

    return _run(enrollment, by=by, name="make_offer", event="offer_made", prepare=prepare, note=costs_reason,
                produce=contract_offer)


def enrollment_upload_signed(*, enrollment: Enrollment | int, by, files=None) -> Enrollment:
    """Angebot annehmen: the signed scans/photos become one PDF, deposited with the transition.

    Without `files` the signed copy must already be deposited (e.g. by staff on paper).
    """

    def prepare(e: Enrollment) -> None:
        if files:
            if not is_account_holder(e, by):
                raise EnrollmentActionError(_("Diese Aktion ist Ihnen nicht erlaubt."))
            if e.status != S.ANGEBOT:
                raise EnrollmentActionError(_("Diese Aktion ist im Status „%(status)s“ nicht möglich.")
                                            % {"status": e.get_status_display()})
            offer_document = e.documents.filter(kind=Document.Kind.CONTRACT_OFFER, superseded=False).first()
            try:
                require_ready(offer_document, _("Das Angebot wird noch erstellt. Bitte laden Sie die "
                                                "unterschriebene Kopie hoch, sobald es unter Dokumente bereitsteht."))
            except DocumentNotReady as exc:
                raise EnrollmentActionError(str(exc)) from exc
            if not deadline_not_passed(e):  # checked before anything is stored
                raise EnrollmentActionError(_("Die Aktion ist noch nicht möglich:"), reasons=[deadline_not_passed.message])
            content = merge_to_pdf(check_uploads(files), lang=_holder_language(e), title=_(
                "Unterschriebenes Angebot %(number)s") % {"number": e.contract_number})
            e.documents.filter(kind="signed_contract", superseded=False).update(superseded=True)
            deposit(kind="signed_contract", title=_("Unterschriebenes Angebot %(number)s") % {
                "number": e.contract_number}, content=content, enrollment=e, by=by)

    return _run(enrollment, by=by, name="upload_signed", event="accepted", prepare=prepare)


def enrollment_return_upload(*, enrollment: Enrollment | int, by, reason: str, new_deadline: date | None = None
                             ) -> Enrollment:
    """Unterlagen zurückweisen: back to Angebot; the rejected scan no longer counts."""
    if not reason.strip():
        raise EnrollmentActionError(_("Bitte geben Sie einen Grund an."))

    def prepare(e: Enrollment) -> None:
        if new_deadline is not None:
            e.signed_copy_deadline = new_deadline

    with transaction.atomic():
        result = _run(enrollment, by=by, name="return_upload", event="upload_returned", prepare=prepare,
                      note=reason, mail_extra={"reason": reason.strip()})
        result.documents.filter(kind="signed_contract", superseded=False).update(superseded=True)
    return result


def enrollment_ratify(*, enrollment: Enrollment | int, by) -> Enrollment:
    """Ratifizieren: the countersigned contract (signed copy + countersignature page) is deposited."""

    def ratified(e: Enrollment) -> list:
        title = _("Vertrag %(number)s (ratifiziert)") % {"number": e.contract_number}
        # Countersigned after commit (the signed copy and the moment as of now: ratified_spec).
        return [schedule_render(kind=Document.Kind.RATIFIED_CONTRACT, title=title, enrollment=e, by=by,
                                renderer="ratified_contract", spec=ratified_spec(e))]

    return _run(enrollment, by=by, name="ratify", event="ratified", produce=ratified)


def enrollment_retry_documents(*, enrollment: Enrollment | int, by) -> list[Document]:
    """Erneut erstellen: the documents of this enrollment whose rendering failed are rendered again
    (after commit; their waiting mails go once they are ready). Logged with the enrollment."""
    with transaction.atomic():
        locked = _locked(enrollment)
        if not locked.institution.staff_can(by, "process_enrollment"):
            raise EnrollmentActionError(_("Diese Aktion ist Ihnen nicht erlaubt."))
        failed = list(locked.documents.filter(state=Document.State.FAILED))
        if not failed:
            raise EnrollmentActionError(_("Es gibt kein Dokument, dessen Erstellung fehlgeschlagen ist."))
        retried = [document for document in failed if document_retry(document=document)]
        log(locked, action="documents_retried", by=by, note=", ".join(document.title for document in retried))
    return retried


def enrollment_expire(*, enrollment: Enrollment | int, by=None) -> Enrollment:
    return _run(enrollment, by=by, name="expire", event="expired")


def enrollment_withdraw(*, enrollment: Enrollment | int, by, reason: str = "") -> Enrollment:
    return _run(enrollment, by=by, name="withdraw", event="withdrawn", kwargs={"reason": reason.strip()},
                note=reason, mail_extra={"reason": reason.strip()})


# --- reopen and extend (Leitung) -------------------------------------------------------------

Deadline = DeadlineKind
# Notfallkontakt and Abholberechtigte are asked for once a contract is offered.
CARE_STATUSES = (S.ANGEBOT, S.ANGENOMMEN, S.RATIFIZIERT)


def _check_new_deadline(deadline: date | None, field: str = "deadline") -> date:
    if deadline is None:
        raise EnrollmentActionError(_("Bitte geben Sie eine neue Frist an."), field=field)
    if deadline < timezone.localdate():
        raise EnrollmentActionError(_("Die Frist darf nicht in der Vergangenheit liegen."), field=field)
    return deadline


def _check_reason(reason: str) -> str:
    if not reason.strip():
        raise EnrollmentActionError(_("Bitte geben Sie einen Grund an."), field="reason")
    return reason.strip()


def enrollment_reopen(*, enrollment: Enrollment | int, by, reason: str, deadline: date | None = None) -> Enrollment:
    """Wieder öffnen (Leitung only): Abgelehnt → Bewerber; Abgelaufen → Angebot with a new deadline for the
    signed copy (not in the past). The reason is logged and mailed."""
    reason = _check_reason(reason)

    def prepare(e: Enrollment) -> None:
        if e.status == S.ABGELAUFEN:
            _check_new_deadline(deadline)

    return _run(enrollment, by=by, name="reopen", event="reopened", prepare=prepare,
                kwargs={"deadline": deadline}, note=reason, mail_extra={"reason": reason})


def extendable_deadlines(enrollment: Enrollment) -> list[str]:
    """The deadlines of this enrollment a Leitung can extend now (Frist verlängern)."""
    kinds = []
    if enrollment.status in (S.ANGEBOT, S.ABGELAUFEN):
        kinds.append(Deadline.OFFER)
    if enrollment.proof_requested_at and not enrollment.proof_received_at and enrollment.is_open:
        kinds.append(Deadline.PROOF)
    if enrollment.status in CARE_STATUSES:
        kinds.append(Deadline.CARE)
    return kinds


def enrollment_extend_deadline(*, enrollment: Enrollment | int, by, which: str, deadline: date, reason: str
                               ) -> Enrollment:
    """Frist verlängern (Leitung only), before or after the deadline passed; the new date is mailed.

    A signed-Angebot deadline on an offer the daily job already set to Abgelaufen is extended by reopening it.
    """
    reason = _check_reason(reason)
    _check_new_deadline(deadline)
    pk = enrollment.pk if isinstance(enrollment, Enrollment) else enrollment
    if which == Deadline.OFFER and Enrollment.objects.filter(pk=pk, status=S.ABGELAUFEN).exists():
        return enrollment_reopen(enrollment=enrollment, by=by, reason=reason, deadline=deadline)
    with transaction.atomic():
        locked = _locked(enrollment)
        if not locked.institution.staff_can(by, "sign_enrollment"):
            raise EnrollmentActionError(_("Diese Aktion ist Ihnen nicht erlaubt."))
        if which == Deadline.OFFER:
            if locked.status != S.ANGEBOT:
                raise EnrollmentActionError(_("Eine Frist für das unterschriebene Angebot gibt es nur im Status "
                                              "„Angebot“ oder „Abgelaufen“."), field="which")
            old = locked.signed_copy_deadline
            locked.signed_copy_deadline, locked.offer_reminder_sent_at = deadline, None
            fields = ["signed_copy_deadline", "offer_reminder_sent_at"]
        elif which == Deadline.PROOF:
            if not locked.proof_requested_at or locked.proof_received_at or not locked.is_open:
                raise EnrollmentActionError(_("Es ist kein Einkommensnachweis offen."), field="which")
            old = locked.proof_deadline
            # The maximum rate applied for the passed deadline no longer applies to the new one.
            locked.proof_deadline, locked.proof_overdue, locked.proof_reminder_sent_at = deadline, False, None
            fields = ["proof_deadline", "proof_overdue", "proof_reminder_sent_at"]
        elif which == Deadline.CARE:
            if locked.status not in CARE_STATUSES:
                raise EnrollmentActionError(_("Notfallkontakt und Abholberechtigte werden erst ab dem Angebot "
                                              "eingetragen."), field="which")
            old = locked.care_deadline_effective
            locked.care_deadline = deadline
            fields = ["care_deadline"]
        else:
            raise EnrollmentActionError(_("Bitte wählen Sie eine Frist."), field="which")
        locked.save(update_fields=[*fields, "updated_at"])
        note = _("%(which)s: %(old)s → %(new)s. %(reason)s") % {
            "which": Deadline(which).label, "old": format_date(old) or "–", "new": format_date(deadline),
            "reason": reason}
        log(locked, action=f"deadline_extended_{which}", by=by, note=note, from_status=locked.status)
        notify(locked, "deadline_extended", reason=reason, which=which, new_deadline=deadline.isoformat())
    return locked


# --- income proof ---------------------------------------------------------------------------

def enrollment_request_proof(*, enrollment: Enrollment | int, by, deadline: date) -> Enrollment:
    """Nachweis anfordern: proof of income by a deadline, otherwise the maximum rate applies."""
    with transaction.atomic():
        locked = _locked(enrollment)
        if not locked.institution.staff_can(by, "process_enrollment"):
            raise EnrollmentActionError(_("Diese Aktion ist Ihnen nicht erlaubt."))
        if deadline < timezone.localdate():
            raise EnrollmentActionError(_("Die Frist darf nicht in der Vergangenheit liegen."))
        locked.proof_requested_at, locked.proof_deadline = timezone.now(), deadline
        locked.proof_received_at, locked.proof_overdue, locked.proof_reminder_sent_at = None, False, None
        locked.save(update_fields=["proof_requested_at", "proof_deadline", "proof_received_at", "proof_overdue",
                                   "proof_reminder_sent_at", "updated_at"])
        log(locked, action="proof_requested", by=by, note=deadline.isoformat())
        notify(locked, "proof_requested")
    return locked


def enrollment_receive_proof(*, enrollment: Enrollment | int, by) -> Enrollment:
    with transaction.atomic():
        locked = _locked(enrollment)
        if not locked.institution.staff_can(by, "process_enrollment"):
            raise EnrollmentActionError(_("Diese Aktion ist Ihnen nicht erlaubt."))
        locked.proof_received_at, locked.proof_overdue = timezone.now(), False
        locked.save(update_fields=["proof_received_at", "proof_overdue", "updated_at"])
        log(locked, action="proof_received", by=by)
    return locked


# --- deadlines (run daily by django-q2 schedules; safe to run twice) --------------------------

def expire_overdue_offers(*, today: date | None = None) -> int:
    """Angebot → Abgelaufen when the signed copy is overdue."""
    today = today or timezone.localdate()
    count = 0
    for pk in Enrollment.objects.filter(status=S.ANGEBOT, signed_copy_deadline__lt=today).values_list("pk", flat=True):
        try:
            enrollment_expire(enrollment=pk, by=None)
            count += 1
        except EnrollmentActionError:
            continue  # changed meanwhile (uploaded, withdrawn): nothing to do
    return count


def enrollment_upload_proof(*, enrollment: Enrollment | int, by, upload) -> Document:
    """Einkommensnachweis hochladen: the account holder answers a proof request (checked by content,
    stored as PDF); staff see it arrive and mark it received. Uploaded in time, the maximum rate waits
    for their check instead of applying at the deadline."""
    with transaction.atomic():
        locked = _locked(enrollment)
        if locked.account_holder_id != getattr(by, "pk", None):
            raise EnrollmentActionError(_("Diese Aktion ist Ihnen nicht erlaubt."))
        if not locked.proof_outstanding:
            raise EnrollmentActionError(_("Für diesen Vertrag ist kein Einkommensnachweis angefordert."))
        checked = check_upload(upload)
        locked.documents.filter(kind=Document.Kind.PROOF, superseded=False).update(superseded=True)
        document = deposit(kind=Document.Kind.PROOF, title=str(_("Einkommensnachweis")),
                           content=merge_to_pdf([checked]), enrollment=locked, by=by)
        locked.proof_uploaded_at = timezone.now()
        locked.save(update_fields=["proof_uploaded_at", "updated_at"])
        log(locked, action="proof_uploaded", by=by)
    return document


def first_of_next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _apply_maximum_rate(enrollment: Enrollment, today: date) -> Document | None:
    """A concluded contract: the maximum rate from the next month on, a fee period and an Änderungsmitteilung."""
    schedule = enrollment.offer.specific.fee_schedule
    starts_on = max(first_of_next_month(today), enrollment.contract_start or today)
    if schedule is None or (enrollment.contract_end and starts_on > enrollment.contract_end):
        return None
    maximum = schedule.maximum_rate
    if not enrollment.fee_periods.exists() and enrollment.costs is not None:
        FeePeriod.objects.create(enrollment=enrollment, starts_on=enrollment.contract_start or today,
                                 amount=enrollment.costs, reason=enrollment.costs_reason or str(_("laut Vertrag")))
    reason = str(_("Höchstsatz: der angeforderte Einkommensnachweis ist bis %(deadline)s nicht eingegangen")
                 % {"deadline": enrollment.proof_deadline.strftime("%d.%m.%Y")})
    period = FeePeriod.objects.create(enrollment=enrollment, starts_on=starts_on, amount=maximum, reason=reason)
    previous = enrollment.costs
    enrollment.costs, enrollment.costs_reason = maximum, reason
    enrollment.save(update_fields=["costs", "costs_reason", "updated_at"])
    title = _("Änderungsmitteilung %(number)s") % {"number": enrollment.contract_number or enrollment.pk}
    # Rendered after commit from the fee change as made (change_notice_spec); the mail waits for it.
    return schedule_render(kind=Document.Kind.CHANGE_NOTICE, title=str(title)[:200], enrollment=enrollment,
                           renderer="change_notice", spec=change_notice_spec(enrollment, period=period,
                                                                             previous=previous))


def apply_overdue_proofs(*, today: date | None = None) -> int:
    """Requested proof of income not received in time: the maximum rate applies.

    On an application it applies to the offer to come; on a concluded contract from the next month,
    with a fee period and an Änderungsmitteilung deposited and mailed. A proof uploaded before the
    deadline waits for staff's check instead.
    """
    today = today or timezone.localdate()
    count = 0
    candidates = Enrollment.objects.filter(proof_deadline__lt=today, proof_received_at__isnull=True,
                                           proof_overdue=False).values_list("pk", flat=True)
    for pk in candidates:
        with transaction.atomic():
            locked = _locked(pk)
            if locked.proof_overdue or locked.proof_received_at or not locked.proof_outstanding:
                continue
            if not locked.proof_due:  # uploaded: staff decide
                continue
            locked.proof_overdue = True
            locked.save(update_fields=["proof_overdue", "updated_at"])
            log(locked, action="proof_overdue")
            if locked.status == S.RATIFIZIERT:
                notice = _apply_maximum_rate(locked, today)
                if notice is not None:
                    starts_on = locked.fee_periods.order_by("-starts_on", "-pk").first().starts_on
                    log(locked, action="fee_changed", note=f"{locked.costs} ab {starts_on.isoformat()}")
                    notify(locked, "fee_changed", documents=[notice], fee_from=_fmt_date(starts_on))
                else:
                    notify(locked, "proof_overdue")
            else:
                notify(locked, "proof_overdue")
            count += 1
    return count


def send_deadline_reminders(*, today: date | None = None, days_before: int = 3) -> int:
    """One reminder per deadline, `days_before` days ahead (or later, if it was missed)."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=days_before)
    offers = Enrollment.objects.filter(status=S.ANGEBOT, signed_copy_deadline__gte=today,
                                       signed_copy_deadline__lte=horizon, offer_reminder_sent_at__isnull=True)
    proofs = Enrollment.objects.filter(proof_deadline__gte=today, proof_deadline__lte=horizon,
                                       proof_received_at__isnull=True, proof_reminder_sent_at__isnull=True)
    return (_remind(offers, field="offer_reminder_sent_at", event="offer_reminder",
                    still_due=lambda e: e.status == S.ANGEBOT)
            + _remind(proofs, field="proof_reminder_sent_at", event="proof_reminder",
                      still_due=lambda e: e.proof_due))


def _remind(candidates, *, field: str, event: str, still_due: Callable[[Enrollment], bool]) -> int:
    """Send `event` once per enrollment, re-checked under the row lock (safe to run twice)."""
    count = 0
    for pk in candidates.values_list("pk", flat=True):
        with transaction.atomic():
            locked = _locked(pk)
            if getattr(locked, field) or not still_due(locked):
                continue
            setattr(locked, field, timezone.now())
            locked.save(update_fields=[field, "updated_at"])
            log(locked, action=event)
            notify(locked, event)
            count += 1
    return count
