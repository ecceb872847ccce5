"""Offer pages: tree rules, editor permissions, validation, index filters, detail page."""

import datetime
import json
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.images.tests.utils import get_test_image_file
from wagtail.rich_text import RichText

from home.models import HomePage
from workpro_plugin.models import (
    Criterion,
    Enrollment,
    EnrollmentStatus,
    FeeBracket,
    FeeSchedule,
    HelpPage,
    OfferIndexPage,
    OfferPage,
    OfferSection,
)

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def _get(client, institution, path):
    return client.get(path, HTTP_HOST=institution.site.hostname)


def _index_url(institution):
    return OfferIndexPage.objects.descendant_of(institution.site.root_page).get().relative_url(institution.site)


def _take_places(offer, institution, n, status=EnrollmentStatus.RATIFIZIERT):
    for _ in range(n):
        Enrollment.objects.create(offer=offer, institution=institution, status=status)


# --- tree rules ----------------------------------------------------------------

def test_page_type_rules():
    assert OfferPage.allowed_parent_page_models() == [OfferIndexPage]
    assert OfferIndexPage.allowed_parent_page_models() == [HomePage]
    assert OfferIndexPage.allowed_subpage_models() == [OfferPage]
    assert OfferPage.allowed_subpage_models() == []
    assert HelpPage.allowed_parent_page_models() == [HomePage]


def test_only_one_offer_index_per_homepage(make_institution):
    kita = make_institution("kita")
    home = kita.site.root_page.specific
    assert not OfferIndexPage.can_create_at(home)
    assert not OfferPage.can_create_at(home)


# --- editors of one institution only edit their own tree -------------------------

def test_editors_can_add_offers_only_in_their_institution(demo, client):
    User = get_user_model()
    kita_staff = User.objects.get(username="mitarbeiter@kita-sonnenschein.example")
    kita_index = OfferIndexPage.objects.get(url_path__contains="kita-sonnenschein")
    bbz_index = OfferIndexPage.objects.get(url_path__contains="bbz-nord")
    assert kita_index.permissions_for_user(kita_staff).can_add_subpage()
    assert kita_index.permissions_for_user(kita_staff).can_publish_subpage()
    assert not bbz_index.permissions_for_user(kita_staff).can_add_subpage()
    bbz_offer = OfferPage.objects.child_of(bbz_index).first()
    assert not bbz_offer.permissions_for_user(kita_staff).can_edit()

    client.force_login(kita_staff)
    own = client.get(f"/admin/pages/add/workpro_plugin/offerpage/{kita_index.pk}/")
    other = client.get(f"/admin/pages/add/workpro_plugin/offerpage/{bbz_index.pk}/")
    edit_other = client.get(f"/admin/pages/{bbz_offer.pk}/edit/")
    assert own.status_code == 200
    assert other.status_code in (302, 403)
    assert edit_other.status_code in (302, 403)


def _betreuung() -> str:
    """The id of the shared category "Betreuung" (migration 0029), as the page form posts it."""
    from workpro_plugin.models import OfferCategory
    return str(OfferCategory.objects.get(institution=None, slug="betreuung").pk)


def _admin_add_offer(client, parent, **overrides):
    data = {
        "title": "Neues Angebot", "slug": "neues-angebot", "category": _betreuung(),
        "teaser": "Kurz", "body-count": "0", "questions-count": "0", "contract_return_days": "14",
        "interview_required": "on",
        "application_sections-TOTAL_FORMS": "0", "application_sections-INITIAL_FORMS": "0",
        "application_sections-MIN_NUM_FORMS": "0", "application_sections-MAX_NUM_FORMS": "1000",
        "action-publish": "publish",
    }
    data.update(overrides)
    return client.post(f"/admin/pages/add/workpro_plugin/offerpage/{parent.pk}/", data)


def test_admin_creates_and_publishes_a_valid_offer(demo, client):
    client.force_login(get_user_model().objects.get(username="mitarbeiter@kita-sonnenschein.example"))
    index = OfferIndexPage.objects.get(url_path__contains="kita-sonnenschein")
    response = _admin_add_offer(client, index, starts_on="2027-01-01", ends_on="2027-06-30")
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    assert OfferPage.objects.live().filter(slug="neues-angebot").exists()


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"starts_on": "2027-06-01", "ends_on": "2027-01-01"}, "ends_on", "vor dem Beginn"),
        ({"applications_open_from": "2027-03-01", "applications_close_on": "2027-02-01"},
         "applications_close_on", "Anmeldeschluss"),
        ({"capacity": "-1"}, "capacity", ""),
        ({"age_min": "10", "age_max": "3"}, "age_max", "Höchstalter"),
    ],
)
def test_admin_refuses_impossible_offer_data(demo, client, overrides, field, fragment):
    client.force_login(get_user_model().objects.get(username="mitarbeiter@kita-sonnenschein.example"))
    index = OfferIndexPage.objects.get(url_path__contains="kita-sonnenschein")
    response = _admin_add_offer(client, index, **overrides)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors
    assert fragment in " ".join(errors[field])
    assert not OfferPage.objects.filter(slug="neues-angebot").exists()


def test_admin_refuses_duplicate_sections_and_income_without_fee_schedule(demo, client):
    client.force_login(get_user_model().objects.get(username="mitarbeiter@kita-sonnenschein.example"))
    index = OfferIndexPage.objects.get(url_path__contains="kita-sonnenschein")
    sections = {
        "application_sections-TOTAL_FORMS": "2",
        "application_sections-0-section": "income", "application_sections-0-phase": "1",
        "application_sections-0-ORDER": "1", "application_sections-0-id": "",
        "application_sections-1-section": "income", "application_sections-1-phase": "2",
        "application_sections-1-ORDER": "2", "application_sections-1-id": "",
    }
    response = _admin_add_offer(client, index, **sections)
    assert response.status_code == 200
    form = response.context["form"]
    assert "fee_schedule" in form.errors
    assert "bereits gewählt" in str(form.formsets["application_sections"].forms[1].errors)
    assert not OfferPage.objects.filter(slug="neues-angebot").exists()


def _fee_form(data):
    form_class = FeeSchedule.snippet_viewset.get_form_class() if hasattr(FeeSchedule, "snippet_viewset") else None
    if form_class is None:
        from wagtail.admin.panels import get_edit_handler

        form_class = get_edit_handler(FeeSchedule).get_form_class()
    return form_class(data=data, instance=FeeSchedule())


def _fee_data(brackets, maximum="420"):
    data = {
        "name": "Test", "billing_period": "monatlich", "maximum_rate": maximum, "notes": "",
        "brackets-TOTAL_FORMS": str(len(brackets)), "brackets-INITIAL_FORMS": "0",
        "brackets-MIN_NUM_FORMS": "0", "brackets-MAX_NUM_FORMS": "1000",
    }
    for i, (low, high, amount) in enumerate(brackets):
        data.update({f"brackets-{i}-income_from": low, f"brackets-{i}-income_to": high,
                     f"brackets-{i}-amount": amount, f"brackets-{i}-subsidy": "",
                     f"brackets-{i}-ORDER": str(i + 1), f"brackets-{i}-id": ""})
    return data


def test_fee_schedule_form_accepts_contiguous_brackets(db):
    form = _fee_form(_fee_data([("0", "20000", "100"), ("20000", "", "300")]))
    assert form.is_valid(), (form.errors, [f.errors for f in form.formsets["brackets"].forms])
    schedule = form.save()
    assert schedule.brackets.count() == 2
    assert schedule.compute(Decimal("25000")).amount == Decimal("300")


@pytest.mark.parametrize(
    ("brackets", "maximum"),
    [
        ([("0", "20000", "100"), ("15000", "", "300")], "420"),  # overlap
        ([("0", "20000", "100"), ("25000", "", "300")], "420"),  # gap
        ([("0", "20000", "100"), ("20000", "", "500")], "420"),  # above maximum
        ([("0", "", "100"), ("20000", "30000", "200")], "420"),  # open bracket not last
    ],
)
def test_fee_schedule_form_refuses_bad_brackets(db, brackets, maximum):
    form = _fee_form(_fee_data(brackets, maximum))
    assert not form.is_valid()
    assert any(f.errors for f in form.formsets["brackets"].forms)


# --- registration state ----------------------------------------------------------

def test_registration_state_window_and_capacity(make_institution, make_offer):
    kita = make_institution("kita")
    offer = make_offer(kita, capacity=2)
    assert offer.registration_state().is_open
    _take_places(offer, kita, 1)
    _take_places(offer, kita, 1, status=EnrollmentStatus.ANGENOMMEN)
    _take_places(offer, kita, 3, status=EnrollmentStatus.BEWERBER)  # applicants take no place
    offer = OfferPage.objects.get(pk=offer.pk)
    assert offer.places_taken == 2
    assert offer.places_free == 0
    state = offer.registration_state()  # full: registration goes on, onto the waiting list
    assert state.is_open and "Warteliste" in state.reason

    later = make_offer(kita, "Später", applications_open_from=TODAY + datetime.timedelta(days=3))
    assert not later.registration_state().is_open
    closed = make_offer(kita, "Vorbei", applications_close_on=TODAY - datetime.timedelta(days=1))
    assert "Anmeldeschluss" in closed.registration_state().reason
    last_day = make_offer(kita, "Letzter Tag", applications_close_on=TODAY)
    assert last_day.registration_state().is_open


def test_full_offer_page_registers_onto_the_waiting_list(make_institution, make_offer, client):
    kita = make_institution("kita")
    offer = make_offer(kita, capacity=1)
    _take_places(offer, kita, 1, status=EnrollmentStatus.KANDIDAT)  # admitted by a round: holds the place
    soup = BeautifulSoup(_get(client, kita, offer.relative_url(kita.site)).content, "html.parser")
    assert soup.select_one("#registrieren button[disabled]") is None
    assert "neue Anmeldungen kommen auf die Warteliste" in soup.select_one("#cta-waiting").get_text()


def test_open_offer_page_shows_registration_call_to_action(make_institution, make_offer, client):
    kita = make_institution("kita")
    offer = make_offer(kita, capacity=5)
    soup = BeautifulSoup(_get(client, kita, offer.relative_url(kita.site)).content, "html.parser")
    assert soup.select_one("#registrieren button[disabled]") is None
    assert "Registrieren" in soup.select_one("#registrieren").get_text()


# --- detail page -----------------------------------------------------------------

def test_offer_detail_shows_fee_table_and_valid_json_ld(make_institution, make_offer, client):
    kita = make_institution("kita")
    schedule = FeeSchedule.objects.create(name="Beiträge", maximum_rate=Decimal("420"))
    FeeBracket.objects.create(schedule=schedule, income_from=0, income_to=20000, amount=Decimal("0"))
    FeeBracket.objects.create(schedule=schedule, income_from=20000, income_to=None, amount=Decimal("300"))
    offer = make_offer(kita, "Ausbildung <Koch> & Köchin", category="ausbildung", fee_schedule=schedule,
                       starts_on=datetime.date(2027, 9, 1), location="Leipzig")
    response = _get(client, kita, offer.relative_url(kita.site))
    soup = BeautifulSoup(response.content, "html.parser")
    rows = soup.select(".wp-fees tbody tr")
    assert [row.find_all("td")[1].get_text(strip=True) for row in rows] == ["0,00 € monatlich", "300,00 € monatlich"]
    assert "420,00 €" in soup.select_one(".wp-fees").get_text()
    data = json.loads(soup.find("script", type="application/ld+json").string)
    assert data["@type"] == "Course"
    assert data["name"] == "Ausbildung <Koch> & Köchin"
    assert data["hasCourseInstance"]["startDate"] == "2027-09-01"
    offers = {key: data["offers"][key] for key in ("@type", "priceCurrency", "lowPrice", "highPrice")}
    assert offers == {"@type": "AggregateOffer", "priceCurrency": "EUR", "lowPrice": "0.00", "highPrice": "420.00"}
    assert data["offers"]["availability"].startswith("https://schema.org/")
    assert "<Koch>" not in soup.find("script", type="application/ld+json").decode_contents()
    assert soup.find("meta", attrs={"name": "description"})["content"].startswith("Kurzbeschreibung")


def _help_url(institution):
    """A bare Wagtail page of the site, one level below its root (the offer index's level)."""
    help_page = HelpPage(title="Hilfe", slug="hilfe")
    institution.site.root_page.add_child(instance=help_page)
    return help_page.relative_url(institution.site)


def _count_queries(client, institution, url):
    _get(client, institution, url)  # warm: site root paths, header, the offer's cached details
    with CaptureQueriesContext(connection) as queries:
        response = _get(client, institution, url)
    assert response.status_code == 200
    return len(queries)


def _rich_offer(kita, make_offer, title):
    """An offer with all the detail page shows: fee brackets, Kriterienkatalog, add-ons, taken places."""
    schedule = FeeSchedule.objects.create(name=f"Beiträge {title}", maximum_rate=Decimal("420"))
    for i in range(4):
        FeeBracket.objects.create(schedule=schedule, income_from=i * 10000, income_to=(i + 1) * 10000 if i < 3 else None,
                                  amount=Decimal(100 * i))
    offer = make_offer(kita, title, fee_schedule=schedule, capacity=10)
    for i in range(3):
        Criterion.objects.create(institution=kita, offer=offer, kind=Criterion.Kind.HARDSHIP, label=f"Härte {i}",
                                 points=5)
    for i in range(2):
        addon = make_offer(kita, f"{title} Zusatz {i}", is_addon=True)
        addon.addon_for.add(offer)
        addon.save_revision().publish()
    _take_places(offer, kita, 3)
    image = get_image_model().objects.create(title="Gruppenraum", description="Der helle Gruppenraum",
                                             file=get_test_image_file(size=(640, 480)))
    document = get_document_model().objects.create(title="Hausordnung", file=ContentFile(b"%PDF-1.4", "haus.pdf"))
    offer.body = [("text", RichText("<p>Unser Alltag</p>")), ("image", image),
                  ("downloads", {"heading": "Unterlagen", "documents": [document]})]
    offer.save_revision().publish()
    return offer


@pytest.mark.parametrize("logged_in", [False, True])
def test_offer_detail_query_count_is_constant_and_near_a_bare_page(make_institution, make_offer, client, logged_in):
    """Institution, fees, criteria, add-ons, free places, JSON-LD, the body with its image and documents
    and the link preview picture come from the per-site cache: a warm detail page makes the bare page's
    queries plus one for its depth in the tree (the offer with its category in one query), however much
    it shows."""
    kita = make_institution("kita")
    if logged_in:
        client.force_login(get_user_model().objects.create_user("eltern@example.org", "eltern@example.org", "x"))
    plain = make_offer(kita, "Schlicht")
    rich = _rich_offer(kita, make_offer, "Reich")
    bare = _count_queries(client, kita, _help_url(kita))
    assert _count_queries(client, kita, plain.relative_url(kita.site)) == bare + 1
    assert _count_queries(client, kita, rich.relative_url(kita.site)) == bare + 1


def test_cached_offer_detail_follows_criteria_fees_and_places(make_institution, make_offer, client):
    kita = make_institution("kita")
    offer = _rich_offer(kita, make_offer, "Krippe")
    url = offer.relative_url(kita.site)

    def shown():
        soup = BeautifulSoup(_get(client, kita, url).content, "html.parser")
        facts = dict(zip((dt.get_text(strip=True) for dt in soup.select(".wp-facts-list dt")),
                         (dd.get_text(strip=True) for dd in soup.select(".wp-facts-list dd"))))
        return (facts["Freie Plätze"], [row.td.get_text(strip=True) for row in soup.select("#criteria-heading ~ table tbody tr")],
                soup.select_one(".wp-fees").get_text(" ", strip=True))

    places, criteria, fees = shown()
    assert shown() == (places, criteria, fees)  # from the cache
    assert places == "7 von 10" and criteria == ["Härte 0", "Härte 1", "Härte 2"] and "420,00 €" in fees
    _take_places(offer, kita, 2)
    assert shown()[0] == "5 von 10"
    Criterion.objects.create(institution=kita, offer=offer, kind=Criterion.Kind.HARDSHIP, label="Härte 3", points=1)
    assert shown()[1] == ["Härte 0", "Härte 1", "Härte 2", "Härte 3"]
    schedule = FeeSchedule.objects.get(pk=offer.fee_schedule_id)
    schedule.maximum_rate = Decimal("500")
    schedule.save()
    assert "500,00 €" in shown()[2]


def test_cached_offer_body_follows_its_image_and_documents(make_institution, make_offer, client):
    """The body and the link preview are cached per site generation: saving an image or a document (shared
    between sites) shows at once; Wagtail's own bookkeeping saves (file size, hash) do not invalidate."""
    kita = make_institution("kita")
    offer = _rich_offer(kita, make_offer, "Krippe")
    url = offer.relative_url(kita.site)

    def shown():
        soup = BeautifulSoup(_get(client, kita, url).content, "html.parser")
        return (soup.select_one(".wp-offer-image")["alt"], soup.find("meta", property="og:image:alt")["content"],
                [a.get_text(" ", strip=True) for a in soup.select(".stream-block--downloads a")])

    before = shown()
    assert before[:2] == ("Der helle Gruppenraum", "Der helle Gruppenraum") and "Hausordnung" in before[2][0]
    assert shown() == before  # from the cache
    image = get_image_model().objects.get(title="Gruppenraum")
    image.description = "Der Gruppenraum am Morgen"
    image.save()
    assert shown()[:2] == ("Der Gruppenraum am Morgen", "Der Gruppenraum am Morgen")
    document = get_document_model().objects.get(title="Hausordnung")
    document.title = "Hausordnung 2027"
    document.save()
    assert "Hausordnung 2027" in shown()[2][0]
    generation = cache.get("workpro:content-generation")
    image.file_hash = ""
    image.get_file_hash()  # saves update_fields=["file_hash"]: nothing a page shows
    assert cache.get("workpro:content-generation") == generation


def test_registration_fields_are_cached_per_language_and_a_bound_form_keeps_its_input(make_institution, make_offer,
                                                                                      client):
    kita = make_institution("kita")
    url = make_offer(kita, "Krippe").relative_url(kita.site)
    german = BeautifulSoup(_get(client, kita, url).content, "html.parser")
    english = BeautifulSoup(_get(client, kita, "/en" + url).content, "html.parser")
    assert german.select_one("label[for=id_first_name]").get_text(strip=True) == "Vorname*"
    assert english.select_one("label[for=id_first_name]").get_text(strip=True) == "First name*"
    assert BeautifulSoup(_get(client, kita, url).content, "html.parser").select_one(
        "label[for=id_first_name]").get_text(strip=True) == "Vorname*"
    response = client.post(url, {"last_name": "Muster", "first_name": "", "email": "kein-mail"},
                           HTTP_HOST=kita.site.hostname)
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.select_one("#id_last_name")["value"] == "Muster"
    assert soup.select_one("#id_email_error") is not None


def test_offer_preview_is_not_cached(make_institution, make_offer):
    kita = make_institution("kita")
    offer = make_offer(kita, "Krippe", capacity=3, location="Leipzig")
    assert "Leipzig" in offer.make_preview_request().rendered_content
    offer.location = "Halle (Entwurf)"
    assert "Halle (Entwurf)" in offer.make_preview_request().rendered_content


def test_care_offer_is_a_schema_org_service(make_institution, make_offer):
    kita = make_institution("kita")
    assert make_offer(kita).structured_data()["@type"] == "Service"


def test_section_plan_always_starts_with_personal_data(make_institution, make_offer):
    kita = make_institution("kita")
    offer = make_offer(kita)
    OfferSection.objects.create(page=offer, section="income", phase=2)
    OfferSection.objects.create(page=offer, section="guardians", phase=1)
    assert offer.section_plan() == {"personal": 1, "income": 2, "guardians": 1}
    assert offer.required_sections(phase=1) == ["personal", "guardians"]
    assert offer.required_sections() == ["personal", "guardians", "income"]


# --- index: filters, search, pagination, empty states, query count -----------------

def _titles(client, institution, query=""):
    response = _get(client, institution, _index_url(institution) + query)
    assert response.status_code == 200
    return sorted(a.get_text(strip=True) for a in BeautifulSoup(response.content, "html.parser")
                  .select(".wp-offer-card__title a"))


def test_index_lists_only_own_live_offers(make_institution, make_offer, client):
    kita, bbz = make_institution("kita"), make_institution("bbz")
    make_offer(kita, "Krippe")
    draft = make_offer(kita, "Entwurf")
    draft.unpublish()
    make_offer(bbz, "Ausbildung", category="ausbildung")
    assert _titles(client, kita) == ["Krippe"]
    assert _titles(client, bbz) == ["Ausbildung"]


def test_index_filters(make_institution, make_offer, client):
    kita = make_institution("kita")
    krippe = make_offer(kita, "Krippe", age_min=1, age_max=2, capacity=1, starts_on=datetime.date(2027, 1, 1))
    make_offer(kita, "Hort", age_min=6, age_max=10, starts_on=datetime.date(2027, 8, 1))
    make_offer(kita, "Sprachkurs", category="sprachkurs", age_min=16, rolling_admission=True)
    make_offer(kita, "Geschlossen", applications_close_on=TODAY - datetime.timedelta(days=1))
    _take_places(krippe, kita, 1)

    assert _titles(client, kita, "?kategorie=sprachkurs") == ["Sprachkurs"]
    assert _titles(client, kita, "?alter=u3") == ["Geschlossen", "Krippe"]
    assert _titles(client, kita, "?alter=18%2B") == ["Geschlossen", "Sprachkurs"]
    assert _titles(client, kita, "?freie_plaetze=on") == ["Geschlossen", "Hort", "Sprachkurs"]
    assert _titles(client, kita, "?offen=on") == ["Hort", "Krippe", "Sprachkurs"]
    assert _titles(client, kita, "?beginn_ab=2027-06-01") == ["Hort", "Sprachkurs"]
    assert _titles(client, kita, "?kategorie=betreuung&freie_plaetze=on&offen=on") == ["Hort"]


def test_index_bad_filter_input_is_reported_not_a_500(make_institution, make_offer, client):
    kita = make_institution("kita")
    make_offer(kita, "Krippe")
    response = _get(client, kita, _index_url(kita) + "?beginn_ab=gestern&kategorie=<script>&seite=abc")
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    assert "TT.MM.JJJJ" in soup.select_one(".wp-filter").get_text()
    assert _titles(client, kita, "?seite=999") == ["Krippe"]


def test_index_full_text_search(make_institution, make_offer, client):
    kita = make_institution("kita")
    make_offer(kita, "Krippenplatz", teaser="Betreuung für die Kleinsten")
    make_offer(kita, "Hortplatz", teaser="Hausaufgabenhilfe nach der Schule")
    assert _titles(client, kita, "?q=Hausaufgabenhilfe") == ["Hortplatz"]
    assert _titles(client, kita, "?q=Krippenplatz") == ["Krippenplatz"]
    assert _titles(client, kita, "?q=Raumfahrt") == []


def test_index_empty_states(make_institution, make_offer, client):
    kita = make_institution("kita")
    text = _get(client, kita, _index_url(kita)).content.decode()
    assert "Derzeit sind keine Angebote veröffentlicht." in text
    make_offer(kita, "Krippe", category="betreuung")
    text = _get(client, kita, _index_url(kita) + "?kategorie=sprachkurs").content.decode()
    assert "Keine Angebote passen zu Ihrer Auswahl." in text
    assert "Filter zurücksetzen" in text


def test_index_pagination_keeps_filters(make_institution, make_offer, client):
    kita = make_institution("kita")
    for i in range(15):
        make_offer(kita, f"Angebot {i:02d}", category="sprachkurs")
    first = BeautifulSoup(_get(client, kita, _index_url(kita) + "?kategorie=sprachkurs").content, "html.parser")
    assert len(first.select(".wp-offer-card")) == 12
    next_link = first.select_one(".wp-pagination a[rel=next]")["href"]
    assert "kategorie=sprachkurs" in next_link and "seite=2" in next_link
    second = BeautifulSoup(_get(client, kita, _index_url(kita) + next_link).content, "html.parser")
    assert len(second.select(".wp-offer-card")) == 3


def _index_queries(client, institution):
    url = _index_url(institution)
    _get(client, institution, url)  # warm caches (site root paths, header)
    cache.delete_many([k for k in cache._cache if "workpro_offer_listing" in k])  # measure a fresh listing
    with CaptureQueriesContext(connection) as queries:
        response = _get(client, institution, url + "?freie_plaetze=on")
    assert response.status_code == 200
    return len(queries)


def test_index_query_count_is_constant(make_institution, make_offer, client):
    kita = make_institution("kita")
    for i in range(10):
        offer = make_offer(kita, f"Angebot {i}", capacity=5)
        _take_places(offer, kita, 1)
    with_ten = _index_queries(client, kita)
    for i in range(10, 200):
        make_offer(kita, f"Angebot {i}", capacity=5)
    assert _index_queries(client, kita) == with_ten


def test_cached_listing_follows_enrollments_and_new_offers(make_institution, make_offer, client):
    kita = make_institution("kita")
    offer = make_offer(kita, "Krippe", capacity=1)
    assert _titles(client, kita, "?freie_plaetze=on") == ["Krippe"]
    assert _titles(client, kita, "?freie_plaetze=on") == ["Krippe"]  # served from the cache
    _take_places(offer, kita, 1)
    assert _titles(client, kita, "?freie_plaetze=on") == []
    make_offer(kita, "Hort")
    assert _titles(client, kita) == ["Hort", "Krippe"]


def test_free_places_count_only_this_indexs_limited_offers(make_institution, make_offer, client):
    """The free-places filter counts the taken places of the index's offers with a limit, starting from
    those offers: the places held at other KiTas and on offers without a limit are never read (asked by
    status, the database counted every place held in the installation)."""
    kita, other = make_institution("kita"), make_institution("bbz")
    full, open_ended = make_offer(kita, "Krippe", capacity=1), make_offer(kita, "Hort")
    _take_places(full, kita, 1)
    _take_places(open_ended, kita, 3)
    _take_places(make_offer(other, "Kurs", capacity=1), other, 1)
    url = _index_url(kita)
    _get(client, kita, url)
    with CaptureQueriesContext(connection) as queries:
        response = _get(client, kita, url + "?freie_plaetze=on")
    assert [h.get_text(strip=True) for h in BeautifulSoup(response.content, "html.parser")
            .select(".wp-offer-card h3")] == ["Hort"]
    (taken,) = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(
        'SELECT "workpro_plugin_enrollment"."offer_id"')]
    assert '"capacity" IS NOT NULL' in taken
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + taken)
            first = cursor.fetchall()[0][-1]
        assert "workpro_plugin_enrollment" in first and "(offer_id=?)" in first, first


def test_cached_listing_is_faster_in_queries(make_institution, make_offer, client):
    kita = make_institution("kita")
    make_offer(kita, "Krippe")
    url = _index_url(kita)
    _get(client, kita, url)
    with CaptureQueriesContext(connection) as cached:
        _get(client, kita, url)
    assert not any("workpro_plugin_offerpage" in q["sql"] for q in cached.captured_queries)


def test_preview_of_offer_and_index_renders(make_institution, make_offer):
    kita = make_institution("kita")
    offer = make_offer(kita, "Krippe", capacity=3)
    offer.title = "Krippe (Entwurf)"
    response = offer.make_preview_request()
    assert response.status_code == 200
    assert "Krippe (Entwurf)" in response.rendered_content
    index = OfferIndexPage.objects.descendant_of(kita.site.root_page).get()
    assert index.make_preview_request().status_code == 200


def test_editors_leave_out_optional_questions_but_not_required_sections(demo, client):
    """The Hort asks a child for its school only; income (income-based fees) and guardians (minors) stay."""
    from workpro_plugin.models import Enrollment

    client.force_login(get_user_model().objects.get(username="mitarbeiter@kita-sonnenschein.example"))
    index = OfferIndexPage.objects.get(url_path__contains="kita-sonnenschein")
    hort = OfferPage.objects.get(slug="hortplatz")
    sections = {"application_sections-TOTAL_FORMS": "1", "application_sections-0-section": "education",
                "application_sections-0-phase": "1"}
    refused = _admin_add_offer(client, index, age_min="6", age_max="10", fee_schedule=str(hort.fee_schedule_id),
                               **sections)
    assert refused.status_code == 200
    errors = " ".join(refused.context["form"].non_field_errors())
    assert "richtet sich nach dem Einkommen" in errors and "für Minderjährige" in errors
    response = _admin_add_offer(client, index, age_min="6", age_max="10", **{
        **sections, "application_sections-TOTAL_FORMS": "2", "application_sections-1-section": "guardians",
        "application_sections-1-phase": "1", "omitted_questions": ["education.graduation", "education.current_activity"]})
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    offer = OfferPage.objects.get(slug="neues-angebot")
    assert offer.omitted_question_list == ["education.graduation", "education.current_activity"]
    edit = client.get(f"/admin/pages/{offer.pk}/edit/")
    checked = BeautifulSoup(edit.content, "html.parser").select("input[name=omitted_questions][checked]")
    assert sorted(box["value"] for box in checked) == ["education.current_activity", "education.graduation"]

    # The demo Hort leaves out degree and job: the child's form asks only what fits.
    parent = get_user_model().objects.get(username="eltern@example.org")
    client.force_login(parent)
    assert client.post(f"/workpro/angebot/{hort.pk}/anmelden/", {
        "teilnehmer_waehlen": "1", "participant": "neu", "last_name": "Beispiel", "first_name": "Tom",
        "date_of_birth": (timezone.localdate() - datetime.timedelta(days=7 * 365)).isoformat(),
        "relation": "mutter", "custody": "on"}, HTTP_HOST="127.0.0.1:8000").status_code == 302
    enrollment = Enrollment.objects.get(participant__first_name="Tom")
    # No "Schul- und Ausbildungsweg" at all: the Hort asks its own question "Schule und Klasse".
    assert client.get(f"/workpro/konto/anmeldung/{enrollment.pk}/angaben/education/",
                      HTTP_HOST="127.0.0.1:8000").status_code == 404
    page = BeautifulSoup(client.get(f"/workpro/konto/anmeldung/{enrollment.pk}/angaben/questions/",
                                    HTTP_HOST="127.0.0.1:8000").content, "html.parser")
    assert "Schule und Klasse" in page.get_text() and "Betreuungstage" in page.get_text()
    assert not page.find("input", {"name": "graduation"}) and not page.find("input", {"name": "current_activity"})
