"""Published offers ("Angebote") read by both faces."""

from __future__ import annotations

from django.db.models import QuerySet

from ..models import Institution, OfferPage


def institution_offers(institutions) -> QuerySet:
    """The offers below the institutions' homepages, by title."""
    offers = OfferPage.objects.none()
    for institution in institutions:
        offers = offers | OfferPage.objects.descendant_of(institution.site.root_page)
    return offers.order_by("title")


def offer_institutions(offers) -> dict:
    """{offer id: its institution or None} for many offers in one query: the institution whose homepage
    is the nearest ancestor of each offer (what `OfferPage.get_institution` finds one page at a time)."""
    roots = sorted(((i.site.root_page.path, i) for i in Institution.objects.select_related(
        "site__root_page", "operator", "logo")), key=lambda pair: -len(pair[0]))
    return {offer.pk: next((i for path, i in roots if offer.path.startswith(path)), None) for offer in offers}
