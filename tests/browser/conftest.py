"""Real-browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Skipped, with the reason in the summary, when /usr/bin/chromium (or $WORKPRO_CHROMIUM) is
missing; the accessibility checks also need node_modules/axe-core (`npm install`).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("WORKPRO_CHROMIUM", "/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-quic"]
SKIPPED: list[str] = []



def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists():
        return
    reason = f"browser tests need Chromium at {CHROMIUM} (apt-get install -y chromium)"
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))
            SKIPPED.append(item.nodeid)


def pytest_terminal_summary(terminalreporter):
    if AXE_SKIPPED:
        terminalreporter.write_line(
            f"NOTE: {len(AXE_SKIPPED)} accessibility check(s) SKIPPED: {AXE.relative_to(ROOT)} is missing "
            "(run npm install).", yellow=True)
    if AXE_REPORT:
        pages = len(AXE_REPORT)
        minor = sum(n for r in AXE_REPORT for (_id, impact, n) in r["violations"])
        terminalreporter.write_line(f"axe-core: {pages} page checks, 0 serious/critical violations, "
                                    f"{minor} minor/moderate nodes (report: test-artifacts/browser/axe-report.json)")
    if SKIPPED:
        terminalreporter.write_line(
            f"NOTE: {len(SKIPPED)} browser test(s) SKIPPED: Chromium not found at {CHROMIUM}.", yellow=True)


@pytest.fixture
def browser(transactional_db):
    """One Chromium per test, started after the database is set up.

    Playwright's sync API runs the test inside its own context, where Django hands out
    fresh connection objects; a browser kept across tests would make the next test's
    database setup miss the serialized migration data. DJANGO_ALLOW_ASYNC_UNSAFE: the
    test's own ORM calls are still synchronous; it is set only while the browser runs,
    so it never leaks into subprocesses (check --deploy refuses it).
    """
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
            yield browser
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


class Shots:
    """Numbered screenshots of the main pages, viewable under test-artifacts/browser/."""

    def __init__(self, name: str):
        self.folder = ARTIFACTS / name
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.count = 0

    def __call__(self, page, label: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{re.sub(r'[^a-z0-9]+', '-', label.lower()).strip('-')}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def site_offer(make_institution, make_offer):
    """One KiTa on the live server's host (localhost) with one offer, for the public-page browser tests."""
    from wagtail.models import Site

    Site.objects.all().delete()  # Wagtail's welcome site also claims localhost
    kita = make_institution("kita", hostname="localhost", name="KiTa Sonnenschein")
    return kita, make_offer(kita, "Krippenplatz", capacity=10, teaser="Betreuung in kleinen Gruppen.")


@pytest.fixture
def shots(request):
    return Shots(request.node.name)


@pytest.fixture
def page(browser):
    """A fresh browser context per test."""
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


AXE_REPORT: list[dict] = []
AXE_SKIPPED: list[str] = []


def check_accessibility(page, label: str) -> list[dict]:
    """Run axe-core (WCAG 2.1 A/AA rules) in the page; fail on serious or critical violations."""
    if not AXE.exists():  # the journey still runs; the summary says the checks were skipped
        AXE_SKIPPED.append(label)
        return []
    # Served from the page's own origin, so the strict CSP (script-src 'self') lets it run.
    origin = "/".join(page.url.split("/", 3)[:3])
    url = f"{origin}/__workpro_axe__/axe.min.js"
    if not getattr(page, "_workpro_axe_routed", False):
        page.route("**/__workpro_axe__/axe.min.js",
                   lambda route: route.fulfill(path=str(AXE), content_type="application/javascript"))
        page._workpro_axe_routed = True
    result = None
    for attempt in range(3):
        # A click that navigates returns once the new document is committed, before its
        # <head> exists; wait for it to load, and try again if it was still replaced.
        page.wait_for_load_state("load")
        try:
            page.add_script_tag(url=url)
            result = page.evaluate(
                "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
                "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})")
            break
        except PlaywrightError:
            if attempt == 2:
                raise
            page.wait_for_timeout(250)
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    AXE_REPORT.append({"page": label, "url": page.url, "passes": len(result["passes"]),
                       "violations": [(v["id"], v["impact"], len(v["nodes"])) for v in result["violations"]]})
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "axe-report.json").write_text(json.dumps(AXE_REPORT, indent=1, ensure_ascii=False))
    assert not bad, f"{label}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}" for v in bad)
    return result["violations"]
