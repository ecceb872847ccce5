"""What search engines and link previews read (#24): sitemap.xml, robots.txt, meta tags, lang."""

import base64
import hashlib

import pytest
from bs4 import BeautifulSoup
from django.utils import translation
from wagtail.models import Page

from workpro_plugin.models import Institution, OfferIndexPage, OfferPage

pytestmark = pytest.mark.django_db

DEMO_HOSTS = ("127.0.0.1", "localhost")
# The demo offers with a picture in their body (workpro_site.demo): slug -> (host, alt text).
PICTURED_OFFERS = {
    "krippenplatz": ("127.0.0.1", "Gezeichnetes Krippenhaus mit Garten, Sandkasten und Sonne"),
    "krippe-regenbogenkinder": ("regenbogen.localhost", "Gezeichnetes Krippenhaus am Waldrand unter einem Regenbogen"),
}


def _get(client, host, path="/", port=80, **extra):
    return client.get(path, HTTP_HOST=f"{host}:{port}" if port != 80 else host, SERVER_PORT=str(port), **extra)


def _sitemap_locations(response):
    soup = BeautifulSoup(response.content, "xml")
    return {url.loc.get_text(): url.lastmod.get_text() if url.lastmod else None for url in soup.find_all("url")}


def test_each_site_lists_only_its_own_live_public_pages_with_lastmod(world, client, make_offer):
    draft = make_offer(world.other, "Entwurf")
    draft.unpublish()
    make_offer(world.other, "Ausbildung Pflege")
    for page in Page.objects.live().exclude(depth=1):
        page.specific.save_revision().publish()  # as the editor does: sets last_published_at
    kita = _sitemap_locations(_get(client, "kita.test", "/sitemap.xml"))
    bbz = _sitemap_locations(_get(client, "bbz.test", "/sitemap.xml"))
    assert "http://kita.test/" in kita and "http://kita.test/angebote/krippenplatz/" in kita
    assert "http://bbz.test/angebote/ausbildung-pflege/" in bbz
    assert all(url.startswith("http://kita.test/") for url in kita)
    assert all(url.startswith("http://bbz.test/") for url in bbz)
    assert not any("entwurf" in url for url in bbz)
    assert all(kita.values()) and all(bbz.values())  # every entry has its lastmod


def test_each_page_is_listed_in_every_language_with_its_alternates(world, client):
    soup = BeautifulSoup(_get(client, "kita.test", "/sitemap.xml").content, "xml")
    entries = {url.loc.get_text(): {(link["hreflang"], link["href"]) for link in url.find_all("link")}
               for url in soup.find_all("url")}
    german, english = "http://kita.test/angebote/krippenplatz/", "http://kita.test/en/angebote/krippenplatz/"
    expected = {("de", german), ("en", english), ("x-default", german)}  # the content is German
    assert entries[german] == entries[english] == expected
    assert "http://kita.test/en/" in entries
    assert all(links for links in entries.values())


def test_the_sitemap_is_xml_and_also_under_the_plugin_prefix(world, client):
    response = _get(client, "kita.test", "/sitemap.xml")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    assert _sitemap_locations(_get(client, "kita.test", "/workpro/sitemap.xml")) == _sitemap_locations(response)


@pytest.mark.parametrize("host", ["kita.test", "bbz.test"])
def test_robots_points_to_the_own_sitemap_and_keeps_portal_admin_documents_out(world, client, host):
    response = _get(client, host, "/robots.txt")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert f"Sitemap: http://{host}/sitemap.xml" in lines
    for path in ("/workpro/konto/", "/en/workpro/konto/", "/admin/", "/documents/"):
        assert f"Disallow: {path}" in lines
    assert "Disallow: /" not in lines


@pytest.mark.parametrize("host", DEMO_HOSTS)
def test_demo_sitemaps_never_list_the_other_site(demo, client, host):
    own = _sitemap_locations(_get(client, host, "/sitemap.xml", port=8000))
    assert own and all(url.startswith(f"http://{host}:8000/") for url in own)
    assert all(own.values())
    offers = OfferPage.objects.live().descendant_of(Institution.objects.get(site__hostname=host).site.root_page)
    assert {offer.full_url for offer in offers if offer.get_view_restrictions().count() == 0} <= set(own)


# --- meta description, robots, canonical, hreflang, link previews ---------------------------

def _head(response):
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser").head


def _meta(head, **attrs):
    return [tag["content"] for tag in head.find_all("meta", attrs=attrs)]


def _demo_pages(host):
    institution = Institution.objects.get(site__hostname=host)
    root = institution.site.root_page
    index = OfferIndexPage.objects.descendant_of(root).get()
    offer = OfferPage.objects.live().child_of(index).first()
    return institution, [root.specific, index, offer]


@pytest.mark.parametrize("host", DEMO_HOSTS)
@pytest.mark.parametrize("prefix", ["", "/en"])
def test_demo_public_pages_have_one_description_their_own_canonical_and_previews(demo, client, host, prefix):
    """Each language's page is its own canonical among the hreflang alternates (Google's hreflang
    guide: a page whose template only is translated; Lighthouse fails a canonical that points to
    another hreflang URL); x-default is the German page, the content's language."""
    institution, pages = _demo_pages(host)
    for page in pages:
        with translation.override("de"):
            german, path = page.get_full_url(), prefix + page.relative_url(institution.site)
        english = german.replace(f"{host}:8000/", f"{host}:8000/en/", 1)
        own = english if prefix == "/en" else german
        head = _head(_get(client, host, path, port=8000))
        assert len(_meta(head, name="description")) == 1, path
        assert _meta(head, name="description")[0].strip()
        assert _meta(head, name="robots") == []
        assert [link["href"] for link in head.find_all("link", rel="canonical")] == [own]
        hreflang = {link["hreflang"]: link["href"] for link in head.find_all("link", rel="alternate")}
        assert hreflang == {"de": german, "x-default": german, "en": english}
        assert _meta(head, property="og:url") == [own]
        assert _meta(head, property="og:locale") == ["de_DE"]
        assert _meta(head, property="og:title") == [page.seo_title or page.title]
        assert _meta(head, property="og:description") == _meta(head, name="description")
        image = _meta(head, property="og:image")
        assert len(image) == 1 and image[0].startswith(f"http://{host}:8000/media/")
        assert _meta(head, name="twitter:image") == image
        if page.slug in PICTURED_OFFERS:  # the offer's own picture, see test_demo_offer_previews_show_...
            continue
        assert _meta(head, name="twitter:card") == ["summary"]
        assert int(_meta(head, property="og:image:width")[0]) >= 144
        assert _meta(head, property="og:image:alt") == [f"Logo von {institution.name}"] or prefix == "/en"


@pytest.mark.parametrize("prefix", ["", "/en"])
@pytest.mark.parametrize("slug", sorted(PICTURED_OFFERS))
def test_demo_offer_previews_show_the_offers_picture_at_1200x630_with_its_alt_text(demo, client, slug, prefix):
    host, alt = PICTURED_OFFERS[slug]
    head = _head(_get(client, host, f"{prefix}/angebote/{slug}/", port=8000))
    offer = OfferPage.objects.get(slug=slug)
    picture = next(block.value for block in offer.body if block.block_type == "image")
    rendition = picture.get_rendition("fill-1200x630")
    assert _meta(head, property="og:image") == [f"http://{host}:8000{rendition.url}"]
    assert _meta(head, name="twitter:image") == _meta(head, property="og:image")
    assert (_meta(head, property="og:image:width"), _meta(head, property="og:image:height")) == (["1200"], ["630"])
    assert _meta(head, property="og:image:alt") == [alt] == _meta(head, name="twitter:image:alt")
    assert _meta(head, name="twitter:card") == ["summary_large_image"]
    # the picture is shown in the offer, sized for the screen, with the same alt text
    image = BeautifulSoup(_get(client, host, f"/angebote/{slug}/", port=8000).content, "html.parser").select_one(
        "main img.wp-offer-image")
    assert image["alt"] == alt and "srcset" in image.attrs and image["width"] and image["height"]


@pytest.mark.parametrize("host", (*DEMO_HOSTS, "regenbogen.localhost"))
def test_demo_home_and_index_previews_fall_back_to_the_institutions_logo(demo, client, host):
    institution = Institution.objects.get(site__hostname=host)
    logo = institution.logo.get_rendition("fill-600x600")
    for path in ("/", "/angebote/"):
        head = _head(_get(client, host, path, port=8000))
        assert _meta(head, property="og:image") == [f"http://{host}:8000{logo.url}"], path
        assert _meta(head, property="og:image:alt") == [f"Logo von {institution.name}"]
        assert _meta(head, name="twitter:card") == ["summary"]


def test_a_homepage_hero_image_is_its_preview_and_a_block_without_alt_text_uses_the_title(world, client, make_offer):
    from wagtail.images import get_image_model
    from wagtail.images.tests.utils import get_test_image_file

    Image = get_image_model()
    hero = Image.objects.create(title="Unser Garten", description="Kinder spielen im Garten",
                                file=get_test_image_file(size=(1400, 800)))
    home = world.kita.site.root_page.specific
    home.hero_image = hero
    home.save_revision().publish()
    head = _head(_get(client, "kita.test", "/"))
    assert _meta(head, property="og:image:alt") == ["Kinder spielen im Garten"]
    assert _meta(head, property="og:image") == [f"http://kita.test{hero.get_rendition('fill-1200x630').url}"]
    assert _meta(head, name="twitter:card") == ["summary_large_image"]

    untitled = Image.objects.create(title="Gruppenraum", file=get_test_image_file(size=(640, 480)))
    offer = world.offer
    untitled.contextual_alt_text, untitled.decorative = "", True
    offer.body = [("image", untitled)]
    offer.save_revision().publish()
    head = _head(_get(client, "kita.test", "/angebote/krippenplatz/"))
    assert _meta(head, property="og:image:alt") == ["Gruppenraum"]
    # smaller than 1200x630: cropped to the same shape, never enlarged
    width, height = int(_meta(head, property="og:image:width")[0]), int(_meta(head, property="og:image:height")[0])
    assert width <= 640 and abs(width / height - 1200 / 630) < 0.01


# --- critical CSS: inlined on public pages, allowed by its hash in the CSP ------------------

def _style_src(response) -> list[str]:
    directives = (part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    return dict(directives)["style-src"].split()


@pytest.mark.parametrize("host", (*DEMO_HOSTS, "regenbogen.localhost"))
def test_demo_public_pages_inline_both_stylesheets_allowed_by_their_hashes(demo, client, host):
    _institution, (_home, _index, offer) = _demo_pages(host)
    for path in ("/", "/angebote/", f"/angebote/{offer.slug}/", "/en/", "/hilfe/"):
        response = _get(client, host, path, port=8000)
        head = _head(response)
        assert head.find_all("link", rel="stylesheet") == [], path
        styles = [tag.string for tag in head.find_all("style")]
        assert len(styles) == 2 and ".site-header" in styles[0] and ".wp-offer-card" in styles[1], path
        sources = _style_src(response)
        assert "'unsafe-inline'" not in sources and "'self'" in sources
        for css in styles:  # the browser hashes the text between the tags
            assert f"'sha256-{base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()}'" in sources


@pytest.mark.parametrize("path", ["/workpro/konto/anmelden/", "/workpro/konto/passwort-anfordern/"])
def test_the_portal_links_its_cached_stylesheets_and_keeps_the_strict_policy(demo, client, path):
    response = _get(client, "127.0.0.1", path, port=8000)
    head = _head(response)
    assert [link["href"] for link in head.find_all("link", rel="stylesheet")] == [
        "/static/css/site.css", "/static/workpro_plugin/css/workpro.css"]
    assert head.find_all("style") == []
    assert _style_src(response) == ["'self'"]


def test_the_admin_keeps_unsafe_inline_and_gets_no_hashes(admin_client):
    response = admin_client.get("/admin/")
    assert "'unsafe-inline'" in _style_src(response)
    assert not [source for source in _style_src(response) if source.startswith("'sha256-")]


def test_an_editor_set_description_is_shown_once(world, client):
    world.offer.search_description = "Von der Redaktion"
    world.offer.save()
    head = _head(_get(client, "kita.test", "/angebote/krippenplatz/"))
    assert _meta(head, name="description") == ["Von der Redaktion"]
    assert _meta(head, property="og:description") == ["Von der Redaktion"]


def test_index_without_intro_describes_the_institution(world, client):
    head = _head(_get(client, "bbz.test", "/angebote/"))
    assert _meta(head, name="description") == ["Angebote, Anmeldung und Konto bei Bbz."]


@pytest.mark.parametrize("path", ["/workpro/konto/anmelden/", "/en/workpro/konto/anmelden/",
                                  "/workpro/konto/passwort-anfordern/"])
@pytest.mark.parametrize("host", ["kita.test", "bbz.test"])
def test_portal_pages_are_noindex_with_one_description(world, client, host, path):
    head = _head(_get(client, host, path))
    assert _meta(head, name="robots") == ["noindex"]
    assert len(_meta(head, name="description")) == 1


def test_the_signed_in_portal_is_noindex(world, client):
    client.force_login(world.holder)
    head = _head(_get(client, "kita.test", "/workpro/konto/"))
    assert _meta(head, name="robots") == ["noindex"]


# --- schema.org: the application window -----------------------------------------------------

def test_offer_json_ld_has_the_application_window_and_availability(world):
    import datetime

    offer = world.offer
    offer.applications_open_from = datetime.date(2026, 3, 1)
    offer.applications_close_on = datetime.date(2026, 4, 30)
    data = offer.structured_data()["offers"]
    assert data["validFrom"] == "2026-03-01" and data["validThrough"] == "2026-04-30"
    assert offer.schema_availability(datetime.date(2026, 2, 1)) == "https://schema.org/PreOrder"
    assert offer.schema_availability(datetime.date(2026, 3, 15)) == "https://schema.org/InStock"
    assert offer.schema_availability(datetime.date(2026, 5, 1)) == "https://schema.org/Discontinued"
    offer.capacity = 0
    assert offer.schema_availability(datetime.date(2026, 3, 15)) == "https://schema.org/SoldOut"


# --- language: /en/ translates the interface, the CMS content keeps lang="de" -----------------

@pytest.mark.parametrize("host", ["kita.test", "bbz.test"])
def test_english_pages_mark_the_german_cms_content(world, client, make_offer, host):
    institution = world.kita if host == "kita.test" else world.other
    if host == "bbz.test":
        make_offer(institution, "Krippenplatz")
    for path in ("/en/", "/en/angebote/", "/en/angebote/krippenplatz/"):
        soup = BeautifulSoup(_get(client, host, path).content, "html.parser")
        assert soup.html["lang"] == "en"
        assert soup.main.h1["lang"] == "de", path
    soup = BeautifulSoup(_get(client, host, "/en/angebote/").content, "html.parser")
    assert {h3.get("lang") for h3 in soup.select(".wp-offer-card__title")} == {"de"}
    teaser = soup.find("p", string="Kurzbeschreibung Krippenplatz")
    assert teaser["lang"] == "de"
    german = BeautifulSoup(_get(client, host, "/angebote/krippenplatz/").content, "html.parser")
    assert german.html["lang"] == "de" and german.main.select("[lang]") == []


# --- header logo at 2x, tables named --------------------------------------------------------

@pytest.mark.parametrize("host", DEMO_HOSTS)
def test_demo_header_logo_is_served_at_twice_its_display_size(demo, client, host):
    institution = Institution.objects.get(site__hostname=host)
    soup = BeautifulSoup(_get(client, host, "/", port=8000).content, "html.parser")
    logo = soup.select_one(".site-brand__logo")
    assert logo["height"] == "48"
    rendition = institution.logo.get_rendition("height-96")
    assert logo["src"] == rendition.url
    assert rendition.height == min(96, institution.logo.height)


def test_every_data_table_of_the_plugin_is_named():
    """A data table has a <caption> or aria-labelledby (layout tables in mails are role=presentation)."""
    import re
    from pathlib import Path

    import workpro_plugin

    unnamed = []
    templates = Path(workpro_plugin.__file__).parent / "templates" / "workpro_plugin"
    for path in templates.rglob("*.html"):
        if {"admin", "email", "pdf"} & set(path.relative_to(templates).parts):
            continue  # Wagtail's admin lists, mail layout tables, print documents
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<table\b[^>]*>", text):
            following = text[match.end():match.end() + 200].lstrip()
            if "aria-labelledby=" not in match.group(0) and not following.startswith(("<caption", "{% if value.heading %}<caption")):
                unnamed.append(f"{path.name}: {match.group(0)}")
    assert unnamed == []
