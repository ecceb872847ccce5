"""`{% workpro_head %}`: everything a WorkPro page needs in the host's <head>.

Plugin pages put it into the host's conventional `extra_css` block (workpro_plugin/layout.html
does this), so it works with the base.html `wagtail start` generates. A host whose own pages show
`{% workpro_buttons %}` may also call it in its base.html <head>: the tag renders once per
template render, however often it is called, so plugin pages never get the tags twice.

What search engines and link previews read (#24):
- exactly one meta description: a base.html shows `page.search_description` itself (as the
  `wagtail start` one does), so the tag adds one only when that is empty: the offer's teaser, the
  page's intro, else a sentence naming the institution;
- plugin views (the portal, the login) are `noindex`;
- on a CMS page: `hreflang` alternates (de, en, x-default: the content's language) and each
  language's page its own canonical: `/en/` translates the interface (navigation, the
  registration form) around the German content, the case Google's hreflang guide names
  ("only the template is translated"); a canonical pointing to another hreflang URL would tell
  search engines to drop the English page (Lighthouse: "Points to another hreflang location"). Open
  Graph and Twitter card tags with the page's picture (an image field such as a homepage's
  `hero_image`, else the first image block of its body) as a 1200x630 rendition and the
  picture's alt text, else the institution's logo; on an offer its JSON-LD;
- on a CMS page (what search engines and link previews lead to) the plugin's stylesheet is
  inlined, allowed by its hash in the CSP (lib.inline_css); `{% workpro_stylesheet path %}`
  does the same for a host's own stylesheet. The portal links its stylesheets (cached).

`{% workpro_content_lang %}` marks CMS content: ` lang="de"` when the interface speaks another
language than the page is written in (`/en/` translates the interface only).
"""

from django import template
from django.conf import settings
from django.core.cache import cache
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils import translation
from django.utils.html import format_html, strip_tags
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from wagtail.blocks import StreamValue
from wagtail.images.models import AbstractImage
from wagtail.models import Page

from ..lib.inline_css import allow_style, inline_style
from ..models import OfferPage
from ..selectors.sites import content_language, institution_for_request, page_urls

register = template.Library()

_RENDERED = "workpro_head_rendered"
DESCRIPTION_CHARS = 160
# The page's own picture: Open Graph's recommended 1.91:1 at 1200x630 (Twitter "summary_large_image").
OG_IMAGE_SPEC = "fill-1200x630"
# The institution's logo: Twitter "summary" image, square, at least 144 px; 600 px stays sharp.
OG_LOGO_SPEC = "fill-600x600"
# Image fields of a page that make its preview picture (a homepage's hero image), in this order.
PREVIEW_IMAGE_FIELDS = ("social_image", "hero_image", "image")
PLUGIN_STYLESHEET = "workpro_plugin/css/workpro.css"
OG_LOCALES = {"de": "de_DE", "en": "en_GB"}
# Plugin views that search engines may index (everything else in the namespace is the portal).
INDEXABLE_VIEWS = {"help"}


def _active_language() -> str:
    return (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]


def meta_description(page, institution) -> str:
    """The page's description when its editor set none: teaser, intro, else the institution."""
    for attribute in ("teaser", "intro"):
        text = strip_tags(str(getattr(page, attribute, "") or "")).strip() if page is not None else ""
        if text:
            return Truncator(" ".join(text.split())).chars(DESCRIPTION_CHARS)
    if institution is not None:
        place = f", {institution.city}" if institution.city else ""
        return _("Angebote, Anmeldung und Konto bei %(name)s%(place)s.") % {"name": institution.name, "place": place}
    return _("Angebote und Anmeldung online.")


def _is_portal_view(request) -> bool:
    match = getattr(request, "resolver_match", None)
    return bool(match and "workpro" in match.namespaces and match.url_name not in INDEXABLE_VIEWS)


def preview_image(page) -> tuple[AbstractImage, str] | None:
    """(image, alt text) of the page's own picture: an image field (PREVIEW_IMAGE_FIELDS), else
    the first image block of its body; the alt text the editor gave it there, else the image's
    description or title."""
    if page is None:
        return None
    for attribute in PREVIEW_IMAGE_FIELDS:
        image = getattr(page, attribute, None)
        if isinstance(image, AbstractImage):
            return image, image.default_alt_text
    body = getattr(page, "body", None)
    if isinstance(body, StreamValue):
        for block in body:
            image = block.value
            if isinstance(image, AbstractImage):
                return image, getattr(image, "contextual_alt_text", "") or image.default_alt_text
    return None


def _rendition(image, spec):
    try:
        return image.get_rendition(spec)
    except Exception:  # noqa: BLE001 - a missing or broken file must not break the page
        return None


def _og_image(page, institution, request):
    """The link preview's picture: the page's own at 1200x630, else the institution's logo."""
    rendition, alt, large = None, "", False
    picture = preview_image(page)
    if picture is not None:
        rendition, alt, large = _rendition(picture[0], OG_IMAGE_SPEC), picture[1], True
    logo = getattr(institution, "logo", None)
    if rendition is None and logo is not None:
        rendition, alt, large = _rendition(logo, OG_LOGO_SPEC), _("Logo von %(name)s") % {"name": institution.name}, False
    if rendition is None:
        return None
    url = rendition.url
    if request is not None and url.startswith("/"):
        url = request.build_absolute_uri(url)
    return {"url": url, "width": rendition.width, "height": rendition.height, "alt": alt, "large": large}


def _stylesheet(context, path: str) -> str:
    """A <style> block on a CMS page (allowed by its hash in the CSP), else a cached <link>."""
    page = context.get("page")
    request = context.get("request")
    style = inline_style(path) if isinstance(page, Page) and request is not None else None
    if style is None:
        return format_html('<link rel="stylesheet" href="{}">', static(path))
    allow_style(request, style)
    # The CSS is the project's own static file, hashed as it is written here: not escaped.
    return format_html("<style>{}</style>", mark_safe(style.css))  # noqa: S308


@register.simple_tag(takes_context=True)
def workpro_stylesheet(context, path):
    """A host's stylesheet the way WorkPro serves its own: inlined on public CMS pages (no
    render-blocking request), linked elsewhere. `{% workpro_stylesheet 'css/site.css' %}`"""
    return _stylesheet(context, path)


def _page_facts(context, page, institution, request) -> tuple[str, dict, dict | None]:
    """The meta description, the page's URLs per language and its link preview picture.

    On an offer page they are cached under its detail cache key (site content generation, day,
    language; none for a preview) and the request's origin: the picture is a rendition lookup and
    its absolute URL. Saving an image bumps every site's generation (signals._invalidate_media)."""
    if page is None:
        return meta_description(None, institution), {}, None
    key = context.get("detail_cache_key")
    if key and request is not None:
        cache_key = f"workpro:head:{page.pk}:{key}:{request.scheme}://{request.get_host()}"
        facts = cache.get(cache_key)
        if facts is None:
            facts = _page_facts(context={}, page=page, institution=institution, request=request)
            cache.set(cache_key, facts, 600)
        return facts
    description = page.search_description or meta_description(page, institution)
    return description, page_urls(page, request), _og_image(page, institution, request)


@register.simple_tag(takes_context=True)
def workpro_head(context):
    """The plugin's stylesheet, the meta description, robots, canonical, hreflang, Open Graph
    and, on an offer page, schema.org JSON-LD (a data block: no CSP script exception needed)."""
    # render_context is shared along the {% extends %} chain of one rendering: the base
    # template and the plugin's layout see the same flag.
    if context.render_context.get(_RENDERED):
        return ""
    context.render_context[_RENDERED] = True
    request = context.get("request")
    page = context.get("page")
    page = page if isinstance(page, Page) else None
    offer = page if isinstance(page, OfferPage) else None
    institution = context.get("institution")
    if institution is None and request is not None:
        institution = institution_for_request(request)
    structured_data_json = None
    if offer is not None:
        structured_data_json = context.get("structured_data_json") or offer.structured_data_json(request)
    description, urls, og_image = _page_facts(context, page, institution, request)
    lang = content_language(page)
    x_default = urls.get(lang) or next(iter(urls.values()), None)
    canonical = urls.get(_active_language()) or x_default
    return render_to_string("workpro_plugin/includes/head.html", {
        "stylesheet": _stylesheet(context, PLUGIN_STYLESHEET),
        "page": page,
        "offer": offer,
        "institution": institution,
        "structured_data_json": structured_data_json,
        # a base.html shows page.search_description itself
        "show_description": not (page is not None and page.search_description),
        "description": description,
        "noindex": page is None and request is not None and _is_portal_view(request),
        "canonical": canonical,
        "alternates": sorted(urls.items()),
        "x_default": x_default,
        "og_title": (page.seo_title or page.title) if page is not None else "",
        "og_locale": OG_LOCALES.get(lang, lang),
        "og_image": og_image,
        "twitter_card": "summary_large_image" if og_image and og_image["large"] else "summary",
    })


@register.simple_tag(takes_context=True)
def workpro_content_lang(context, page=None):
    """` lang="de"` on an element with CMS content when the interface speaks another language."""
    lang = content_language(page or context.get("page"))
    if lang == _active_language():
        return ""
    return format_html(' lang="{}"', lang)
