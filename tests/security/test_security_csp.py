"""CSP without 'unsafe-inline' on the public site and the portal; the admin alone is relaxed.

Every public and portal page is rendered and parsed: no inline <script> (JSON data blocks
excepted: browsers never execute them), no <style> the policy does not name by its sha256 hash
(public CMS pages inline their stylesheets that way, #24), no style="" and no on…="" handlers.
"""

import base64
import hashlib

import pytest
from bs4 import BeautifulSoup
from django.core.management import call_command
from wagtail.rich_text import RichText

from tests.factories import enrollment_in
from tests.helpers import HOST
from tests.security_figures import add, note
from workpro_plugin.models import Enrollment, OfferIndexPage

pytestmark = pytest.mark.django_db
S = Enrollment.Status
DATA_BLOCK_TYPES = {"application/ld+json", "application/json"}


def parse_csp(header: str) -> dict[str, list[str]]:
    policy = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            policy[words[0]] = words[1:]
    return policy


def _style_hash(css: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()}'"


def inline_code(html: bytes, allowed_styles=()) -> list[str]:
    """Everything a CSP without 'unsafe-inline' would block, as short descriptions
    (`allowed_styles`: the style-src sources, whose hashes allow a <style> block)."""
    soup = BeautifulSoup(html, "html.parser")
    found = []
    for script in soup.find_all("script"):
        if not script.get("src") and (script.get("type") or "").lower() not in DATA_BLOCK_TYPES:
            found.append(f"inline <script>: {script.get_text()[:60]!r}")
    found += [f"<style>: {tag.get_text()[:60]!r}" for tag in soup.find_all("style")
              if _style_hash(tag.get_text()) not in allowed_styles]
    for tag in soup.find_all(True):
        for attribute in tag.attrs:
            if attribute == "style" or attribute.startswith("on"):
                found.append(f"<{tag.name} {attribute}=…>")
        for attribute in ("href", "src", "action", "formaction"):
            if str(tag.get(attribute, "")).strip().lower().startswith("javascript:"):
                found.append(f"<{tag.name} {attribute}=javascript:…>")
    return found


def assert_strict_page(response, label: str) -> int:
    assert "Content-Security-Policy" in response, label
    policy = parse_csp(response["Content-Security-Policy"])
    for directive in ("default-src", "script-src", "style-src"):
        assert "'unsafe-inline'" not in policy.get(directive, []), f"{label}: {directive}"
        assert "'unsafe-eval'" not in policy.get(directive, []), f"{label}: {directive}"
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    problems = inline_code(response.content, policy.get("style-src", []))
    assert problems == [], f"{label}: {problems}"
    soup = BeautifulSoup(response.content, "html.parser")
    add("pages checked for inline code")
    add("script elements checked", len(soup.find_all("script")))
    return len(soup.find_all(True))


@pytest.fixture
def rich_offer(world):
    """The offer page with every StreamField block type, so each block template is rendered."""
    offer = world.offer
    offer.body = [
        ("text", RichText('<h2>Über uns</h2><p><b>Fett</b> und <a href="https://example.org">Link</a></p>')),
        ("facts", {"heading": "Eckdaten", "facts": [{"label": "Alter", "value": "1–3"}]}),
        ("faq", {"heading": "Fragen", "items": [{"question": "Wann?", "answer": RichText("<p>Ab 7 Uhr</p>")}]}),
    ]
    offer.save_revision().publish()
    return world


def test_the_inline_code_detector_finds_what_csp_would_block():
    html = (b'<html><body style="x"><script>alert(1)</script><script src="/a.js"></script>'
            b'<script type="application/ld+json">{}</script><style>p{}</style>'
            b'<a href="javascript:void(0)" onclick="x()">a</a></body></html>')
    found = inline_code(html)
    assert len(found) == 5, found
    assert inline_code(b'<script src="/a.js"></script><script type="application/json">{}</script>') == []
    assert inline_code(b"<style>p{}</style>", [_style_hash("p{}")]) == []  # allowed by its hash
    assert len(inline_code(b"<style>p{}</style>", [_style_hash("p{ }")])) == 1


def test_public_pages_have_a_strict_csp_and_no_inline_code(rich_offer, client):
    w = rich_offer
    index = OfferIndexPage.objects.descendant_of(w.kita.site.root_page).get()
    pages = {
        "homepage": "/",
        "offer index": index.relative_url(w.kita.site),
        "offer index, filtered": index.relative_url(w.kita.site) + "?q=Krippe",
        "offer page": w.offer.relative_url(w.kita.site),
        "login": "/workpro/konto/anmelden/",
        "password request": "/workpro/konto/passwort-anfordern/",
        "help": "/workpro/hilfe/",
        "registration done": "/workpro/registriert/",
        "English homepage": "/en/",
        "404": "/gibt-es-nicht/",
    }
    elements = 0
    for label, url in pages.items():
        response = client.get(url, **HOST)
        assert response.status_code == (404 if label == "404" else 200), label
        elements += assert_strict_page(response, label)
    soup = BeautifulSoup(client.get(w.offer.relative_url(w.kita.site), **HOST).content, "html.parser")
    assert soup.select_one(".stream-block--faq") and soup.select_one(".stream-block--facts")
    note("public pages with strict CSP", len(pages))
    add("HTML elements scanned", elements)


def test_registration_errors_render_without_inline_code(world, client):
    response = client.post(world.offer.relative_url(world.kita.site), {"last_name": "", "email": "kein"}, **HOST)
    assert response.status_code == 400
    assert_strict_page(response, "offer registration errors")


def test_portal_pages_have_a_strict_csp_and_no_inline_code(world, client):
    w = world
    interest = Enrollment.objects.create(offer=w.offer, institution=w.kita, account_holder=w.holder,
                                         status=S.INTERESSENT)
    offer_stage = enrollment_in(S.ANGEBOT, offer=w.offer, institution=w.kita, holder=w.holder)
    client.force_login(w.holder)
    pages = {
        "Mein Konto": "/workpro/konto/",
        "Meine Daten": "/workpro/konto/daten/",
        "Passwort": "/workpro/konto/passwort/",
        "choose participant": f"/workpro/konto/anmeldung/{interest.pk}/teilnehmer/",
        "enrollment detail": f"/workpro/konto/anmeldung/{offer_stage.pk}/",
        "section personal": f"/workpro/konto/anmeldung/{offer_stage.pk}/angaben/personal/",
        "section income": f"/workpro/konto/anmeldung/{offer_stage.pk}/angaben/income/",
        "Angebot annehmen": f"/workpro/konto/anmeldung/{offer_stage.pk}/angebot-annehmen/",
        "offer page, logged in": w.offer.relative_url(w.kita.site),
    }
    elements = 0
    for label, url in pages.items():
        response = client.get(url, **HOST)
        assert response.status_code == 200, (label, response.status_code)
        elements += assert_strict_page(response, label)
    invalid = client.post("/workpro/konto/daten/", {"email": "kaputt", "postcode": "x"}, **HOST)
    assert invalid.status_code == 400
    elements += assert_strict_page(invalid, "Meine Daten with errors")
    note("portal pages with strict CSP", len(pages) + 1)
    add("HTML elements scanned", elements)


def test_public_page_with_the_wagtail_userbar_stays_strict(world, client):
    """Staff see Wagtail's userbar on the public site: it must not bring inline code along."""
    client.force_login(world.superuser)
    response = client.get(world.offer.relative_url(world.kita.site), **HOST)
    assert "wagtail-userbar" in response.content.decode()
    assert_strict_page(response, "offer page with userbar")


def test_the_wagtail_admin_alone_gets_unsafe_inline(world, client):
    client.force_login(world.superuser)
    strict = parse_csp(client.get("/workpro/konto/anmelden/", **HOST)["Content-Security-Policy"])
    for url in ("/admin/", f"/admin/pages/{world.offer.pk}/edit/", "/admin/login/"):
        response = client.get(url, **HOST)
        assert response.status_code in (200, 302), url
        policy = parse_csp(response["Content-Security-Policy"])
        assert "'unsafe-inline'" in policy["script-src"] and "'unsafe-inline'" in policy["style-src"], url
        # Everything else stays as strict as on the public site.
        assert {k: v for k, v in policy.items() if k not in ("script-src", "style-src")} == \
               {k: v for k, v in strict.items() if k not in ("script-src", "style-src")}
    add("admin pages with relaxed CSP", 3)


def test_pdfs_are_not_html_and_keep_their_stylesheet(world, client):
    """WeasyPrint templates carry a <style> block: they are rendered to PDF, never served as HTML."""
    enrollment = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder)
    Enrollment.objects.filter(pk=enrollment.pk).update(status=S.INTERESSENT)
    client.force_login(world.holder)
    response = client.post(f"/workpro/konto/anmeldung/{enrollment.pk}/drucken/", **HOST)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_deploy_check_refuses_unsafe_inline_in_the_site_policy(settings):
    from django.core.management.base import SystemCheckError

    directives = dict(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"])
    directives["script-src"] = ["'self'", "'unsafe-inline'"]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": directives}
    settings.WORKPRO_REQUIRE_STAFF_2FA = True
    with pytest.raises(SystemCheckError, match="workpro.W002"):
        call_command("check", "--deploy", "--fail-level", "WARNING", "--tag", "security")
