"""What search engines read: a per-site sitemap.xml (Wagtail's sitemap framework) and robots.txt.

Both answer for the Wagtail site of the request, so one institution's sitemap never lists another's
pages. They are in the plugin's URLs (``/workpro/sitemap.xml``, ``/workpro/robots.txt``) and in
``urls.seo_patterns``, which a host puts at its root, where crawlers look for ``/robots.txt``.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.views.decorators.cache import cache_control
from wagtail.contrib.sitemaps.sitemap_generator import Sitemap
from wagtail.contrib.sitemaps.views import sitemap as wagtail_sitemap

from ...selectors.sites import content_language, page_urls

# Kept out of search engines: the portal (per language), the admin and the documents.
_FALLBACK_PREFIXES = ("/admin/", "/documents/")


class SiteSitemap(Sitemap):
    """The live, public pages under the request's site root (offers included), with lastmod; each page
    once per language URL (/…, /en/…), each entry naming all of them and x-default (the content's
    language) as `xhtml:link` alternates, as the pages' own hreflang links do."""

    def _urls(self, page, protocol, domain):
        # Wagtail's loop (one entry per get_sitemap_urls item, latest_lastmod), per language.
        urls, last_mods = [], set()
        for item in self.paginator.page(page).object_list.iterator():
            languages = page_urls(item, self.request)
            for info in item.get_sitemap_urls(self.request):
                last_mods.add(info.get("lastmod"))
                if len(set(languages.values())) < 2 or info["location"] not in languages.values():
                    urls.append(info)
                    continue
                alternates = [{"lang_code": code, "location": url} for code, url in sorted(languages.items())]
                default = languages.get(content_language(item)) or info["location"]
                alternates.append({"lang_code": "x-default", "location": default})
                urls += [{**info, "location": url, "alternates": alternates} for _code, url in sorted(languages.items())]
        if last_mods and None not in last_mods:
            self.latest_lastmod = max(last_mods)
        return urls


@cache_control(max_age=3600, public=True)
def sitemap_view(request):
    return wagtail_sitemap(request, {"pages": SiteSitemap},
                           template_name="workpro_plugin/seo/sitemap.xml", content_type="application/xml")


def _prefix(name: str, *args) -> str | None:
    try:
        path = reverse(name, args=args)
    except NoReverseMatch:
        return None
    first = path.strip("/").split("/", 1)[0]
    return f"/{first}/" if first else None


def disallowed_paths() -> list[str]:
    paths = []
    for code in ("de", "en"):
        with translation.override(code):
            try:
                paths.append(reverse("workpro:account"))
            except NoReverseMatch:
                pass
    paths.append(_prefix("wagtailadmin_home") or _FALLBACK_PREFIXES[0])
    paths.append(_prefix("wagtaildocs_serve", 1, "x.pdf") or _FALLBACK_PREFIXES[1])
    return list(dict.fromkeys(paths))


def sitemap_url(request) -> str:
    try:
        path = reverse("workpro_sitemap")
    except NoReverseMatch:
        with translation.override(None):
            path = reverse("workpro:sitemap")
    return request.build_absolute_uri(path)


@cache_control(max_age=3600, public=True)
def robots_view(request):
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in disallowed_paths()),
             "", f"Sitemap: {sitemap_url(request)}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
