"""Published offers ("Angebote") read by both faces."""

from __future__ import annotations

from django.db.models import QuerySet

from ..models import OfferPage


def institution_offers(institutions) -> QuerySet:
    """The offers below the institutions' homepages, by title."""
    offers = OfferPage.objects.none()
    for institution in institutions:
        offers = offers | OfferPage.objects.descendant_of(institution.site.root_page)
    return offers.order_by("title")
