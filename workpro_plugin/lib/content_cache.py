"""The generation of public content: cached listings and headers are keyed by it, any change bumps it.

Per site (#22): with 400 institutions on one installation, an enrollment or a page edit at one KiTa
must not send every other KiTa's listings cold. Each site has a generation of its own, and one global
generation covers changes that cannot be pinned to one site (a Site, a page moved, m2m changes);
a site's content is keyed by both.
"""

from __future__ import annotations

from django.core.cache import cache

CONTENT_GENERATION_KEY = "workpro:content-generation"
SITE_GENERATION_KEY = "workpro:content-generation:site:{}"


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


def content_generation(site_id: int | None = None) -> str:
    """The global generation, or with ``site_id`` the global and that site's ("3.7"): part of cache keys."""
    keys = [CONTENT_GENERATION_KEY] if site_id is None else [CONTENT_GENERATION_KEY, SITE_GENERATION_KEY.format(site_id)]
    values = cache.get_many(keys)
    if len(values) < len(keys):
        for key in keys:
            if key not in values:
                cache.add(key, 1, None)  # add, not set: a concurrent bump must not be overwritten
        values = cache.get_many(keys)
    return ".".join(str(values.get(key, 1)) for key in keys)
