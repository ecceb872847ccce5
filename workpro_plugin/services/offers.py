"""Public offer content kept warm: after a change, the writer rebuilds what the next visitor would.

A change at a KiTa (an offer published, a page edited) moves its site's cache generation on
(``lib.content_cache``), and the next visitor of the offer index used to pay for the rebuild: at
5,000 offers a count and an ordered read of every offer, about three bare pages (#22). The editor's
publish is the better place for that cost: once per change instead of on a visitor's request, and
the visitor finds the header and the listing's first page ready, as after an enrollment. Of the other
listings (a filter, a search, a deep page), which are too many to build all, the writer rebuilds those
visitors built lately (``OfferIndexPage.warm_listing``, at most ``ASKED_LISTINGS`` per language); a
visitor builds any other.

An enrollment moves only the site's places on. A listing filtered by free places reads the taken
places of every offer of its index (one count, at 5,000 offers about a bare page); after an enrollment
the writer counts them again (``offer_places_warm``), for the indexes whose visitors filtered by free
places lately, so that count, too, is paid once per change and not by a visitor.

``offer_listings_warm`` runs after the writer's transaction commits (``schedule_offer_listings_warm``),
once per site and transaction however many rows changed; in a request, once per site when the view is
done (Wagtail's publish is several autocommitted saves; WorkPro's AuditMiddleware calls
``warm_after_request``). A failure is logged, never raised into the change that triggered it, which
has been committed already. A saved draft changes no public page and warms nothing (signals.py).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import translation
from wagtail.models import Site

from ..lib.content_cache import invalidate_places, pending_on_commit
from ..models import OfferIndexPage
from ..models.offers import free_places_asked_key
from ..selectors.sites import site_nav
from . import audit

logger = logging.getLogger(__name__)


def offer_listings_warm(*, site_id: int) -> int:
    """Build, for every language, the header of site `site_id` and the first page of each of its offer
    indexes, and the listings visitors built lately, where they are not cached, and count the taken places
    of the indexes filtered by free places (offer_places_warm). Returns the number of listings built."""
    site = Site.objects.select_related("root_page").filter(pk=site_id).first()
    if site is None:
        return 0
    indexes = list(OfferIndexPage.objects.live().public().type(OfferIndexPage)
                   .descendant_of(site.root_page, inclusive=True))
    built = 0
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            site_nav(site)
            built += sum(index.warm_listing(site) for index in indexes)
    offer_places_warm(site_id=site_id)  # the change moved the places' key on, too
    return built


def offer_places_warm(*, site_id: int) -> int:
    """Count the taken places of site `site_id`'s offer indexes that visitors filtered by free places lately,
    where they are not cached (after an enrollment). Returns the number counted; no query when none was
    filtered so."""
    asked = cache.get(free_places_asked_key(site_id))
    if not asked:
        return 0
    return sum(index.warm_taken_places(site_id) for index in OfferIndexPage.objects.filter(pk__in=asked))


class _Warm:
    """The on-commit callback for one site; recognisable, so a transaction registers it once. In a
    request it only notes the site: the request warms when its view is done (warm_after_request)."""

    request_key = "_workpro_warm_sites"

    def __init__(self, site_id: int, request=None):
        self.site_id = site_id
        self.request = request

    def __call__(self) -> None:
        if self.request is not None:
            self.request.__dict__.setdefault(self.request_key, {}).setdefault(self.site_id)
            return
        try:
            self.warm(site_id=self.site_id)
        except Exception:  # the change is committed; a cold listing is built by its next visitor
            logger.exception("warming the offer listings of site %s failed (%s)", self.site_id, type(self).__name__)

    @staticmethod
    def warm(*, site_id: int) -> None:
        offer_listings_warm(site_id=site_id)


class _WarmPlaces(_Warm):
    """The on-commit callback of an enrollment's site: its taken places counted (offer_places_warm)."""

    request_key = "_workpro_warm_places"

    @staticmethod
    def warm(*, site_id: int) -> None:
        offer_places_warm(site_id=site_id)


def schedule_offer_listings_warm(site_id: int | None, using: str = DEFAULT_DB_ALIAS) -> None:
    """Warm site `site_id`'s listings when the current transaction commits (at once outside one).

    Many rows saved in one transaction (an import, a bulk publish) register one callback per site
    (`pending_on_commit`)."""
    _schedule(_Warm, site_id, using)


def places_moved(site_id: int | None) -> None:
    """Enrollments changed the taken places at site `site_id` (None: at any site): what shows places
    moves on (the skeletons stay), and after the commit the writer counts them again."""
    invalidate_places(site_id)
    schedule_offer_places_warm(site_id)


def schedule_offer_places_warm(site_id: int | None, using: str = DEFAULT_DB_ALIAS) -> None:
    """Count site `site_id`'s taken places again when the current transaction commits (after an
    enrollment; see offer_places_warm); once per site and transaction, in a request once per request."""
    _schedule(_WarmPlaces, site_id, using)


def _schedule(kind: type[_Warm], site_id: int | None, using: str) -> None:
    if site_id is None:  # a change of every site's content (400 KiTas): each site's next visitor builds
        return
    if any(type(callback) is kind and callback.site_id == site_id for callback in pending_on_commit(kind, using)):
        return
    # In a request (Wagtail's publish saves the page, its revision and the live page one by one, each
    # bumping the generation) the committed changes are warmed once, when the view is done.
    transaction.on_commit(kind(site_id, audit.current_request.get()), using=using)


def warm_after_request(request) -> None:
    """Warm the sites the request's committed changes moved on (see schedule_offer_listings_warm)."""
    for kind in (_Warm, _WarmPlaces):
        for site_id in request.__dict__.pop(kind.request_key, {}):
            kind(site_id)()
