"""Platzvergabe: Wunschliste, Kriterienkatalog, Vergaberunden and Nachrücken.

A round reads every submitted application (Bewerber, Eingeladen) to its offers, scores each
against the offer's Kriterienkatalog, breaks ties by the lottery number drawn once per
application, and runs child-proposing deferred acceptance (`workpro_plugin.allocation`, pure):
every child gets the best place no child of higher priority wants. The preview saves nothing;
confirming locks the offers (before their enrollments, like every place-taking transition),
moves the placed applications to Kandidat (or, where the institution talks to the family first,
reserves their place until staff invite them: "Einladung ausstehend"), closes the wishes ranked below a place that was
given, records everything needed to replay the round, and mails every family its result with
a reason it can read.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import conf
from ..allocation import allocate
from ..lib import people
from ..lib.bulk import insert_rows
from ..lib.choices import (
    ALLOCATION_POOL_STATUSES,
    PLACE_HOLDING_STATUSES,
    AllocationOutcome,
    AllocationRoundStatus,
    CriterionKind,
    DecisionBasis,
    holds_place,
)
from ..lib.formats import format_date
from ..lib.http import client_ip
from ..models import (
    AgeGroup,
    AllocationResult,
    AllocationRound,
    AuditEvent,
    Criterion,
    CriterionConfirmation,
    Enrollment,
    EnrollmentLog,
    Guardian,
    Institution,
    OfferPage,
)
from ..selectors.allocation import (
    free_places,
    latest_results,
    next_waiting,
)
from ..selectors.offers import offer_institutions
from . import audit, notify
from . import enrollments as enrollment_services
from .errors import ServiceError

S = Enrollment.Status
O = AllocationOutcome
NO_RANK = 99


class AllocationError(ServiceError):
    """A refused allocation action, with a German message for the user."""


# --- lottery numbers -----------------------------------------------------------------------------

LOTTERY_RANGE = 1_000_000_000


def draw_lottery_number() -> int:
    return secrets.randbelow(LOTTERY_RANGE - 1) + 1


def ensure_lottery_numbers(enrollment_ids) -> dict[int, int]:
    """Draw the lottery number of every application that has none yet: once, recorded, never redrawn.

    Returns {enrollment id: number} of the ones drawn now (a locked read, then one bulk update)."""
    with transaction.atomic():
        missing = list(Enrollment.objects.select_for_update().filter(
            pk__in=list(enrollment_ids), lottery_number__isnull=True).only("pk", "lottery_number"))
        for enrollment in missing:
            enrollment.lottery_number = draw_lottery_number()
        Enrollment.objects.bulk_update(missing, ["lottery_number"], batch_size=2000)
    return {e.pk: e.lottery_number for e in missing}


# --- Wunschliste ---------------------------------------------------------------------------------

def wishes_of(participant) -> list[Enrollment]:
    """A child's standing applications before a place was given, best wish first (unranked ones last)."""
    wishes = Enrollment.objects.filter(participant=participant, status__in=(S.INTERESSENT, *ALLOCATION_POOL_STATUSES)
                                       ).select_related("offer", "institution")
    return sorted(wishes, key=lambda e: (e.wish_rank is None, e.wish_rank or 0, e.created_at, e.pk))


def wishes_locked_on(enrollment: Enrollment, today: date | None = None) -> date | None:
    """The Stichtag after which this wish can no longer change, if it has passed."""
    today = today or timezone.localdate()
    passed = (AllocationRound.objects.filter(offers=enrollment.offer_id, stichtag__lt=today)
              .order_by("stichtag").values_list("stichtag", flat=True).first())
    return passed


@dataclass
class WishChange:
    enrollment_id: int
    rank: int
    desired_start: date | None = None
    care_hours: int | None = None


def wishes_rank(*, participant, changes: list[WishChange], by) -> list[Enrollment]:
    """Save the order of a child's wishes (1., 2., 3. Wunsch), with start date and care hours."""
    ranks = [change.rank for change in changes]
    if len(set(ranks)) != len(ranks):
        raise AllocationError(_("Jeder Wunsch braucht einen eigenen Rang (1., 2., 3. Wunsch …)."), field="rank")
    with transaction.atomic():
        mine = {e.pk: e for e in Enrollment.objects.select_for_update().filter(
            participant=participant, pk__in=[c.enrollment_id for c in changes])}
        for change in changes:
            enrollment = mine.get(change.enrollment_id)
            if enrollment is None or enrollment.account_holder_id != by.pk:
                raise AllocationError(_("Diese Anmeldung gehört nicht zu Ihrer Wunschliste."))
            locked_on = wishes_locked_on(enrollment)
            changed = (enrollment.wish_rank, enrollment.desired_start, enrollment.care_hours) != (
                change.rank, change.desired_start, change.care_hours)
            if locked_on and changed:
                raise AllocationError(
                    _("Der Stichtag der Platzvergabe (%(date)s) ist vorbei: „%(offer)s“ kann nicht mehr geändert "
                      "werden.") % {"date": format_date(locked_on), "offer": enrollment.offer.title})
            if not changed:
                continue
            enrollment.wish_rank, enrollment.desired_start, enrollment.care_hours = (
                change.rank, change.desired_start, change.care_hours)
            enrollment.save(update_fields=["wish_rank", "desired_start", "care_hours", "updated_at"])
            enrollment_services.log(enrollment, action="wishes_ranked", by=by,
                                    note=_("%(rank)s. Wunsch") % {"rank": change.rank},
                                    from_status=enrollment.status)
    return wishes_of(participant)


# --- Kriterienkatalog ----------------------------------------------------------------------------

@dataclass
class Score:
    points: int = 0
    lines: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class Context:
    stichtag: date
    confirmed: set[tuple[int, int]]           # (enrollment_id, criterion_id)
    siblings_at: dict[int, set[int]]          # institution_id -> guardian person ids with a child holding a place
    guardians_of: dict[int, set[int]]         # participant id -> guardian person ids


def _months_between(start: date, end: date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return max(months - (1 if end.day < start.day else 0), 0)


def score(enrollment: Enrollment, criteria: list[Criterion], context: Context) -> Score:
    result = Score()
    participant = enrollment.participant
    for criterion in criteria:
        points = 0
        if criterion.needs_confirmation:
            points = criterion.points if (enrollment.pk, criterion.pk) in context.confirmed else 0
        elif criterion.kind == CriterionKind.SIBLING:
            guardians = context.guardians_of.get(enrollment.participant_id, set())
            points = criterion.points if guardians & context.siblings_at.get(enrollment.institution_id, set()) else 0
        elif criterion.kind == CriterionKind.RESIDENCE:
            values = criterion.parameter_values()
            places = {(participant.postcode or "").strip().casefold(), (participant.city or "").strip().casefold()}
            points = criterion.points if values and places & set(values) else 0
        elif criterion.kind == CriterionKind.AGE:
            age = participant.age_on(context.stichtag) or 0
            points = criterion.points * max(age, 0)
        elif criterion.kind == CriterionKind.WAITING_TIME:
            since = timezone.localdate(enrollment.submitted_at or enrollment.created_at)
            points = criterion.points * _months_between(since, context.stichtag)
        if points:
            result.points += points
            result.lines.append((criterion.label, points))
    return result


def ineligibility(enrollment: Enrollment, offer: OfferPage) -> str:
    """Why this child cannot take this offer's place at all ("" when it can)."""
    start = enrollment.desired_start or offer.starts_on
    participant = enrollment.participant
    age = participant.age_on(start) if start and participant.date_of_birth else None
    if age is not None and offer.age_min is not None and age < offer.age_min:
        return _("„%(offer)s“ nimmt Kinder ab %(min)s Jahren auf; %(child)s ist zum Beginn am %(date)s erst "
                 "%(age)s Jahre alt.") % {"offer": offer.title, "min": offer.age_min, "child": participant.first_name,
                                          "date": format_date(start), "age": age}
    if age is not None and offer.age_max is not None and age > offer.age_max:
        return _("„%(offer)s“ nimmt Kinder bis %(max)s Jahre auf; %(child)s ist zum Beginn am %(date)s schon "
                 "%(age)s Jahre alt.") % {"offer": offer.title, "max": offer.age_max, "child": participant.first_name,
                                          "date": format_date(start), "age": age}
    if enrollment.desired_start and offer.ends_on and enrollment.desired_start > offer.ends_on:
        return _("Der gewünschte Beginn (%(date)s) liegt nach dem Ende des Angebots.") % {
            "date": format_date(enrollment.desired_start)}
    return ""


# --- a round: inputs, preview, confirmation -----------------------------------------------------

@dataclass(slots=True)
class Child:
    """The child of a pool row: what scoring, eligibility and explanations read."""

    pk: int
    first_name: str
    last_name: str
    date_of_birth: date | None
    postcode: str
    city: str
    customer_number: str | None

    @property
    def full_name(self) -> str:
        return people.full_name(self.first_name, self.last_name)

    def age_on(self, day) -> int | None:
        return people.age_on(self.date_of_birth, day)


# The enrollment fields a round reads, as values: a round of a city holds tens of thousands of them, and
# a model instance each (django-fsm's __init__ above all) cost more than the whole allocation.
POOL_FIELDS = (
    "pk", "offer_id", "institution_id", "participant_id", "account_holder_id", "status", "wish_rank",
    "desired_start", "care_hours", "created_at", "submitted_at", "lottery_number", "contract_number",
    "interview_at", "interview_place", "interview_note", "costs", "contract_start", "contract_end",
    "signed_copy_deadline", "proof_deadline",
)
CHILD_FIELDS = ("first_name", "last_name", "date_of_birth", "postcode", "city", "customer_number")
CONTACT_FIELDS = ("account_holder__email", "account_holder__workpro_person__id",
                  "account_holder__workpro_person__language", "participant__user_id", "participant__user__email",
                  "participant__language")


@dataclass(slots=True)
class PoolRow:
    """One application in a round, read as values (same field names as `Enrollment`)."""

    pk: int
    offer_id: int
    institution_id: int
    participant_id: int
    account_holder_id: int | None
    status: str
    wish_rank: int | None
    desired_start: date | None
    care_hours: int | None
    created_at: object
    submitted_at: object
    lottery_number: int | None
    contract_number: str | None
    interview_at: object
    interview_place: str
    interview_note: str
    costs: object
    contract_start: date | None
    contract_end: date | None
    signed_copy_deadline: date | None
    proof_deadline: date | None
    participant: Child
    recipients: list[tuple[str, int | None, str | None]]  # (address, person id, language)


def pool_rows(offer_ids) -> list[PoolRow]:
    """The applications a round over these offers allocates (Bewerber, Eingeladen), one query."""
    child_keys = [f"participant__{f}" for f in CHILD_FIELDS]
    rows = []
    for values in (Enrollment.objects.filter(offer_id__in=offer_ids, status__in=ALLOCATION_POOL_STATUSES,
                                             participant__isnull=False, place_reserved_at__isnull=True)
                   .order_by("pk").values_list(*POOL_FIELDS, *child_keys, *CONTACT_FIELDS)):
        own = dict(zip(POOL_FIELDS, values[:len(POOL_FIELDS)]))
        child = Child(own["participant_id"], *values[len(POOL_FIELDS):len(POOL_FIELDS) + len(CHILD_FIELDS)])
        holder_email, holder_person, holder_language, child_user, child_email, child_language = values[-6:]
        recipients = [(holder_email, holder_person, holder_language)] if holder_email else []
        if child_user and child_user != own["account_holder_id"] and child_email:
            recipients.append((child_email, child.pk, child_language))
        rows.append(PoolRow(**own, participant=child, recipients=recipients))
    return rows


@dataclass
class Candidate:
    enrollment: PoolRow
    points: int
    lines: list[tuple[str, int]]
    lottery: int
    wish: int
    ineligible: str = ""
    position: int = 0          # 1-based place in the offer's priority order
    outcome: str = ""
    waiting_rank: int | None = None
    reason: str = ""

    @property
    def outcome_label(self) -> str:
        return str(AllocationOutcome(self.outcome).label) if self.outcome else ""


@dataclass
class OfferTable:
    offer: OfferPage
    capacity: int | None
    free: int
    candidates: list[Candidate] = field(default_factory=list)
    institution: Institution | None = None

    @property
    def placed(self):
        return [c for c in self.candidates if c.outcome == O.PLACED]

    @property
    def lowest_admitted(self) -> int | None:
        placed = self.placed
        return min(c.points for c in placed) if placed else None

    @property
    def unmet(self) -> int:
        return len([c for c in self.candidates if c.outcome in (O.WAITING,)])


@dataclass
class Plan:
    round: AllocationRound
    tables: list[OfferTable]
    inputs: dict
    matching: dict

    @property
    def candidates(self):
        return [c for table in self.tables for c in table.candidates]


def _context(pool: list[PoolRow], institution_ids: set[int], stichtag: date) -> Context:
    participant_ids = {e.participant_id for e in pool}
    guardians_of: dict[int, set[int]] = defaultdict(set)
    for participant_id, guardian_id in Guardian.objects.filter(participant_id__in=participant_ids).values_list(
            "participant_id", "guardian_id"):
        guardians_of[participant_id].add(guardian_id)
    siblings_at: dict[int, set[int]] = defaultdict(set)
    holding = Enrollment.objects.filter(institution_id__in=institution_ids, status__in=PLACE_HOLDING_STATUSES)
    for institution_id, guardian_id in Guardian.objects.filter(
            participant__enrollments__in=holding).values_list("participant__enrollments__institution_id",
                                                              "guardian_id"):
        siblings_at[institution_id].add(guardian_id)
    confirmations = CriterionConfirmation.objects.filter(
        enrollment__offer_id__in={e.offer_id for e in pool}, enrollment__status__in=ALLOCATION_POOL_STATUSES)
    confirmed = set(confirmations.values_list("enrollment_id", "criterion_id"))
    return Context(stichtag=stichtag, confirmed=confirmed, siblings_at=siblings_at, guardians_of=guardians_of)


def plan_round(round_: AllocationRound) -> Plan:
    """Compute a round's outcome without saving anything (the preview; confirm re-plans under locks).

    A fixed number of queries whatever the number of applications: the pool, its guardians, siblings and
    confirmations, the criteria of all offers, and drawing missing lottery numbers."""
    offers = list(OfferPage.objects.filter(pk__in=round_.offers.values("pk")).annotate(
        holding=Count("enrollments", filter=holds_place("enrollments__"))
    ).order_by("title", "pk"))
    pool = pool_rows([o.pk for o in offers])
    missing = [e for e in pool if e.lottery_number is None]
    if missing:
        drawn = ensure_lottery_numbers(e.pk for e in missing)
        if len(drawn) < len(missing):  # a parallel preview drew some of them first
            drawn |= dict(Enrollment.objects.filter(pk__in=[e.pk for e in missing if e.pk not in drawn])
                          .values_list("pk", "lottery_number"))
        for enrollment in missing:
            enrollment.lottery_number = drawn[enrollment.pk]
    institutions = offer_institutions(offers)
    context = _context(pool, {i.pk for i in institutions.values() if i}, round_.stichtag)
    criteria_by_offer = Criterion.objects.for_offers(offers, institutions)

    tables, by_offer = [], {}
    for offer in offers:
        free = len(pool) if offer.capacity is None else max(offer.capacity - offer.holding, 0)
        by_offer[offer.pk] = OfferTable(offer=offer, capacity=offer.capacity, free=free,
                                        institution=institutions.get(offer.pk))
        tables.append(by_offer[offer.pk])
    for enrollment in pool:
        table = by_offer[enrollment.offer_id]
        scored = score(enrollment, criteria_by_offer[enrollment.offer_id], context)
        table.candidates.append(Candidate(
            enrollment=enrollment, points=scored.points, lines=scored.lines, lottery=enrollment.lottery_number,
            wish=enrollment.wish_rank or NO_RANK, ineligible=ineligibility(enrollment, table.offer)))
    for table in tables:
        table.candidates.sort(key=lambda c: (-c.points, c.lottery, c.enrollment.pk))
        for position, candidate in enumerate(table.candidates, start=1):
            candidate.position = position

    # The pure inputs: children are participants, offers are offer ids.
    preferences: dict[int, list[int]] = defaultdict(list)
    for enrollment in sorted(pool, key=lambda e: (e.wish_rank or NO_RANK, e.created_at, e.pk)):
        preferences[enrollment.participant_id].append(enrollment.offer_id)
    priorities = {table.offer.pk: [c.enrollment.participant_id for c in table.candidates if not c.ineligible]
                  for table in tables}
    capacities = {table.offer.pk: table.free for table in tables}
    matching = allocate(dict(preferences), priorities, capacities)
    inputs = {
        "stichtag": round_.stichtag.isoformat(),
        "preferences": {str(k): v for k, v in preferences.items()},
        "priorities": {str(k): v for k, v in priorities.items()},
        "capacities": {str(k): v for k, v in capacities.items()},
        "scores": {str(c.enrollment.pk): {"points": c.points, "lottery": c.lottery, "criteria": c.lines}
                   for table in tables for c in table.candidates},
    }
    _explain(tables, dict(preferences), matching)
    return Plan(round=round_, tables=tables, inputs=inputs, matching=matching)


def _explain(tables: list[OfferTable], preferences: dict, matching: dict) -> None:
    for table in tables:
        offer_id = table.offer.pk
        for candidate in table.candidates:
            child = candidate.enrollment.participant_id
            got = matching.get(child)
            wishes = preferences.get(child, [])
            if got == offer_id:
                candidate.outcome = O.PLACED
                candidate.reason = _("Platz erhalten (%(wish)s. Wunsch, %(points)s Punkte).") % {
                    "wish": wishes.index(offer_id) + 1, "points": candidate.points}
            elif got is not None and wishes.index(got) < wishes.index(offer_id):
                candidate.outcome = O.RELEASED
                candidate.reason = _("Ein höherer Wunsch wurde erfüllt.")
            elif candidate.ineligible:
                candidate.outcome = O.INELIGIBLE
                candidate.reason = candidate.ineligible
            else:
                candidate.outcome = O.WAITING
        lowest = table.lowest_admitted
        waiting = [c for c in table.candidates if c.outcome == O.WAITING]
        for rank, candidate in enumerate(waiting, start=1):
            candidate.waiting_rank = rank
            if table.free == 0:
                candidate.reason = _("Für „%(offer)s“ war kein Platz mehr frei.") % {"offer": table.offer.title}
            elif lowest is not None and lowest > candidate.points:
                candidate.reason = _(
                    "Alle %(free)s freien Plätze gingen an Kinder mit höherer Priorität: die niedrigste "
                    "aufgenommene Punktzahl war %(lowest)s, %(child)s hatte %(points)s Punkte.") % {
                    "free": table.free, "lowest": lowest, "points": candidate.points,
                    "child": candidate.enrollment.participant.first_name}
            else:
                candidate.reason = _(
                    "Alle %(free)s freien Plätze gingen an Kinder mit höherer Priorität: bei gleicher Punktzahl "
                    "(%(points)s) entschied die Losnummer (%(child)s: %(lottery)s, kleinere zuerst).") % {
                    "free": table.free, "points": candidate.points, "lottery": candidate.lottery,
                    "child": candidate.enrollment.participant.first_name}


def may_run(user, offers) -> bool:
    """A round may span several institutions: the user must be allowed to process enrollments in each."""
    institutions = list(offer_institutions(offers).values())
    if not institutions or None in institutions:
        return False
    return all(i.staff_can(user, "process_enrollment") for i in {i.pk: i for i in institutions}.values())


def round_create(*, title: str, stichtag: date, offers, by) -> AllocationRound:
    offers = list(offers)
    if not offers:
        raise AllocationError(_("Bitte wählen Sie mindestens ein Angebot."), field="offers")
    if not may_run(by, offers):
        raise AllocationError(_("Sie dürfen nur Angebote Ihrer Einrichtungen verteilen."), field="offers")
    with transaction.atomic():
        round_ = AllocationRound.objects.create(title=title.strip(), stichtag=stichtag, created_by=by)
        round_.offers.set(offers)
    return round_


def round_confirm(*, round_: AllocationRound | int, by) -> Plan:
    """Confirm a round: re-plan under the offers' row locks, then move, close, record and mail."""
    pk = round_.pk if isinstance(round_, AllocationRound) else round_
    with transaction.atomic():
        locked = AllocationRound.objects.select_for_update().get(pk=pk)
        if locked.is_confirmed:
            raise AllocationError(_("Diese Vergaberunde wurde bereits bestätigt."))
        offers = list(locked.offers.order_by("pk"))
        if not may_run(by, offers):
            raise AllocationError(_("Sie dürfen nur Angebote Ihrer Einrichtungen verteilen."))
        if locked.stichtag > timezone.localdate():
            raise AllocationError(_("Die Vergaberunde kann erst nach dem Stichtag (%(date)s) bestätigt werden: bis "
                                    "dahin können Eltern ihre Wünsche ändern.") % {"date": format_date(locked.stichtag)})
        list(OfferPage.objects.select_for_update(of=("self",)).filter(  # offers before enrollments, in id
            pk__in=[o.pk for o in offers]).order_by("pk").values_list("pk", flat=True))  # order: the one lock order
        list(Enrollment.objects.select_for_update().filter(  # then the applications the round moves
            offer__in=offers, status__in=ALLOCATION_POOL_STATUSES).order_by("pk").values_list("pk", flat=True))
        plan = plan_round(locked)
        _apply(plan, by=by)
        locked.status = AllocationRoundStatus.CONFIRMED
        locked.confirmed_by, locked.confirmed_at = by, timezone.now()
        locked.inputs = plan.inputs
        locked.outcome = {str(c.enrollment.pk): c.outcome for c in plan.candidates}
        locked.save(update_fields=["status", "confirmed_by", "confirmed_at", "inputs", "outcome"])
        audit.record(audit.A.ALLOCATION_CONFIRMED, actor=by, obj=locked,
                     detail={"offers": [o.pk for o in offers],
                             "placed": sum(1 for c in plan.candidates if c.outcome == O.PLACED),
                             "waiting": sum(1 for c in plan.candidates if c.outcome == O.WAITING)})
    plan.round = locked
    return plan


def _chunks(items: list, size: int = 2000):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _apply(plan: Plan, *, by) -> None:
    """Write a confirmed round in bulk: results, status changes, enrollment log, audit events, mails.

    One statement per kind and chunk instead of one transition per application: a round of a city
    (tens of thousands of wishes) stays a matter of seconds. The pool rows are locked by the caller, so
    the statuses read by the plan are the statuses changed here.
    """
    title = plan.round.title
    now = timezone.now()
    placed_reason = _("Platz in der Vergaberunde „%(round)s“ erhalten.") % {"round": title}
    released_reason = _("Ein höherer Wunsch wurde erfüllt.")
    results, placed, reserved, released, steps = [], [], [], [], []
    for table in plan.tables:
        lowest = table.lowest_admitted
        interview_first = table.institution is not None and table.institution.interview_first
        for c in table.candidates:
            results.append(AllocationResult(
                round=plan.round, enrollment_id=c.enrollment.pk, outcome=c.outcome, points=c.points,
                lottery_number=c.lottery, priority_position=c.position, waiting_rank=c.waiting_rank,
                lowest_admitted_points=lowest, reason=c.reason))
            if c.outcome == O.PLACED and interview_first:
                reserved.append(c.enrollment.pk)
                steps.append((table, c, "allocation_placed_interview", c.enrollment.status))
            elif c.outcome == O.PLACED:
                placed.append(c.enrollment.pk)
                steps.append((table, c, "allocation_placed", S.KANDIDAT))
            elif c.outcome == O.RELEASED:
                released.append(c.enrollment.pk)
                steps.append((table, c, "allocation_released", S.ZURUECKGEZOGEN))
            else:
                event = "allocation_waiting" if c.outcome == O.WAITING else "allocation_ineligible"
                steps.append((table, c, event, c.enrollment.status))
    insert_rows(AllocationResult, results)
    for chunk in _chunks(placed):
        Enrollment.objects.filter(pk__in=chunk, status__in=ALLOCATION_POOL_STATUSES).update(
            status=S.KANDIDAT, decision_basis=DecisionBasis.ALLOCATION, decision_reason=placed_reason,
            decided_at=now, updated_at=now)
    for chunk in _chunks(reserved):  # the interview comes first: staff invite with a date, then decide
        Enrollment.objects.filter(pk__in=chunk, status__in=ALLOCATION_POOL_STATUSES).update(
            place_reserved_at=now, updated_at=now)
    for chunk in _chunks(released):
        Enrollment.objects.filter(pk__in=chunk, status__in=ALLOCATION_POOL_STATUSES).update(
            status=S.ZURUECKGEZOGEN, withdrawn_reason=released_reason, updated_at=now)
    # Placed, reserved and released applications change the taken places (updates send no signals).
    enrollment_services.places_changed({c.enrollment.institution_id for table in plan.tables
                                        for c in table.candidates
                                        if c.outcome in (O.PLACED, O.RELEASED)})

    request_ip = client_ip(audit.current_request.get())
    actor_label = audit.actor_label(by)
    logs, events, mails = [], [], []
    for table, c, event, to_status in steps:
        e = c.enrollment
        logs.append(EnrollmentLog(enrollment_id=e.pk, action=f"workpro.enrollment.{event}", by=by, note=c.reason,
                                  from_status=e.status, to_status=to_status))
        events.append(AuditEvent(action=audit.A.STATUS_CHANGED, actor=by, actor_label=actor_label,
                                 object_type="workpro_plugin.enrollment", object_id=str(e.pk),
                                 person_id=e.participant_id, ip=request_ip, at=now,
                                 detail={"step": event, "from": e.status, "to": to_status}))
        context = enrollment_services.event_context(
            e, event, offer_title=table.offer.title, participant=e.participant, status=to_status, round=title,
            wish=c.wish if c.wish != NO_RANK else "–", reason=c.reason, waiting_rank=c.waiting_rank or "")
        mails += [{"to": address, "template": "enrollment_event", "context": context,
                   "institution_id": e.institution_id, "person_id": person_id, "language": language}
                  for address, person_id, language in e.recipients]
    insert_rows(EnrollmentLog, logs)
    insert_rows(AuditEvent, events)
    for chunk in _chunks(mails):
        notify.queue_mails(chunk)


def replay(round_: AllocationRound) -> dict:
    """The matching a confirmed round's recorded inputs give (child id -> offer id or None)."""
    inputs = round_.inputs
    preferences = {int(k): v for k, v in inputs["preferences"].items()}
    priorities = {int(k): v for k, v in inputs["priorities"].items()}
    capacities = {int(k): v for k, v in inputs["capacities"].items()}
    return allocate(preferences, priorities, capacities)


def recorded_matching(round_: AllocationRound) -> dict:
    """The matching a confirmed round applied, read back from its results."""
    matching = {int(child): None for child in round_.inputs["preferences"]}
    for result in round_.results.filter(outcome=O.PLACED).select_related("enrollment"):
        matching[result.enrollment.participant_id] = result.enrollment.offer_id
    return matching


# --- criteria confirmed by staff -----------------------------------------------------------------

def criterion_confirm(*, enrollment: Enrollment | int, criterion: Criterion, reason: str, by) -> CriterionConfirmation:
    if not reason.strip():
        raise AllocationError(_("Bitte begründen Sie die Bestätigung."), field="reason")
    with transaction.atomic():
        locked = enrollment_services._locked(enrollment)
        if not locked.institution.staff_can(by, "process_enrollment"):
            raise AllocationError(_("Diese Aktion ist Ihnen nicht erlaubt."))
        if not criterion.needs_confirmation or criterion.institution_id != locked.institution_id:
            raise AllocationError(_("Dieses Kriterium kann hier nicht bestätigt werden."), field="criterion")
        confirmation, _created = CriterionConfirmation.objects.update_or_create(
            enrollment=locked, criterion=criterion, defaults={"reason": reason.strip(), "confirmed_by": by})
        enrollment_services.log(locked, action="criterion_confirmed", by=by,
                                note=f"{criterion.label}: {reason.strip()}", from_status=locked.status)
    return confirmation


# --- waiting lists and Nachrücken -----------------------------------------------------------------

def fill_freed_places(offer_id: int, *, by=None) -> list[Enrollment]:
    """Nachrücken: offer each free place to the next child on the offer's waiting list.

    Institutions that want to confirm each move first (`Institution.confirm_move_up`) get no
    automatic offer; staff see the next child in the waiting list and press "Platz anbieten".
    """
    offered = []
    with transaction.atomic():
        offer = OfferPage.objects.select_for_update(of=("self",)).get(pk=offer_id)
        institution = offer.get_institution()
        if by is None and (institution is None or institution.confirm_move_up):
            return offered
        free = free_places(offer)
        while free is None or free > 0:
            candidate = next_waiting(offer)
            if candidate is None:
                break
            offered.append(_offer_place(candidate, by=by))
            if free is not None:
                free -= 1
            if free is None:
                break
    return offered


def place_offer(*, enrollment: Enrollment | int, by) -> Enrollment:
    """Staff: offer a freed place to this child (the next on the list, after their confirmation)."""
    with transaction.atomic():
        enrollment_services.lock_offer(enrollment)
        locked = enrollment_services._locked(enrollment)
        if not locked.institution.staff_can(by, "process_enrollment"):
            raise AllocationError(_("Diese Aktion ist Ihnen nicht erlaubt."))
        offer = locked.offer.specific
        if locked.status not in ALLOCATION_POOL_STATUSES or locked.place_offered_at is not None:
            raise AllocationError(_("Diesem Kind kann gerade kein Platz angeboten werden."))
        if free_places(offer) == 0:
            raise AllocationError(_("Für „%(offer)s“ ist derzeit kein Platz frei.") % {"offer": offer.title})
        return _offer_place(locked, by=by)


def _offer_place(enrollment: Enrollment, *, by) -> Enrollment:
    now = timezone.now()
    deadline = timezone.localdate() + timedelta(days=conf.get("PLACE_ACCEPT_DAYS"))
    Enrollment.objects.filter(pk=enrollment.pk).update(place_offered_at=now, place_accept_deadline=deadline)
    enrollment.place_offered_at, enrollment.place_accept_deadline = now, deadline
    fresh = Enrollment.objects.select_related("offer", "participant", "account_holder", "institution").get(
        pk=enrollment.pk)
    enrollment_services.log(fresh, action="place_offered", by=by, from_status=fresh.status,
                            note=_("Frist: %(date)s") % {"date": format_date(deadline)})
    enrollment_services.notify(fresh, "place_offered", place_deadline=deadline.isoformat())
    return fresh


def place_accept(*, enrollment: Enrollment | int, by) -> Enrollment:
    """The family accepts a place offered from the waiting list: the application becomes Kandidat, or, where
    the institution talks to the family first, keeps its place reserved until staff invite them."""
    with transaction.atomic():
        locked = enrollment_services._locked(enrollment)
        if locked.account_holder_id != getattr(by, "pk", None):
            raise AllocationError(_("Diese Aktion ist Ihnen nicht erlaubt."))
        if locked.place_offered_at is None or locked.status not in ALLOCATION_POOL_STATUSES:
            raise AllocationError(_("Für diese Anmeldung liegt kein Platzangebot vor."))
        if locked.place_accept_deadline and locked.place_accept_deadline < timezone.localdate():
            raise AllocationError(_("Die Frist zur Annahme des Platzes ist abgelaufen."))
        reason = _("Nachgerückt von der Warteliste.")
        if locked.institution.interview_first:
            _clear_place_offer(locked)
            locked.place_reserved_at = timezone.now()
            locked.save(update_fields=["place_offered_at", "place_accept_deadline", "place_reserved_at",
                                       "updated_at"])
            enrollment_services.log(locked, action="place_accepted", by=by, note=reason, from_status=locked.status)
            enrollment_services.notify(locked, "allocation_placed_interview")
            _release_lower_wishes(locked, by=by)
            return locked
        result = enrollment_services._run(
            locked.pk, by=None, name="decide", event="decided_kandidat", note=reason,
            kwargs={"accept": True, "basis": DecisionBasis.ALLOCATION, "reason": reason},
            prepare=_clear_place_offer, mail_extra={"reason": reason})
        enrollment_services.log(result, action="place_accepted", by=by, from_status=result.status)
        _release_lower_wishes(result, by=by)
    return result


def _release_lower_wishes(enrollment: Enrollment, *, by) -> None:
    """A child moved up into a better wish: its places and applications for lower wishes close."""
    if enrollment.wish_rank is None:
        return
    lower = Enrollment.objects.filter(
        participant_id=enrollment.participant_id, wish_rank__gt=enrollment.wish_rank,
        status__in=(*ALLOCATION_POOL_STATUSES, S.KANDIDAT, S.EINGESTUFT, S.ANGEBOT, S.ANGENOMMEN),
    ).values_list("pk", flat=True)
    reason = _("Ein höherer Wunsch wurde erfüllt.")
    for pk in lower:
        enrollment_services._run(pk, by=by, name="withdraw", event="allocation_released", note=reason,
                                 kwargs={"reason": reason},
                                 mail_extra={"reason": reason, "round": "", "wish": "", "waiting_rank": ""})


def _clear_place_offer(enrollment: Enrollment) -> None:
    enrollment.place_offered_at = None
    enrollment.place_accept_deadline = None


def place_decline(*, enrollment: Enrollment | int, by, reason: str = "") -> Enrollment:
    """The family declines the offered place: the application closes and the next child is asked."""
    locked = Enrollment.objects.get(pk=enrollment.pk if isinstance(enrollment, Enrollment) else enrollment)
    if locked.account_holder_id != getattr(by, "pk", None):
        raise AllocationError(_("Diese Aktion ist Ihnen nicht erlaubt."))
    if locked.place_offered_at is None:
        raise AllocationError(_("Für diese Anmeldung liegt kein Platzangebot vor."))
    note = reason.strip() or _("Nachrückplatz abgelehnt.")
    with transaction.atomic():
        result = enrollment_services._run(locked.pk, by=by, name="withdraw", event="withdrawn", note=note,
                                          kwargs={"reason": note}, mail_extra={"reason": note})
        enrollment_services.log(result, action="place_declined", by=by, from_status=result.status)
    return result


def expire_place_offers(*, today: date | None = None) -> int:
    """Daily: an offered place not accepted in time goes to the next child (the wish closes)."""
    today = today or timezone.localdate()
    count = 0
    for pk in Enrollment.objects.filter(place_accept_deadline__lt=today, place_offered_at__isnull=False,
                                        status__in=ALLOCATION_POOL_STATUSES).values_list("pk", flat=True):
        note = _("Frist zur Annahme des Nachrückplatzes abgelaufen.")
        with transaction.atomic():
            result = enrollment_services._run(pk, by=None, name="withdraw", event="withdrawn", note=note,
                                              kwargs={"reason": note}, mail_extra={"reason": note})
            enrollment_services.log(result, action="place_offer_expired", from_status=result.status)
        count += 1
    return count


# --- planning report -----------------------------------------------------------------------------

def unmet_demand(institutions) -> list[dict]:
    """Children still waiting, per institution and age group: what a municipality needs for planning."""
    rows: dict[tuple[str, str], int] = defaultdict(int)
    pool = Enrollment.objects.filter(institution__in=institutions, status__in=ALLOCATION_POOL_STATUSES).select_related(
        "institution", "participant", "offer")
    latest = latest_results(e.pk for e in pool)
    groups: dict[int, list] = {}  # institution id -> its age groups (the shared ones and its own)
    for enrollment in pool:
        result = latest.get(enrollment.pk)
        if result is None or result.outcome != O.WAITING:
            continue
        age = enrollment.participant.age_on(result.round.stichtag) if enrollment.participant else None
        if enrollment.institution_id not in groups:
            groups[enrollment.institution_id] = list(AgeGroup.objects.for_institution(enrollment.institution))
        group = next((g for g in groups[enrollment.institution_id] if g.contains(age)), None)
        rows[(enrollment.institution.name, str(group.label) if group else _("unbekannt"))] += 1
    return [{"institution": i, "age_group": g, "waiting": n} for (i, g), n in sorted(rows.items())]
