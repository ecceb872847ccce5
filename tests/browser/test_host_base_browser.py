"""The template contract (#17) in Chromium: an offer page inside the base.html of a fresh
`wagtail start` site is styled by the plugin CSS and does not show the registration honeypot."""

import pytest

from tests.helpers import host_base_templates

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def host_offer(make_institution, make_offer, settings):
    from wagtail.models import Site

    settings.TEMPLATES = host_base_templates(settings.TEMPLATES)
    Site.objects.all().delete()  # Wagtail's welcome site also claims localhost
    kita = make_institution("kita", hostname="localhost", name="KiTa Sonnenschein")
    return kita, make_offer(kita, "Krippenplatz", capacity=10)


def test_offer_page_in_a_host_base_is_styled_and_hides_the_honeypot(page, live_server, host_offer):
    kita, offer = host_offer
    page.goto(live_server.url + offer.relative_url(kita.site))
    assert page.locator('link[href="/static/css/host_site.css"]').count() == 1  # the host's base.html
    assert page.locator("#id_email").is_visible()
    assert not page.locator("input[name=website]").is_visible()
    assert not page.get_by_text("Bitte leer lassen").is_visible()
    button = page.locator("#registrieren button[type=submit]")
    # workpro.css arrived: the primary button has the plugin's blue, not the browser's grey
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(11, 83, 148)"
    assert page.locator("input[name=website]").evaluate("el => el.closest('[hidden]') !== null")
