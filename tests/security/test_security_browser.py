"""The strict CSP in a real browser: no page of the site, the portal or the admin reports a
violation (Chromium fires `securitypolicyviolation` for every blocked script, style or frame)."""

import os

import pytest

from tests.security_figures import note

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
PASSWORD = "Browser-Test-Passwort-1"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-quic",
               "--host-resolver-rules=MAP kita.test 127.0.0.1"]  # the test institution's own host
WATCH = """window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e =>
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile));"""


@pytest.fixture
def browser_page(monkeypatch):
    if not os.path.exists("/usr/bin/chromium"):
        pytest.skip("needs Debian's chromium")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop runs in this thread
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=LAUNCH_ARGS)
        page = browser.new_page()
        page.add_init_script(WATCH)
        yield page
        browser.close()


def _violations(page) -> list[str]:
    page.wait_for_timeout(300)  # violation events are dispatched asynchronously
    found = page.evaluate("window.__cspViolations")
    assert found is not None, "the violation watcher did not load"
    return found


def test_no_csp_violations_on_site_portal_and_admin(world, live_server, browser_page):
    page = browser_page
    world.superuser.set_password(PASSWORD)
    world.superuser.save()
    world.holder.set_password(PASSWORD)
    world.holder.save()
    base = "http://kita.test:" + live_server.url.rsplit(":", 1)[1]
    offer_url = world.offer.relative_url(world.kita.site)
    visited = {}

    def visit(label, path):
        page.goto(base + path)
        visited[label] = _violations(page)

    visit("homepage", "/")
    assert world.kita.name in page.locator(".site-brand__name").inner_text()
    visit("offer page", offer_url)
    assert page.locator("h1").first.inner_text() == world.offer.title
    visit("login", "/workpro/konto/anmelden/")
    page.fill("input[name=username]", world.holder.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form [type=submit]")
    page.wait_for_load_state()
    assert "/workpro/konto/" in page.url
    visited["Mein Konto"] = _violations(page)
    visit("Meine Daten", "/workpro/konto/daten/")
    page.context.clear_cookies()

    visit("admin login", "/admin/login/")
    page.fill("input[name=username]", world.superuser.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form [type=submit]")
    page.wait_for_load_state()
    visited["admin dashboard"] = _violations(page)
    visit("offer page with userbar", offer_url)
    assert page.locator("wagtail-userbar").count() == 1

    assert {label: found for label, found in visited.items() if found} == {}
    # Control: the watcher does see a blocked inline script on a public page.
    page.goto(base + "/")
    page.evaluate("() => { const s = document.createElement('script'); s.textContent = '1';"
                  " document.body.appendChild(s); }")
    assert any(v.startswith("script-src") for v in _violations(page))
    note("pages loaded in Chromium without CSP violations", len(visited))
