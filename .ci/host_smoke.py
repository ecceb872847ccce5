"""The CI host site's smoke journey in Debian's Chromium (Playwright), against a running server.

Run by .ci/host_site with the host venv's python. Environment: HOST_URL (http://127.0.0.1:PORT),
OFFER_PATH (the seeded offer), MAIL_DIR (the host's file e-mail backend), ADMIN_USER and
ADMIN_PASSWORD (a superuser made with createsuperuser --noinput), ARTIFACTS (screenshots).

Three independent groups (the offer page, the portal journey, the admin's 2FA gate). Each step
prints PASS or FAIL with what it saw; inside a group a failed step skips the steps that need it.
Exit status 1 when any step failed.
"""

from __future__ import annotations

import email
import json
import os
import re
import sys
import time
from datetime import date, timedelta
from email import policy
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = os.environ["HOST_URL"].rstrip("/")
OFFER_URL = BASE + os.environ["OFFER_PATH"]
MAIL_DIR = Path(os.environ["MAIL_DIR"])
ARTIFACTS = Path(os.environ.get("ARTIFACTS", "host-smoke-artifacts"))
CHROMIUM = os.environ.get("WORKPRO_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-quic"]
VISITOR = "anna.gast@example.org"
OWN_PASSWORD = "Sonnenblume-2026!"  # noqa: S105 - a throw-away account on a throw-away site

RESULTS: list[tuple[str, bool, str]] = []


class Skip(Exception):
    """A step that needs an earlier, failed one."""


def step(name: str, func, *args):
    """Run one step; print and record its outcome. Returns the step's value, or raises Skip after a failure."""
    try:
        detail = func(*args)
    except Exception as exc:  # noqa: BLE001 - every failure is reported, none ends the run
        message = f"{type(exc).__name__}: {exc}".strip()
        message = message.splitlines()[0][:400] if message else type(exc).__name__
        RESULTS.append((name, False, message))
        print(f"  [FAIL] {name}: {message}", flush=True)
        raise Skip(name) from exc
    value, text = detail if isinstance(detail, tuple) else (detail, "")
    RESULTS.append((name, True, text))
    print(f"  [PASS] {name}{': ' + text if text else ''}", flush=True)
    return value


def group(title: str, func, *args) -> None:
    print(f"-- {title}", flush=True)
    try:
        func(*args)
    except Skip as skipped:
        print(f"  (the rest of '{title}' is skipped: it needs '{skipped}')", flush=True)


def shot(page, label: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=str(ARTIFACTS / f"{len(RESULTS):02d}-{re.sub(r'[^a-z0-9]+', '-', label.lower())}.png"),
                        full_page=True)
    except Exception:  # noqa: BLE001, S110 - a missing screenshot is no failure
        pass


def field(scope, label: str):
    """The input labelled exactly `label` (a required field's label ends in an aria-hidden "*")."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}\s*\*?$"))


# --- the offer page --------------------------------------------------------------------------------

def offer_page(page):
    css_responses = {}
    page.on("response", lambda r: css_responses.__setitem__(r.url, r) if "/workpro_plugin/css/" in r.url else None)

    def renders():
        response = page.goto(OFFER_URL)
        assert response is not None and response.status == 200, f"GET {OFFER_URL}: {response and response.status}"
        shot(page, "offer page")
        heading = page.locator("h1").first.inner_text().strip()
        assert "Krippenplatz" in heading, f"h1 is {heading!r}"
        return None, f"{OFFER_URL} 200, h1 {heading!r}"

    def styled():
        # The plugin's CSS arrives either linked (portal pages, or a stylesheet that cannot be inlined) or
        # inlined on a CMS page as a <style> block the CSP allows by its hash (#24): either way it must apply.
        hrefs = page.eval_on_selector_all("link[rel=stylesheet]", "links => links.map(l => l.href)")
        plugin = [h for h in hrefs if "/workpro_plugin/css/" in h]
        page.wait_for_load_state("load")
        for href in plugin:
            response = css_responses.get(href)
            assert response is not None, f"{href} was never requested"
            assert response.status == 200, f"{href}: HTTP {response.status}"
            assert "text/css" in response.headers.get("content-type", ""), f"{href}: {response.headers.get('content-type')}"
        rules = page.evaluate("""() => [...document.styleSheets]
            .filter(s => (s.href && s.href.includes('/workpro_plugin/css/'))
                         || (!s.href && s.ownerNode && s.ownerNode.textContent.includes('WorkPro components')))
            .map(s => { try { return s.cssRules.length } catch (e) { return -1 } })""")
        assert rules and all(n > 0 for n in rules), f"plugin stylesheets applied with {rules} rules; links: {hrefs}"
        where = ", ".join(h.removeprefix(BASE) for h in plugin) or "inline <style> (CSP hash)"
        return None, f"{where} applied ({sum(rules)} rules)"

    def honeypot_hidden():
        box = page.evaluate("""() => { const el = document.querySelector('.wp-honeypot');
            if (!el) return null; const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
            return {right: r.right, bottom: r.bottom, width: r.width, height: r.height,
                    display: s.display, visibility: s.visibility}; }""")
        assert box is not None, "no .wp-honeypot element in the registration form"
        hidden = (box["display"] == "none" or box["visibility"] == "hidden" or box["right"] <= 0
                  or box["bottom"] <= 0 or (box["width"] <= 1 and box["height"] <= 1))
        assert hidden, f"the honeypot field is visible to people: {box}"
        return None, f"honeypot out of sight ({box})"

    def json_ld():
        scripts = page.eval_on_selector_all('script[type="application/ld+json"]', "s => s.map(x => x.textContent)")
        assert scripts, "no <script type=\"application/ld+json\"> on the offer page"
        data = [json.loads(text) for text in scripts]
        types = [d.get("@type") for d in data if isinstance(d, dict)]
        assert any(types), f"JSON-LD without @type: {data}"
        return None, f"{len(scripts)} JSON-LD block(s), @type {types}"

    step("offer page renders", renders)
    for name, check in (("offer page styled by the plugin's CSS", styled),
                        ("honeypot field hidden", honeypot_hidden),
                        ("offer page has JSON-LD", json_ld)):
        try:
            step(name, check)
        except Skip:
            pass  # independent checks of the same page


# --- the portal journey ----------------------------------------------------------------------------

def password_from_mail(address: str, timeout: float = 90.0) -> tuple[str, str]:
    """The issued password from the newest mail to `address` in the file backend's folder."""
    deadline = time.monotonic() + timeout
    seen = 0
    while time.monotonic() < deadline:
        files = sorted(MAIL_DIR.glob("*.log"), key=lambda p: p.stat().st_mtime) if MAIL_DIR.is_dir() else []
        seen = len(files)
        for path in reversed(files):
            for chunk in reversed(path.read_bytes().split(b"\n" + b"-" * 79 + b"\n")):
                if not chunk.strip():
                    continue
                message = email.message_from_bytes(chunk.lstrip(b"\n"), policy=policy.default)
                if address not in str(message.get("To", "")):
                    continue
                part = message.get_body(preferencelist=("plain",))
                body = part.get_content() if part is not None else ""
                match = re.search(r"Passwort: (\S+)", body)
                if match:
                    return match.group(1), f"mail {path.name}: subject {str(message['Subject'])!r}"
        time.sleep(1)
    raise AssertionError(f"no mail with a password to {address} in {MAIL_DIR} after {timeout:.0f} s "
                         f"({seen} mail file(s); is the task cluster running?)")


def portal(page):
    state = {}

    def register():
        page.goto(OFFER_URL)
        field(page, "Name").fill("Gast")
        field(page, "Vorname").fill("Anna")
        field(page, "Mailadresse").fill(VISITOR)
        page.get_by_label(re.compile("Datenschutzhinweise")).check()
        page.get_by_role("button", name="Registrieren").click()
        page.wait_for_url(re.compile(r"/registriert/"))
        shot(page, "registered")
        return None, f"-> {page.url.removeprefix(BASE)}"

    def mail():
        password, text = password_from_mail(VISITOR)
        state["issued"] = password
        return None, text

    def login_forces_password_change():
        page.goto(BASE + "/workpro/konto/anmelden/")
        field(page, "Mailadresse").fill(VISITOR)
        field(page, "Passwort").fill(state["issued"])
        page.get_by_role("button", name="Anmelden").click()
        page.wait_for_url(re.compile(r"/konto/passwort/"))
        # The issued password opens nothing else: the account page sends back to the password form.
        page.goto(BASE + "/workpro/konto/")
        assert "/konto/passwort/" in page.url, f"with the issued password /workpro/konto/ opened {page.url}"
        shot(page, "forced password change")
        return None, f"login -> {page.url.removeprefix(BASE)}; /workpro/konto/ sends back there"

    def set_own_password():
        field(page, "Zugesandtes Passwort").fill(state["issued"])
        field(page, "Neues Passwort").fill(OWN_PASSWORD)
        page.get_by_label(re.compile("bestätigen|Bestätigung")).fill(OWN_PASSWORD)
        page.get_by_role("button", name="Passwort speichern").click()
        page.wait_for_url(re.compile(r"/konto/$"))
        shot(page, "mein konto")
        return None, f"-> {page.url.removeprefix(BASE)}"

    def enroll():
        # Registering made an enrollment (Interessent); Mein Konto lists it under the offer's title.
        page.goto(BASE + "/workpro/konto/")
        page.get_by_role("link", name="Krippenplatz").first.click()
        page.get_by_role("link", name="Zum Angebot anmelden").click()
        page.get_by_label(re.compile("weiteres Kind")).check()
        field(page, "Name").fill("Gast")
        field(page, "Vorname").fill("Lena")
        field(page, "Geburtsdatum").fill((date.today() - timedelta(days=400)).isoformat())
        page.get_by_label(re.compile("als PSB1")).check()
        page.get_by_role("button", name="Zum Angebot anmelden").click()
        # The first section of the offer, or the overview when it has none (not .../teilnehmer/ again).
        page.wait_for_url(re.compile(r"/konto/anmeldung/\d+/(angaben/[\w-]+/)?$"))
        visited = []
        for _ in range(6):  # the offer's sections, "Speichern und weiter" until the overview
            if re.search(r"/konto/anmeldung/\d+/$", page.url):
                break
            visited.append(page.url.rstrip("/").rsplit("/", 1)[-1])
            for label, value in (("Straße und Hausnummer", "Lindenweg 5"), ("PLZ", "12345"), ("Ort", "Musterstadt")):
                if field(page, label).count():
                    field(page, label).first.fill(value)
            page.get_by_role("button", name="Speichern und weiter").click()
            page.wait_for_load_state()
        assert re.search(r"/konto/anmeldung/\d+/$", page.url), f"stuck at {page.url} after sections {visited}"
        state["enrollment_url"] = page.url
        shot(page, "anmeldung")
        return None, f"sections {visited} -> {page.url.removeprefix(BASE)}"

    def print_pdf():
        page.goto(state["enrollment_url"])
        form = page.locator("form.wp-print-form")
        action = form.get_attribute("action")
        with page.context.expect_page() as popup_info:
            page.get_by_role("button", name="Anmeldung drucken").click()
        popup = popup_info.value
        popup.wait_for_load_state()
        popup.close()
        # The tab shows the PDF in Chromium's viewer; fetch the same POST to read what it got.
        token = form.locator("input[name=csrfmiddlewaretoken]").get_attribute("value")
        response = page.request.post(BASE + action, form={"csrfmiddlewaretoken": token},
                                     headers={"Referer": state["enrollment_url"]})
        body = response.body()
        kind = response.headers.get("content-type", "")
        assert response.status == 200, f"POST {action}: HTTP {response.status}"
        assert kind.startswith("application/pdf") and body.startswith(b"%PDF"), f"{kind}, starts {body[:20]!r}"
        return None, f"new tab; POST {action} -> 200 {kind}, {len(body)} bytes"

    for name, func in (("registration form (Registrieren)", register),
                       ("mail with the issued password", mail),
                       ("login with the issued password forces a password change", login_forces_password_change),
                       ("own password set, Mein Konto opens", set_own_password),
                       ("Zum Angebot anmelden", enroll),
                       ("Anmeldung drucken returns a PDF", print_pdf)):
        step(name, func)


# --- the admin's 2FA gate --------------------------------------------------------------------------

def staff_gate(page):
    user, password = os.environ["ADMIN_USER"], os.environ["ADMIN_PASSWORD"]

    def gate():
        page.goto(BASE + "/admin/login/")
        page.fill("#id_username", user)
        page.fill("#id_password", password)
        page.locator("form button[type=submit]").first.click()
        page.wait_for_load_state()
        shot(page, "admin after login")
        after_login = page.url.removeprefix(BASE)
        assert "/zwei-faktor/" in after_login, f"after the admin login the superuser is at {after_login}, not the 2FA setup"
        for path in ("/admin/", "/admin/pages/", "/admin/users/"):
            page.goto(BASE + path)
            assert "/zwei-faktor/" in page.url, f"{path} opened without a second factor ({page.url})"
        return None, f"login -> {after_login}; /admin/, /admin/pages/, /admin/users/ redirect to the 2FA setup"

    step("staff 2FA gate on the admin (superuser without a device)", gate)


def main() -> int:
    print(f"smoke journey against {BASE}, offer {OFFER_URL}", flush=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        for title, func in (("offer page", offer_page), ("portal journey", portal), ("admin", staff_gate)):
            context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900},
                                          accept_downloads=True)
            page = context.new_page()
            page.set_default_timeout(20_000)
            group(title, func, page)
            context.close()
        browser.close()
    failed = [name for name, ok, _ in RESULTS if not ok]
    print(f"smoke journey: {len(RESULTS) - len(failed)} passed, {len(failed)} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
