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
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition

from ..models import STANDING_STATUSES, Enrollment, EnrollmentLog, Guardian, OfferPage, Person
from ..models.enrollment import deadline_not_passed, is_account_holder
from . import audit
from .documents import (
    check_uploads,
    deposit,
    merge_to_pdf,
    render_application_pdf,
    render_contract_offer_pdf,
    render_ratified_pdf,
)
from .errors import ServiceError
from .notify import queue_mail
from .numbers import assign_contract_number, assign_customer_number

S = Enrollment.Status


class EnrollmentActionError(ServiceError):
    """A refused action, with a message for the user and the unmet guards."""

    def __init__(self, message: str, reasons: list[str] | None = None):
        super().__init__(message)
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


def notify(enrollment: Enrollment, event: str, *, documents=(), **extra) -> None:
    """Queue the event mail to the account holder (and the participant's own login, if any)."""
    holder = enrollment.account_holder
    recipients = []
    if holder is not None and holder.email:
        recipients.append((holder.email, getattr(holder, "workpro_person", None)))
    participant = enrollment.participant
    if participant is not None and participant.user_id and participant.user_id != enrollment.account_holder_id \
            and participant.user.email:
        recipients.append((participant.user.email, participant))
    context = {
        "event": event,
        "offer": enrollment.offer.title,
        "participant": participant.full_name if participant else "",
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
    for address, person in recipients:
        queue_mail(to=address, template="enrollment_event", context=context, institution=enrollment.institution,
                   person=person, language=person.language if person else None)


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
        locked = _locked(enrollment)
        if prepare is not None:
            prepare(locked)
        check_transition(locked, name, by)
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
        documents = produce(locked) if produce is not None else []
        notify(locked, event_code, documents=documents, **(mail_extra or {}))
    return locked


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


# --- the transitions ----------------------------------------------------------------------

def enrollment_mark_printed(*, enrollment: Enrollment | int, by) -> Enrollment:
    """Anmeldung drucken: remember what was printed; submitting needs the data unchanged since."""
    with transaction.atomic():
        locked = _locked(enrollment)
        if locked.account_holder_id != getattr(by, "pk", None) and not locked.institution.is_staff_member(by):
            raise EnrollmentActionError(_("Diese Aktion ist Ihnen nicht erlaubt."))
        locked.printed_fingerprint = locked.data_fingerprint()
        locked.printed_at = timezone.now()
        locked.save(update_fields=["printed_fingerprint", "printed_at", "updated_at"])
        log(locked, action="printed", by=by)
    return locked


def enrollment_submit(*, enrollment: Enrollment | int, by) -> Enrollment:
    """Anmeldung absenden: interessent → bewerber, or (second time) kandidat → eingestuft."""

    def application(title):
        def produce(e: Enrollment) -> list:
            return [deposit(kind="application", title=title % {"number": e.contract_number},
                            content=render_application_pdf(e), enrollment=e, by=by)]
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
    """Kandidat or Abgelehnt: after the interview or a no-show (from eingeladen), or without one."""
    def prepare(e: Enrollment) -> None:
        allowed = ({Enrollment.Basis.ATTENDED, Enrollment.Basis.NO_SHOW} if e.status == S.EINGELADEN
                   else {Enrollment.Basis.NO_INTERVIEW})
        if basis not in allowed:
            raise EnrollmentActionError(_("Diese Entscheidungsgrundlage passt nicht zum Status „%(status)s“.")
                                        % {"status": e.get_status_display()})

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

    def contract_offer(e: Enrollment) -> list:
        title = _("Angebot %(number)s") % {"number": e.contract_number}
        return [deposit(kind="contract_offer", title=title, content=render_contract_offer_pdf(e), enrollment=e,
                        by=by)]

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
            if not deadline_not_passed(e):  # checked before anything is stored
                raise EnrollmentActionError(_("Die Aktion ist noch nicht möglich:"), reasons=[deadline_not_passed.message])
            content = merge_to_pdf(check_uploads(files))
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
        return [deposit(kind="ratified_contract", title=title, content=render_ratified_pdf(e, by=by), enrollment=e,
                        by=by)]

    return _run(enrollment, by=by, name="ratify", event="ratified", produce=ratified)


def enrollment_expire(*, enrollment: Enrollment | int, by=None) -> Enrollment:
    return _run(enrollment, by=by, name="expire", event="expired")


def enrollment_withdraw(*, enrollment: Enrollment | int, by, reason: str = "") -> Enrollment:
    return _run(enrollment, by=by, name="withdraw", event="withdrawn", kwargs={"reason": reason.strip()},
                note=reason, mail_extra={"reason": reason.strip()})


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


def apply_overdue_proofs(*, today: date | None = None) -> int:
    """Requested proof of income not received in time: the maximum rate applies."""
    today = today or timezone.localdate()
    count = 0
    candidates = Enrollment.objects.filter(proof_deadline__lt=today, proof_received_at__isnull=True,
                                           proof_overdue=False).values_list("pk", flat=True)
    for pk in candidates:
        with transaction.atomic():
            locked = _locked(pk)
            if locked.proof_overdue or locked.proof_received_at or not locked.is_open:
                continue
            locked.proof_overdue = True
            locked.save(update_fields=["proof_overdue", "updated_at"])
            log(locked, action="proof_overdue")
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
                      still_due=lambda e: e.is_open and not e.proof_received_at))


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
