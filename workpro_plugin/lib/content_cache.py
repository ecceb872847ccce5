"""The generation of public content: cached listings and headers are keyed by it, any change bumps it."""

from __future__ import annotations

from django.core.cache import cache

CONTENT_GENERATION_KEY = "workpro:content-generation"


def invalidate_public_content() -> None:
    """Called when pages, institutions or enrollments change: cached public content is stale."""
    try:
        cache.incr(CONTENT_GENERATION_KEY)
    except ValueError:
        cache.set(CONTENT_GENERATION_KEY, 1, None)


def content_generation() -> int:
    return cache.get_or_set(CONTENT_GENERATION_KEY, 1, None)
