"""Reads of the Platzvergabe: rounds, criteria and waiting lists a staff member may see."""

from __future__ import annotations

from django.db.models import Count, OuterRef, QuerySet, Subquery

from ..lib.choices import ALLOCATION_POOL_STATUSES, AllocationOutcome, holds_place
from ..models import AllocationResult, AllocationRound, Criterion, Enrollment, OfferPage
from .institutions import staff_institutions
from .offers import institution_offers


def staff_offers(user) -> QuerySet:
    """The offers a staff member may allocate: those of the institutions whose enrollments they process."""
    return institution_offers(staff_institutions(user).select_related("site__root_page"))


def staff_rounds(user) -> QuerySet:
    """Rounds whose offers the user may all allocate (a round reaching into another institution does not exist)."""
    offers = staff_offers(user)
    links = AllocationRound.offers.through.objects
    foreign = links.exclude(offerpage__in=offers).values("allocationround_id")
    return (AllocationRound.objects.filter(pk__in=links.filter(offerpage__in=offers).values("allocationround_id"))
            .exclude(pk__in=foreign).select_related("created_by", "confirmed_by"))


def staff_criteria(user) -> QuerySet:
    return Criterion.objects.filter(institution__in=staff_institutions(user)).select_related("institution", "offer")


def published_criteria(offer) -> list[Criterion]:
    """The Kriterienkatalog an offer page publishes for parents."""
    return Criterion.objects.for_offer(offer)


# --- waiting lists --------------------------------------------------------------------------------

def latest_results(enrollment_ids) -> dict[int, AllocationResult]:
    """The newest confirmed result per enrollment."""
    latest = {}
    for result in (AllocationResult.objects.filter(enrollment_id__in=list(enrollment_ids))
                   .select_related("round").order_by("round__confirmed_at", "pk")):
        latest[result.enrollment_id] = result
    return latest


def waiting_list(offer: OfferPage | int) -> list[tuple[int, Enrollment, AllocationResult]]:
    """The children still waiting for `offer`, in the order of its last round: (rank now, enrollment, result)."""
    offer_id = offer.pk if isinstance(offer, OfferPage) else offer
    pool = {e.pk: e for e in Enrollment.objects.filter(offer_id=offer_id, status__in=ALLOCATION_POOL_STATUSES,
                                                       place_reserved_at__isnull=True)
            .select_related("participant", "account_holder")}
    results = [r for r in latest_results(pool).values() if r.outcome == AllocationOutcome.WAITING]
    results.sort(key=lambda r: (r.round.confirmed_at, r.priority_position))
    return [(rank, pool[r.enrollment_id], r) for rank, r in enumerate(results, start=1)]


def recorded_tables(round_: AllocationRound) -> list[dict]:
    """A confirmed round's results per offer, as recorded: the rows staff see, export and print."""
    tables = {}
    for result in round_.results.select_related("enrollment__participant", "enrollment__offer").order_by(
            "enrollment__offer__title", "priority_position"):
        offer = result.enrollment.offer
        table = tables.setdefault(offer.pk, {"offer": offer, "candidates": [],
                                             "lowest_admitted": result.lowest_admitted_points,
                                             "free": round_.inputs.get("capacities", {}).get(str(offer.pk))})
        table["candidates"].append({
            "enrollment": result.enrollment, "points": result.points, "lottery": result.lottery_number,
            "position": result.priority_position, "outcome": result.outcome,
            "outcome_label": result.get_outcome_display(), "waiting_rank": result.waiting_rank,
            "reason": result.reason, "wish": result.enrollment.wish_rank,
            "lines": round_.inputs.get("scores", {}).get(str(result.enrollment_id), {}).get("criteria", []),
        })
    return list(tables.values())


def waiting_counts(offers) -> dict[int, int]:
    """{offer id: children still waiting} for many offers in one query: applications in the pool whose
    newest confirmed result is "waiting" (what `waiting_list` lists one offer at a time)."""
    newest = (AllocationResult.objects.filter(enrollment=OuterRef("pk"))
              .order_by("-round__confirmed_at", "-pk").values("outcome")[:1])
    return dict(Enrollment.objects.filter(offer__in=offers, status__in=ALLOCATION_POOL_STATUSES,
                                          place_reserved_at__isnull=True)
                .annotate(newest=Subquery(newest)).filter(newest=AllocationOutcome.WAITING)
                .order_by().values("offer_id").annotate(n=Count("pk")).values_list("offer_id", "n"))


def waiting_rank(enrollment: Enrollment) -> int | None:
    for rank, waiting, _result in waiting_list(enrollment.offer_id):
        if waiting.pk == enrollment.pk:
            return rank
    return None


def free_places(offer: OfferPage) -> int | None:
    """Places nobody holds and nobody has been offered from the waiting list."""
    if offer.capacity is None:
        return None
    holding = Enrollment.objects.filter(holds_place(), offer=offer).count()
    offered = Enrollment.objects.filter(offer=offer, status__in=ALLOCATION_POOL_STATUSES,
                                        place_offered_at__isnull=False).count()
    return max(offer.capacity - holding - offered, 0)


def next_waiting(offer: OfferPage) -> Enrollment | None:
    for _rank, enrollment, _result in waiting_list(offer):
        if enrollment.place_offered_at is None:
            return enrollment
    return None



def portal_allocation(enrollment: Enrollment) -> dict | None:
    """What Mein Konto shows of the Platzvergabe for one application: the last round's result, the
    reason, the current waiting rank and a place offered from the waiting list."""
    result = latest_results([enrollment.pk]).get(enrollment.pk)
    if result is None and enrollment.place_offered_at is None:
        return None
    rank = waiting_rank(enrollment) if result is not None and result.outcome == AllocationOutcome.WAITING else None
    return {"result": result, "waiting_rank": rank, "place_offered": enrollment.place_offered_at is not None,
            "deadline": enrollment.place_accept_deadline}


def waiting_lists(offer_ids) -> dict[int, dict[int, int]]:
    """{offer id: {enrollment id: rank now}} for several offers in one query: what `waiting_list` ranks
    one offer at a time (the pool's newest results that say "waiting", by round and priority)."""
    latest: dict[int, tuple] = {}
    for enrollment_id, offer_id, outcome, confirmed_at, position in (
            AllocationResult.objects.filter(enrollment__offer_id__in=list(offer_ids),
                                            enrollment__status__in=ALLOCATION_POOL_STATUSES,
                                            enrollment__place_reserved_at__isnull=True)
            .order_by("round__confirmed_at", "pk")
            .values_list("enrollment_id", "enrollment__offer_id", "outcome", "round__confirmed_at",
                         "priority_position")):
        latest[enrollment_id] = (offer_id, outcome, confirmed_at, position)
    waiting = [(key, value) for key, value in latest.items() if value[1] == AllocationOutcome.WAITING]
    waiting.sort(key=lambda item: (item[1][2], item[1][3]))
    lists: dict[int, dict[int, int]] = {}
    for enrollment_id, (offer_id, *_rest) in waiting:
        ranks = lists.setdefault(offer_id, {})
        ranks[enrollment_id] = len(ranks) + 1
    return lists


def waiting_ranks(enrollments) -> None:
    """Set `waiting_rank` on each enrollment (None unless it waits after a round).

    Rows that carry their newest outcome (`allocation_outcome`, as selectors.enrollments.portal_contracts
    annotates it) cost no query unless one waits; then one query reads the waiting lists of all their
    offers. Other rows cost one query for their results first."""
    pool = [e for e in enrollments if e.status in ALLOCATION_POOL_STATUSES]
    missing = [e for e in pool if not hasattr(e, "allocation_outcome")]
    if missing:
        results = latest_results(e.pk for e in missing)
        for enrollment in missing:
            enrollment.allocation_outcome = results[enrollment.pk].outcome if enrollment.pk in results else None
    waiting = [e for e in pool if e.allocation_outcome == AllocationOutcome.WAITING]
    lists = waiting_lists({e.offer_id for e in waiting}) if waiting else {}
    for enrollment in enrollments:
        enrollment.waiting_rank = None
    for enrollment in waiting:
        enrollment.waiting_rank = lists.get(enrollment.offer_id, {}).get(enrollment.pk)


def waiting_enrollments(enrollments: QuerySet) -> QuerySet:
    """Of `enrollments`, those still on a waiting list after a Vergaberunde (the Rundnachricht group)."""
    return enrollments.filter(status__in=ALLOCATION_POOL_STATUSES,
                              allocation_results__outcome=AllocationOutcome.WAITING).distinct()
