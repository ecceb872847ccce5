"""Published offers ("Angebote") read by both faces."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from wagtail.models import Revision

from ..models import AgeGroup, OfferCategory, OfferPage
from .institutions import staff_institutions


def institution_offers(institutions) -> QuerySet:
    """The offers below the institutions' homepages, by title."""
    offers = OfferPage.objects.none()
    for institution in institutions:
        offers = offers | OfferPage.objects.descendant_of(institution.site.root_page)
    return offers.order_by("title")


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
