"""`/en/` translates the interface only (#24): in Chromium, the German page content keeps lang="de"
inside the English page, so screen readers read it as German; the interface stays English."""

import pytest
from django.utils import translation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

LANG_OF = "el => el.closest('[lang]').getAttribute('lang')"


def test_english_interface_marks_the_german_content(page, live_server, site_offer):
    kita, offer = site_offer
    with translation.override("de"):
        path = offer.relative_url(kita.site)
    page.goto(live_server.url + "/en" + path)
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("main h1").evaluate(LANG_OF) == "de"
    assert page.locator("main p.lead").evaluate(LANG_OF) == "de"
    assert page.locator(".wp-breadcrumb").evaluate(LANG_OF) == "en"  # "All offers": the interface

    page.goto(live_server.url + "/en/angebote/")
    assert page.locator("main h1").evaluate(LANG_OF) == "de"
    assert page.locator(".wp-offer-card__title").first.evaluate(LANG_OF) == "de"
    assert page.locator(".wp-filter__title").evaluate(LANG_OF) == "en"


def test_german_page_needs_no_extra_marks(page, live_server, site_offer):
    kita, offer = site_offer
    with translation.override("de"):
        path = offer.relative_url(kita.site)
    page.goto(live_server.url + path)
    assert page.evaluate("document.documentElement.lang") == "de"
    assert page.locator("main [lang]").count() == 0
