"""The generation of public content: cached listings and headers are keyed by it, any change bumps it.

Per site (#22): with 400 institutions on one installation, an enrollment or a page edit at one KiTa
must not send every other KiTa's listings cold. Each site has a generation of its own, and one global
generation covers changes that cannot be pinned to one site (a Site, a page moved, m2m changes);
a site's content is keyed by both.

Two narrower generations of a site go below its own:
- its offers': an offer page, its sections, fees, categories, age groups or criteria changed. The
  header (``nav_generation``) shows none of them and stays warm.
- its places': an enrollment changed how many places are taken, nothing else. The header and a
  listing's order and count (``structure_generation``) stay warm through a registration day; what
  shows places (cards, the offer page, a listing filtered by free places) is keyed by
  ``content_generation``, which includes them.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction

CONTENT_GENERATION_KEY = "workpro:content-generation"
SITE_GENERATION_KEY = "workpro:content-generation:site:{}"
OFFERS_GENERATION_KEY = "workpro:content-generation:offers:{}"
PLACES_GENERATION_KEY = "workpro:content-generation:places:{}"


def _bump(key: str) -> None:
    """Move `key` on now, and once more when the current transaction commits.

    Now: the writer's own transaction sees its change. At the commit: a visitor who read between the
    change and the commit saw the old rows and cached them under the new generation, which would show
    them until the next change; the commit moves past that entry. One callback per transaction holds
    its keys (a callback of a rolled-back savepoint is dropped by Django and registered anew)."""
    _incr(key)
    if not transaction.get_connection().in_atomic_block:
        return
    pending = next(iter(pending_on_commit(_PendingBumps)), None)
    if pending is None:
        pending = _PendingBumps()
        transaction.on_commit(pending)
    pending.keys.setdefault(key)


def pending_on_commit(kind: type, using: str | None = None) -> list:
    """The callbacks of class `kind` waiting for the current transaction's commit (none outside one).

    Django drops the callbacks of a rolled-back savepoint from this list, so a writer that registers one
    callback per transaction finds it here, where a set of its own would have to follow rollbacks."""
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        return []
    return [callback for _sids, callback, *_rest in connection.run_on_commit if isinstance(callback, kind)]


class _PendingBumps:
    def __init__(self):
        self.keys: dict[str, None] = {}  # ordered, unique

    def __call__(self) -> None:
        for key in self.keys:
            _incr(key)


def _incr(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, None)


def invalidate_public_content(site_id: int | None = None) -> None:
    """Called when pages, institutions or enrollments change: cached public content is stale.

    With ``site_id`` only that site's content; without, every site's.
    """
    _bump(CONTENT_GENERATION_KEY if site_id is None else SITE_GENERATION_KEY.format(site_id))


def invalidate_offers(site_id: int | None) -> None:
    """Called when an offer or what only offers show (fees, categories, age groups, criteria) changes.
    Without a site (shared entries) every site's content."""
    _invalidate_part(OFFERS_GENERATION_KEY, site_id)


def invalidate_places(site_id: int | None) -> None:
    """Called when an enrollment changes: the taken places of the site's offers may have changed, nothing
    else. Without a site (an enrollment of no institution's site) every site's content."""
    _invalidate_part(PLACES_GENERATION_KEY, site_id)


def _invalidate_part(kind: str, site_id: int | None) -> None:
    if site_id is None:
        invalidate_public_content()
    else:
        _bump(kind.format(site_id))


def content_generation(site_id: int | None = None) -> str:
    """The global generation, or with ``site_id`` also the site's, its offers' and its places'
    ("3.7.2.12"): part of the keys of everything that shows places."""
    return _generation(site_id, OFFERS_GENERATION_KEY, PLACES_GENERATION_KEY)


def structure_generation(site_id: int | None) -> str:
    """Like ``content_generation`` without the places: for what enrollments do not change."""
    return _generation(site_id, OFFERS_GENERATION_KEY)


def nav_generation(site_id: int | None) -> str:
    """The global and the site's generation only: the header, which no offer and no enrollment changes."""
    return _generation(site_id)


def _generation(site_id: int | None, *site_kinds: str) -> str:
    keys = [CONTENT_GENERATION_KEY]
    if site_id is not None:
        keys += [SITE_GENERATION_KEY.format(site_id), *(kind.format(site_id) for kind in site_kinds)]
    values = cache.get_many(keys)
    if len(values) < len(keys):
        for key in keys:
            if key not in values:
                cache.add(key, 1, None)  # add, not set: a concurrent bump must not be overwritten
        values = cache.get_many(keys)
    return ".".join(str(values.get(key, 1)) for key in keys)
