"""The generation of public content: cached listings and headers are keyed by it, any change bumps it.

Per site (#22): with 400 institutions on one installation, an enrollment or a page edit at one KiTa
must not send every other KiTa's listings cold. Each site has a generation of its own, and one global
generation covers changes that cannot be pinned to one site (a Site, a page moved, m2m changes);
a site's content is keyed by both.

Enrollments change only how many places are taken: they bump a third generation, the site's places.
What does not show places (the header, the order and count of an unfiltered listing) is keyed by
``structure_generation`` and stays warm through a registration day; what shows them (cards, the offer
page, a listing filtered by free places) by ``content_generation``, which includes the places.
"""

from __future__ import annotations

from django.core.cache import cache

CONTENT_GENERATION_KEY = "workpro:content-generation"
SITE_GENERATION_KEY = "workpro:content-generation:site:{}"
PLACES_GENERATION_KEY = "workpro:content-generation:places:{}"


def _bump(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, None)


def invalidate_public_content(site_id: int | None = None) -> None:
    """Called when pages, institutions or enrollments change: cached public content is stale.

    With ``site_id`` only that site's content; without, every site's.
    """
    _bump(CONTENT_GENERATION_KEY if site_id is None else SITE_GENERATION_KEY.format(site_id))


def invalidate_places(site_id: int | None) -> None:
    """Called when an enrollment changes: the taken places of the site's offers may have changed, nothing
    else. Without a site (an enrollment of no institution's site) every site's content."""
    if site_id is None:
        invalidate_public_content()
    else:
        _bump(PLACES_GENERATION_KEY.format(site_id))


def content_generation(site_id: int | None = None) -> str:
    """The global generation, or with ``site_id`` the global, that site's and its places' ("3.7.12"): part
    of the keys of everything that shows places."""
    if site_id is None:
        return _generation([CONTENT_GENERATION_KEY])
    return _generation([CONTENT_GENERATION_KEY, SITE_GENERATION_KEY.format(site_id),
                        PLACES_GENERATION_KEY.format(site_id)])


def structure_generation(site_id: int | None) -> str:
    """Like ``content_generation`` without the places: for what enrollments do not change."""
    if site_id is None:
        return _generation([CONTENT_GENERATION_KEY])
    return _generation([CONTENT_GENERATION_KEY, SITE_GENERATION_KEY.format(site_id)])


def _generation(keys: list[str]) -> str:
    values = cache.get_many(keys)
    if len(values) < len(keys):
        for key in keys:
            if key not in values:
                cache.add(key, 1, None)  # add, not set: a concurrent bump must not be overwritten
        values = cache.get_many(keys)
    return ".".join(str(values.get(key, 1)) for key in keys)
