"""Public pages inline their stylesheets (#24): in Chromium the inlined CSS applies under the
CSP without 'unsafe-inline' (allowed by its hash), no violation is reported, and the portal
still links its cached stylesheets."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Records CSP violations before any of the page's own content runs.
WATCH_CSP = """window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(
  e.violatedDirective + ' ' + (e.blockedURI || 'inline')));"""


def test_public_pages_apply_their_inlined_css_without_a_csp_violation(page, live_server, site_offer):
    page.add_init_script(WATCH_CSP)
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    for path in ("/", "/angebote/", "/angebote/krippenplatz/", "/en/angebote/krippenplatz/"):
        page.goto(live_server.url + path)
        sheets = page.evaluate("[...document.styleSheets].map(s => s.href || 'inline')")
        assert sheets == ["inline", "inline"], path
        # site.css: the header's surface colour; workpro.css: the plugin's layout of the offer grid
        assert page.locator(".site-header").evaluate("el => getComputedStyle(el).backgroundColor") == \
            "rgb(244, 246, 249)"
        assert page.locator(".skip-link").evaluate("el => getComputedStyle(el).position") == "absolute"
        assert page.evaluate("window.__cspViolations") == [], path
    assert not [url for url in requested if url.endswith(".css")]
    assert errors == []


def test_the_portal_links_its_stylesheets(page, live_server, site_offer):
    page.add_init_script(WATCH_CSP)
    page.goto(live_server.url + "/workpro/konto/anmelden/")
    sheets = page.evaluate("[...document.styleSheets].map(s => new URL(s.href).pathname)")
    assert sheets == ["/static/css/site.css", "/static/workpro_plugin/css/workpro.css"]
    assert page.locator(".site-header").evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(244, 246, 249)"
    assert page.evaluate("window.__cspViolations") == []
