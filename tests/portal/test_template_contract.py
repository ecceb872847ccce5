"""The template contract (#17): WorkPro pages render completely inside any base.html with the
conventional blocks title, content, extra_css and extra_js (the one `wagtail start` generates,
copied to tests/templates/host_base/), and exactly once inside the demo's own base.html."""

import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import override_settings

import workpro_plugin
from tests.factories import enrollment_in
from tests.helpers import HOST, host_base_templates, register_on_offer
from workpro_plugin.models import Enrollment, OfferIndexPage

pytestmark = pytest.mark.django_db
PLUGIN_CSS = "/static/workpro_plugin/css/workpro.css"
FLASH = "Ihre Daten wurden gespeichert."
PASSWORD = "Eltern-Passwort-2026"
CONTACT_DATA = {"email": "eltern@example.org", "street": "Neu 2", "postcode": "04109", "city": "Leipzig",
                "mobile": "0151 98765432", "language": "de", "current_password": PASSWORD}


@pytest.fixture(params=["host", "demo"])
def base(request):
    """Each test runs with the host's base.html and with the demo's."""
    if request.param == "demo":
        yield "demo"
        return
    with override_settings(TEMPLATES=host_base_templates(settings.TEMPLATES)):
        yield "host"


def _soup(response):
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.content, "html.parser")


def _assert_rendered_in(soup, base):
    """The page went through the expected base.html, with the plugin CSS exactly once: linked, or
    inlined on a CMS page (#24: no render-blocking request where visitors arrive)."""
    host_css = soup.select('link[href="/static/css/host_site.css"]')
    assert len(host_css) == (1 if base == "host" else 0)
    linked = soup.select(f'link[rel=stylesheet][href="{PLUGIN_CSS}"]')
    inlined = [style for style in soup.find_all("style") if "WorkPro components" in style.get_text()]
    assert len(linked) + len(inlined) == 1
    assert soup.find("main") is None if base == "host" else soup.find("main") is not None


def _offer_index_url(world):
    return OfferIndexPage.objects.descendant_of(world.kita.site.root_page).get().relative_url(world.kita.site)


def test_offer_page_has_css_meta_and_json_ld_once(world, client, base):
    soup = _soup(client.get(world.offer.relative_url(world.kita.site), **HOST))
    _assert_rendered_in(soup, base)
    [json_ld] = soup.find_all("script", type="application/ld+json")
    data = json.loads(json_ld.string)
    assert data["name"] == world.offer.title and data["url"] == world.offer.full_url
    [canonical] = soup.find_all("link", rel="canonical")
    assert canonical["href"] == world.offer.full_url
    assert len(soup.find_all("meta", attrs={"name": "description"})) == 1
    assert len(soup.find_all("meta", property="og:title")) == 1


def test_search_description_is_not_repeated_by_the_plugin(world, client, base):
    world.offer.search_description = "Krippe in Leipzig"
    world.offer.save_revision().publish()
    soup = _soup(client.get(world.offer.relative_url(world.kita.site), **HOST))
    [description] = soup.find_all("meta", attrs={"name": "description"})
    assert description["content"] == "Krippe in Leipzig"


def test_registration_honeypot_is_hidden_without_the_plugin_css(world, client, base):
    soup = _soup(client.get(world.offer.relative_url(world.kita.site), **HOST))
    field = soup.find("input", attrs={"name": "website"})
    wrapper = field.find_parent("div")
    assert wrapper.has_attr("hidden") and wrapper["aria-hidden"] == "true"
    assert field["tabindex"] == "-1" and field["autocomplete"] == "off"
    assert not field.find_parents(style=True) and not field.has_attr("style")  # the CSP allows no inline style


def test_the_honeypot_still_traps_a_bot(world, client, run_on_commit, base):
    response = register_on_offer(client, world.kita, world.offer, run_on_commit, website="https://spam.example")
    assert response.status_code == 400
    assert not get_user_model().objects.filter(email__iexact="erika.muster@example.org").exists()


def test_offer_index_has_the_plugin_css_and_no_offer_data(world, client, base):
    soup = _soup(client.get(_offer_index_url(world), **HOST))
    _assert_rendered_in(soup, base)
    assert world.offer.title in soup.get_text()
    assert soup.find("script", type="application/ld+json") is None


@pytest.mark.parametrize("path", ["/workpro/konto/anmelden/", "/workpro/hilfe/"])
def test_public_portal_pages_have_the_plugin_css(client, world, base, path):
    soup = _soup(client.get(path, **HOST))
    _assert_rendered_in(soup, base)
    assert soup.body.select_one(".container") is not None  # the page's own markup is in content


def test_account_page_and_its_flash_message_render_once(world, client, run_on_commit, base):
    world.holder.set_password(PASSWORD)
    world.holder.save()
    client.force_login(world.holder)
    soup = _soup(client.get("/workpro/konto/", **HOST))
    _assert_rendered_in(soup, base)
    assert soup.find("h1") is not None
    with run_on_commit():
        response = client.post("/workpro/konto/daten/", CONTACT_DATA, follow=True, **HOST)
    soup = _soup(response)
    _assert_rendered_in(soup, base)
    messages = soup.select('[role=status] li')
    assert [m.get_text(strip=True) for m in messages].count(FLASH) == 1
    assert soup.get_text().count(FLASH) == 1
    again = _soup(client.get("/workpro/konto/daten/", **HOST))
    assert FLASH not in again.get_text()  # shown, hence consumed


def test_plugin_scripts_are_external_and_in_extra_js(world, client, base):
    """portal.js on the enrollment page comes through extra_js, which every base has."""
    enrollment = enrollment_in(Enrollment.Status.BEWERBER, offer=world.offer, institution=world.kita,
                               holder=world.holder)
    client.force_login(world.holder)
    soup = _soup(client.get(f"/workpro/konto/anmeldung/{enrollment.pk}/", **HOST))
    assert len(soup.select('script[src="/static/workpro_plugin/js/portal.js"]')) == 1


# --- the templates themselves --------------------------------------------------------------

TEMPLATES = Path(workpro_plugin.__file__).parent / "templates" / "workpro_plugin"


def _page_templates():
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        if '{% extends "workpro_plugin/layout.html" %}' in text:
            yield path, text


def test_pages_fill_only_the_conventional_host_blocks():
    """Pages fill title, extra_js and the layout's own blocks; only the layout touches content,
    extra_css and the demo's messages block, so no page depends on a block a host may lack."""
    pages = list(_page_templates())
    assert len(pages) > 20
    for path, text in pages:
        blocks = set(re.findall(r"{%\s*block\s+(\w+)\s*%}", text))
        host_blocks = blocks - {"workpro_content", "workpro_css", "offer_cta"}
        assert host_blocks <= {"title", "extra_js"}, (path.name, host_blocks)
        assert "workpro_content" in blocks, path.name
    layout = (TEMPLATES / "layout.html").read_text()
    assert set(re.findall(r"{%\s*block\s+(\w+)\s*%}", layout)) == {
        "extra_css", "content", "messages", "workpro_css", "workpro_content"}
