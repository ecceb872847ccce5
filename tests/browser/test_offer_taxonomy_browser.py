"""#23 in a real browser: the Leitung of a KiTa creates an Angebotskategorie of her own in the WorkPro menu; it
is a choice in the page editor of her offers and not in another institution's; a taken Kürzel is refused in
German next to the field, and what she typed stays."""

from __future__ import annotations

import re

import pytest
from wagtail.models import Site

from tests.factories import make_user
from workpro_plugin.models import OfferCategory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "Browser-Test-2026!"  # noqa: S105 - a test account on a throwaway database
TAKEN = "Dieses Kürzel ist bereits vergeben. Bitte wählen Sie ein anderes."


@pytest.fixture
def two_institutions(make_institution, make_offer):
    Site.objects.all().delete()  # Wagtail's welcome site also claims localhost
    kita = make_institution("kita", hostname="localhost", name="KiTa Sonnenschein")
    bbz = make_institution("bbz", hostname="bbz.test", name="Bildungszentrum Nord")
    kita_offer = make_offer(kita, "Krippenplatz", capacity=10)
    bbz_offer = make_offer(bbz, "Fachinformatiker", category="ausbildung", capacity=20)
    kita_lead = make_user("leitung@kita.test", person=False, groups=[kita.lead_group])
    bbz_lead = make_user("leitung@bbz.test", person=False, groups=[bbz.lead_group])
    for user in (kita_lead, bbz_lead):
        user.set_password(PASSWORD)
        user.save()
    return kita, kita_offer, kita_lead, bbz_offer, bbz_lead


def _login(browser, base: str, email: str):
    page = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 1000}).new_page()
    page.set_default_timeout(20_000)
    page.goto(base + "/admin/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/admin/$"))
    return page


def _category_choices(page, base: str, offer) -> list[str]:
    """The labels the page editor offers in "Kategorie" for `offer`."""
    page.goto(base + f"/admin/pages/{offer.pk}/edit/")
    options = page.locator("select[name=category] option").all_inner_texts()
    return [label.strip() for label in options]


def test_an_editor_creates_a_category_for_her_institutions_offers_only(browser, live_server, two_institutions,
                                                                        shots):
    kita, kita_offer, kita_lead, bbz_offer, bbz_lead = two_institutions
    base = live_server.url

    # The Leitung of the KiTa finds "Angebotskategorien" in her menu and adds one.
    editor = _login(browser, base, kita_lead.email)
    editor.get_by_role("link", name="Angebotskategorien").first.click()
    editor.wait_for_url(re.compile(r"/admin/workpro_plugin/offercategory/$"))
    assert "Betreuung" in editor.locator("main").inner_text()  # the shared entries are listed too
    editor.get_by_role("link", name=re.compile("hinzufügen", re.I)).first.click()
    editor.wait_for_url(re.compile(r"/offercategory/create/$"))
    # Her institution is the only one she may choose.
    institutions = editor.locator("select[name=institution] option").all_inner_texts()
    assert [label.strip() for label in institutions] == ["KiTa Sonnenschein"]
    editor.fill("#id_name", "Waldgruppe")
    editor.fill("#id_name_en", "Forest group")
    editor.fill("#id_slug", "waldgruppe")
    shots(editor, "neue kategorie")
    editor.locator("form button[type=submit]").filter(has_text="Speichern").first.click()
    editor.wait_for_url(re.compile(r"/admin/workpro_plugin/offercategory/$"))
    assert "Waldgruppe" in editor.locator("main").inner_text()
    created = OfferCategory.objects.get(slug="waldgruppe")
    assert created.institution_id == kita.pk

    # A second entry with the same Kürzel is refused next to the field, in German; the name typed stays.
    editor.goto(base + "/admin/workpro_plugin/offercategory/create/")
    editor.fill("#id_name", "Waldgruppe am Bach")
    editor.fill("#id_slug", "waldgruppe")
    editor.locator("form button[type=submit]").filter(has_text="Speichern").first.click()
    editor.wait_for_load_state()
    slug_field = editor.locator("[data-contentpath=slug]")
    assert TAKEN in slug_field.inner_text()
    assert TAKEN not in editor.locator("[data-contentpath=name]").inner_text()
    assert editor.input_value("#id_name") == "Waldgruppe am Bach"
    shots(editor, "kuerzel vergeben")
    assert OfferCategory.objects.filter(slug="waldgruppe").count() == 1

    # The page editor of her offer offers the new category beside the shared ones ...
    choices = _category_choices(editor, base, kita_offer)
    assert "Waldgruppe" in choices and "Betreuung" in choices
    shots(editor, "seiteneditor kategorie")

    # ... the Bildungszentrum's editor neither lists it nor gets it as a choice for his offer.
    other = _login(browser, base, bbz_lead.email)
    other.goto(base + "/admin/workpro_plugin/offercategory/")
    assert "Waldgruppe" not in other.locator("main").inner_text()
    assert other.goto(base + f"/admin/workpro_plugin/offercategory/edit/{created.pk}/").status == 404
    choices = _category_choices(other, base, bbz_offer)
    assert "Waldgruppe" not in choices and "Ausbildung" in choices
