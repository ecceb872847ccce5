"""What every page of an institution's site reads: its institution, offer index, help page, header."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.urls import NoReverseMatch
from django.utils import translation
from wagtail.models import Page, Site

from ..lib.content_cache import nav_generation
from ..models import HelpPage, Institution, OfferIndexPage


@dataclass(frozen=True)
class SiteNav:
    """What every page of an institution site shows in its header and footer."""

    institution: Institution | None
    offers_url: str | None
    help_url: str | None


def institution_for_site(site: Site | None) -> Institution | None:
    return Institution.objects.for_site(site)


def site_page_of_type(site: Site | None, page_model):
    """The first live page of `page_model` inside `site`, or None.

    Filtered by content type as well: the page type's few rows are found through the content type
    index, where the path alone (LIKE, no index on SQLite) reads every page of the site, 5,000 offers
    included, on each header rebuild."""
    if site is None:
        return None
    return (
        page_model.objects.live()
        .type(page_model)
        .descendant_of(site.root_page, inclusive=True)
        .order_by("path")
        .first()
    )


def offer_index_for_site(site: Site | None) -> OfferIndexPage | None:
    return site_page_of_type(site, OfferIndexPage)


def help_page_for_site(site: Site | None) -> HelpPage | None:
    return site_page_of_type(site, HelpPage)


def site_nav(site: Site | None) -> SiteNav:
    """Header data of a site, cached per site and language until its pages change (offers and
    enrollments do not: they change no header)."""
    if site is None:
        return SiteNav(None, None, None)
    key = f"workpro:site-nav:{nav_generation(site.pk)}:{site.pk}:{translation.get_language()}"
    nav = cache.get(key)
    if nav is None:
        offer_index = offer_index_for_site(site)
        help_page = help_page_for_site(site)
        nav = SiteNav(
            institution=institution_for_site(site),
            offers_url=offer_index.relative_url(site) if offer_index else None,
            help_url=help_page.relative_url(site) if help_page else None,
        )
        cache.set(key, nav, 60 * 60)
    return nav


def site_nav_for_request(request: HttpRequest) -> SiteNav:
    if not hasattr(request, "_workpro_site_nav"):
        request._workpro_site_nav = site_nav(Site.find_for_request(request))
    return request._workpro_site_nav


def institution_for_request(request: HttpRequest) -> Institution | None:
    """The institution whose site serves this request."""
    return site_nav_for_request(request).institution


def content_language(page) -> str:
    """The language the page's content is written in (Wagtail's locale, else the site's default)."""
    locale = getattr(page, "locale", None) if isinstance(page, Page) else None
    code = getattr(locale, "language_code", "") or settings.LANGUAGE_CODE
    return code.split("-")[0]


def page_urls(page, request) -> dict[str, str]:
    """{language: absolute URL} of a CMS page, one per configured language."""
    urls = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            try:
                url = page.get_full_url(request)
            except NoReverseMatch:
                url = None
        if url:
            urls[code] = url
    return urls
