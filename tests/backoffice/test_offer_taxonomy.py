"""Angebotskategorien and Altersgruppen as entries editors manage (#23): the admin and its scoping, the offer
page form, the offer index filters, the JSON-LD type, the English label and the unmet-demand report."""

from __future__ import annotations

import datetime

import pytest
from bs4 import BeautifulSoup
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from workpro_plugin.models import AgeGroup, OfferCategory, OfferIndexPage, OfferPage
from workpro_plugin.models.offer_taxonomy import ensure_default_taxonomy

pytestmark = pytest.mark.django_db


def url(model: str, action: str, obj=None) -> str:
    name = f"workpro_plugin_{model}_modeladmin_{action}"
    return reverse(name, kwargs={"instance_pk": obj.pk}) if obj is not None else reverse(name)


@pytest.fixture
def tax(world):
    ensure_default_taxonomy()
    world.betreuung = OfferCategory.objects.get(institution=None, slug="betreuung")
    world.own = OfferCategory.objects.create(institution=world.kita, slug="vorschule", name="Vorschule",
                                             name_en="Pre-school", schema_type="Service", sort_order=5)
    world.foreign = OfferCategory.objects.create(institution=world.other, slug="meister", name="Meisterkurs",
                                                 schema_type="EducationalOccupationalProgram")
    world.own_group = AgeGroup.objects.create(institution=world.kita, slug="vorschulkinder", name="Vorschulkinder",
                                              min_age=5, max_age=6)
    world.foreign_group = AgeGroup.objects.create(institution=world.other, slug="azubis", name="Azubis",
                                                  min_age=16, max_age=25)
    return world


def listed(client, model="offercategory") -> set[str]:
    response = client.get(url(model, "index"))
    assert response.status_code == 200
    return {entry.slug for entry in response.context["object_list"]}


# --- the admin ---------------------------------------------------------------------------------------

def test_staff_see_shared_and_own_entries_never_another_institutions(tax, client):
    client.force_login(tax.caseworker)
    shared = {"ausbildung", "umschulung", "weiterbildung", "sprachkurs", "betreuung", "wohnen", "zusatzleistung"}
    assert listed(client) == shared | {"vorschule"}
    assert listed(client, "agegroup") == {"u3", "3-6", "6-12", "12-17", "18+", "vorschulkinder"}
    for action in ("edit", "delete", "history"):
        assert client.get(url("offercategory", action, tax.foreign)).status_code == 404, action
        assert client.get(url("agegroup", action, tax.foreign_group)).status_code == 404, action
    client.force_login(tax.other_staff)
    assert listed(client) == shared | {"meister"}
    assert client.get(url("offercategory", "edit", tax.own)).status_code == 404
    assert client.post(url("offercategory", "delete", tax.own)).status_code == 404
    assert OfferCategory.objects.filter(pk=tax.own.pk).exists()


def test_shared_entries_are_read_only_for_staff_and_editable_by_superusers(tax, client):
    client.force_login(tax.staff)
    page = client.get(url("offercategory", "index")).content.decode()
    assert url("offercategory", "edit", tax.own) in page
    assert url("offercategory", "edit", tax.betreuung) not in page  # no edit button on a shared entry
    response = client.post(url("offercategory", "edit", tax.betreuung),
                           {"name": "Gekapert", "slug": "betreuung", "schema_type": "Service", "sort_order": 1})
    assert response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    tax.betreuung.refresh_from_db()
    assert tax.betreuung.name == "Betreuung"

    client.force_login(tax.superuser)
    response = client.post(url("offercategory", "edit", tax.betreuung), {
        "name": "Kinderbetreuung", "name_en": "Childcare", "slug": "betreuung", "schema_type": "Service",
        "sort_order": 50, "institution": ""})
    assert response.status_code == 302
    tax.betreuung.refresh_from_db()
    assert tax.betreuung.name == "Kinderbetreuung" and tax.betreuung.institution is None


def test_staff_create_only_for_their_institution_with_german_errors(tax, client):
    client.force_login(tax.caseworker)
    page = BeautifulSoup(client.get(url("offercategory", "create")).content, "html.parser")
    assert {o["value"] for o in page.select("select[name=institution] option")} == {str(tax.kita.pk)}
    base = {"name": "Eingewöhnung", "slug": "eingewoehnung", "schema_type": "Service", "sort_order": 3}
    before = OfferCategory.objects.count()
    for data, field, message in (
        ({"institution": ""}, "institution", "Bitte wählen Sie Ihre Einrichtung."),
        ({"institution": tax.other.pk}, "institution", "Bitte wählen Sie Ihre Einrichtung."),
        ({"institution": "9" * 40}, "institution", "Bitte wählen Sie Ihre Einrichtung."),
        ({"institution": tax.kita.pk, "slug": "betreuung"}, "slug", "bereits vergeben"),
        ({"institution": tax.kita.pk, "slug": "Groß Buchstaben"}, "slug", "Nur Kleinbuchstaben"),
    ):
        response = client.post(url("offercategory", "create"), {**base, **data})
        assert response.status_code == 400, data
        assert message in " ".join(response.context["form"].errors[field]), data
        assert response.context["form"]["name"].value() == "Eingewöhnung"  # nothing entered is lost
    assert OfferCategory.objects.count() == before
    response = client.post(url("offercategory", "create"), {**base, "institution": tax.kita.pk})
    assert response.status_code == 302
    created = OfferCategory.objects.get(slug="eingewoehnung")
    assert created.institution == tax.kita

    refused = client.post(url("agegroup", "create"), {"name": "Falsch", "slug": "falsch", "min_age": 6,
                                                      "max_age": 3, "sort_order": 0, "institution": tax.kita.pk})
    assert refused.status_code == 400
    assert "Höchstalter" in " ".join(refused.context["form"].errors["max_age"])


def test_a_category_in_use_cannot_be_deleted(tax, client, make_offer):
    make_offer(tax.kita, "Vorschulgruppe", category=tax.own)
    client.force_login(tax.staff)
    for method in (client.get, client.post):
        response = method(url("offercategory", "delete", tax.own))
        assert response.status_code == 302 and response["Location"] == url("offercategory", "index")
        text = " ".join(str(m) for m in get_messages(response.wsgi_request))
        assert "wird noch von Angeboten verwendet" in text
    assert OfferCategory.objects.filter(pk=tax.own.pk).exists()
    in_draft = OfferCategory.objects.create(institution=tax.kita, slug="entwurf", name="Entwurf")
    tax.offer.category = in_draft
    tax.offer.save_revision()  # only a draft uses it: going back to that draft must keep working
    assert client.post(url("offercategory", "delete", in_draft)).status_code == 302
    assert OfferCategory.objects.filter(pk=in_draft.pk).exists()
    unused = OfferCategory.objects.create(institution=tax.kita, slug="frei", name="Frei")
    assert client.post(url("offercategory", "delete", unused)).status_code == 302
    assert not OfferCategory.objects.filter(pk=unused.pk).exists()


def test_the_model_refuses_a_taken_slug_in_german(tax):
    with pytest.raises(ValidationError) as refused:
        OfferCategory(institution=tax.other, slug="betreuung", name="x").full_clean()
    assert "bereits vergeben" in str(refused.value.message_dict["slug"])
    OfferCategory(institution=tax.other, slug="vorschule", name="Vorschule BBZ").full_clean()  # another's: fine


# --- the offer page form ------------------------------------------------------------------------------

def _offer_form_data(category) -> dict:
    return {
        "title": "Neues Angebot", "slug": "neues-angebot", "category": str(category),
        "teaser": "Kurz", "body-count": "0", "questions-count": "0", "contract_return_days": "14", "interview_required": "on",
        "application_sections-TOTAL_FORMS": "0", "application_sections-INITIAL_FORMS": "0",
        "application_sections-MIN_NUM_FORMS": "0", "application_sections-MAX_NUM_FORMS": "1000",
        "action-publish": "publish",
    }


def test_the_offer_form_offers_shared_and_own_categories_only(tax, client):
    index = OfferIndexPage.objects.descendant_of(tax.kita.site.root_page).get()
    client.force_login(tax.superuser)
    add = f"/admin/pages/add/workpro_plugin/offerpage/{index.pk}/"
    page = BeautifulSoup(client.get(add).content, "html.parser")
    choices = {o["value"] for o in page.select("select[name=category] option") if o["value"]}
    assert str(tax.own.pk) in choices and str(tax.betreuung.pk) in choices
    assert str(tax.foreign.pk) not in choices
    for forged in (tax.foreign.pk, "9" * 40):
        response = client.post(add, _offer_form_data(forged))
        assert response.status_code == 200 and "Kategorie Ihrer Einrichtung" in response.content.decode(), forged
    response = client.post(add, _offer_form_data(tax.own.pk))
    assert response.status_code == 302
    assert OfferPage.objects.get(slug="neues-angebot").category == tax.own


# --- the offer index ----------------------------------------------------------------------------------

def _titles(client, institution, query=""):
    index = OfferIndexPage.objects.descendant_of(institution.site.root_page).get()
    response = client.get(index.url + query, HTTP_HOST=institution.site.hostname)
    assert response.status_code == 200
    page = BeautifulSoup(response.content, "html.parser")
    return page, sorted(a.get_text(strip=True) for a in page.select(".wp-offer-card__title a"))


def test_index_filters_by_own_and_shared_categories_and_age_groups(tax, client, make_offer):
    make_offer(tax.kita, "Vorschulgruppe", category=tax.own, age_min=5, age_max=6)
    make_offer(tax.kita, "Krippe", age_min=1, age_max=2)
    page, titles = _titles(client, tax.kita, "?kategorie=vorschule")
    assert titles == ["Vorschulgruppe"]
    assert {o["value"] for o in page.select("select[name=kategorie] option")} >= {"vorschule", "betreuung"}
    assert "meister" not in {o["value"] for o in page.select("select[name=kategorie] option")}
    assert "azubis" not in {o["value"] for o in page.select("select[name=alter] option")}
    assert _titles(client, tax.kita, "?alter=vorschulkinder")[1] == ["Krippenplatz", "Vorschulgruppe"]
    assert _titles(client, tax.kita, "?alter=u3")[1] == ["Krippe", "Krippenplatz"]
    assert _titles(client, tax.kita, "?kategorie=betreuung")[1] == ["Krippe", "Krippenplatz"]
    # another institution's slug is no choice here: the filter is reported, never a 500, nothing filtered
    page, titles = _titles(client, tax.kita, "?kategorie=meister&alter=azubis")
    assert titles == ["Krippe", "Krippenplatz", "Vorschulgruppe"]
    card = page.select_one(".wp-offer-card__category").get_text(" ", strip=True)
    assert card.startswith(("Betreuung", "Vorschule"))


def test_english_interface_shows_the_english_name(tax):
    with translation.override("en"):
        assert tax.own.label == "Pre-school"
        assert OfferCategory(name="Nur deutsch").label == "Nur deutsch"
    with translation.override("de"):
        assert tax.own.label == "Vorschule"


# --- JSON-LD ------------------------------------------------------------------------------------------

def test_json_ld_type_follows_the_category(tax, make_offer):
    course = OfferCategory.objects.get(institution=None, slug="sprachkurs")
    sprachkurs = make_offer(tax.kita, "Sprachkurs", category=course, starts_on=datetime.date(2027, 9, 1))
    data = sprachkurs.structured_data()
    assert data["@type"] == "Course" and data["provider"]["@type"] == "EducationalOrganization"
    assert data["hasCourseInstance"]["startDate"] == "2027-09-01"

    program = OfferCategory.objects.create(institution=tax.kita, slug="ausbildung-kita", name="Ausbildung KiTa",
                                           schema_type="EducationalOccupationalProgram")
    ausbildung = make_offer(tax.kita, "Erzieherausbildung", category=program, starts_on=datetime.date(2027, 8, 1),
                            ends_on=datetime.date(2030, 7, 31), duration="3 Jahre")
    data = ausbildung.structured_data()
    assert data["@type"] == "EducationalOccupationalProgram"
    assert data["provider"]["@type"] == "EducationalOrganization"
    assert (data["startDate"], data["endDate"], data["timeToComplete"]) == ("2027-08-01", "2030-07-31", "3 Jahre")
    assert "serviceType" not in data and "hasCourseInstance" not in data

    data = tax.offer.structured_data()
    assert data["@type"] == "Service" and data["serviceType"] == "Betreuung"
    assert data["provider"]["@type"] == "Organization"
