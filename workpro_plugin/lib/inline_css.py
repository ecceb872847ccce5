"""Stylesheets inlined into a public page's <head>, allowed by their hash in the CSP.

A visitor who arrives from a search engine or a link preview sees a public CMS page first: its
two small stylesheets (the host's and WorkPro's, ~4 KB compressed together) are inlined there, so
the first paint waits for no further request. The portal keeps `<link>` stylesheets: its visitors
come back, and the browser's cache serves them.

The Content Security Policy stays without 'unsafe-inline': each inlined block adds its own
`'sha256-…'` to style-src for the response that carries it (WorkProCSPMiddleware reads the
hashes the templates registered on the request). A hash, unlike a nonce, keeps the page
cacheable.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage

_REQUEST_ATTRIBUTE = "_workpro_csp_style_hashes"


@dataclass(frozen=True)
class InlineStyle:
    css: str
    source: str  # "sha256-…", as it goes into style-src (quoted there)


def _read(path: str) -> str | None:
    """The stylesheet's text: collected (production) or found in the apps' static folders (DEBUG)."""
    try:
        with staticfiles_storage.open(path) as handle:
            return handle.read().decode("utf-8")
    except (OSError, ValueError):
        pass
    found = finders.find(path)
    if not found:
        return None
    with open(found, encoding="utf-8") as handle:
        return handle.read()


@lru_cache(maxsize=32)
def _cached(path: str) -> InlineStyle | None:
    return _load(path)


def _load(path: str) -> InlineStyle | None:
    css = _read(path)
    if css is None or "url(" in css or "@import" in css or "</" in css:
        return None  # relative references would resolve against the page; "</" could end <style>
    css = css.strip()
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return InlineStyle(css=css, source=f"sha256-{digest}")


def inline_style(path: str) -> InlineStyle | None:
    """The stylesheet at static `path` for a <style> block, or None (then link it). Read once per
    process; with DEBUG on at every call, so edits show at once."""
    return _load(path) if settings.DEBUG else _cached(path)


def allow_style(request, style: InlineStyle) -> None:
    """Lets the response to `request` apply `style` (its hash goes into style-src)."""
    if request is None:
        return
    sources = getattr(request, _REQUEST_ATTRIBUTE, None)
    if sources is None:
        sources = []
        setattr(request, _REQUEST_ATTRIBUTE, sources)
    if style.source not in sources:
        sources.append(style.source)


def allowed_style_sources(request) -> list[str]:
    """The quoted CSP sources of the styles inlined into the response to `request`."""
    return [f"'{source}'" for source in getattr(request, _REQUEST_ATTRIBUTE, ())]
