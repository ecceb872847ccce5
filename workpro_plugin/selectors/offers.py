"""Published offers ("Angebote") read by both faces."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from wagtail.models import Revision

from ..models import AgeGroup, Institution, OfferCategory, OfferPage
from .institutions import staff_institutions


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
# --- Angebotskategorien and Altersgruppen (#23) ------------------------------------------------------

def _visible(model, user) -> QuerySet:
    """Entries `user` sees in the admin: the shared ones (read-only but for superusers) and those of the
    user's institutions; all for superusers, none for admin users without an institution."""
    if user is not None and user.is_authenticated and user.is_superuser:
        return model.objects.select_related("institution")
    institutions = staff_institutions(user)
    return (model.objects.filter(Q(institution__isnull=True) | Q(institution__in=institutions))
            .select_related("institution") if institutions.exists() else model.objects.none())


def staff_offer_categories(user) -> QuerySet:
    return _visible(OfferCategory, user)


def staff_age_groups(user) -> QuerySet:
    return _visible(AgeGroup, user)


def category_in_use(category) -> bool:
    """Whether any offer page has this category, also only in a stored revision (a draft, a scheduled
    publication, the history an editor may go back to): it cannot be deleted then."""
    if OfferPage.objects.filter(category=category).exists():
        return True
    return Revision.objects.filter(content_type=ContentType.objects.get_for_model(OfferPage),
                                   content__category=category.pk).exists()
