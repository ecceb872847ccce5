"""Reads of the Platzvergabe: rounds, criteria and waiting lists a staff member may see."""

from __future__ import annotations

from django.db.models import QuerySet

from ..models import AllocationRound, Criterion
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
    return list(Criterion.objects.for_offer(offer))
