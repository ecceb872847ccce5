"""What search engines and link previews read (#24): sitemap.xml, robots.txt, meta tags, lang."""

import pytest
from bs4 import BeautifulSoup
from wagtail.models import Page

from workpro_plugin.models import Institution, OfferPage

pytestmark = pytest.mark.django_db

DEMO_HOSTS = ("127.0.0.1", "localhost")


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
