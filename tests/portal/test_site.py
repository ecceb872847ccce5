"""The demo sites: both institution homepages, their buttons, help and language."""

import io

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone
from wagtail.models import Page, Site

from workpro_plugin.models import HelpPage, Institution, OfferIndexPage, OfferPage, Operator

pytestmark = pytest.mark.django_db


def _get(client, host, path="/"):
    return client.get(path, HTTP_HOST=f"{host}:8000", SERVER_PORT="8000")


@pytest.mark.parametrize(
    ("host", "name"),
    [("127.0.0.1", "KiTa Sonnenschein"), ("localhost", "Berufsbildungszentrum Nord")],
)
def test_demo_homepages_render_with_buttons_on_their_own_host(demo, client, host, name):
    response = _get(client, host)
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.html["lang"] == "de"
    assert soup.h1.get_text(strip=True) == name
    nav = soup.find("nav", class_="site-nav")
    links = {a.get_text(" ", strip=True): a["href"] for a in nav.find_all("a")}
    institution = Institution.objects.get(name=name)
    offers = OfferIndexPage.objects.descendant_of(institution.site.root_page).get()
    help_page = HelpPage.objects.descendant_of(institution.site.root_page).get()
    assert links["Angebote"] == offers.relative_url(institution.site)
    assert links["Mein Konto"] == "/workpro/konto/"
    assert links["i Hinweise zur Bedienung"] == help_page.relative_url(institution.site)
    assert soup.find("a", class_="skip-link")["href"] == "#main"


def test_each_site_links_to_its_own_offer_index(demo, client):
    kita = BeautifulSoup(_get(client, "127.0.0.1").content, "html.parser")
    bbz = BeautifulSoup(_get(client, "localhost").content, "html.parser")
    assert "KiTa Sonnenschein" in kita.find("footer").get_text()
    assert "Berufsbildungszentrum Nord" in bbz.find("footer").get_text()
    assert "KiTa Sonnenschein" not in bbz.find("footer").get_text()


def test_help_page_shows_the_seed_usage_hints(demo, client):
    response = _get(client, "localhost", "/hilfe/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Neues Passwort anfordern" in text
    assert "Diese Angaben sind korrekt" in text


def test_help_fallback_without_help_page(demo, client):
    HelpPage.objects.all().delete()
    response = _get(client, "127.0.0.1")
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.find("a", class_="wp-help-button")["href"] == "/workpro/hilfe/"
    assert "Neues Passwort anfordern" in _get(client, "127.0.0.1", "/workpro/hilfe/").content.decode()


def test_english_is_served_under_en_prefix(demo, client):
    response = _get(client, "127.0.0.1", "/en/")
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.html["lang"] == "en"
    assert soup.find("a", class_="skip-link").get_text(strip=True) == "Skip to content"
    assert "My account" in soup.find("nav").get_text()


def test_mein_konto_requires_login_and_shows_email_form(demo, client):
    response = _get(client, "127.0.0.1", "/workpro/konto/")
    assert response.status_code == 302
    assert response["Location"].startswith("/workpro/konto/anmelden/")
    login = _get(client, "127.0.0.1", response["Location"])
    assert "Mailadresse" in login.content.decode()


def test_login_with_wrong_password_shows_german_error(demo, client):
    response = client.post(
        "/workpro/konto/anmelden/",
        {"username": "admin@workpro.localhost", "password": "falsch"},
        HTTP_HOST="127.0.0.1:8000",
    )
    assert response.status_code == 400  # bad input, like every other form
    assert "Mailadresse oder Passwort sind nicht korrekt" in response.content.decode()
    assert response.context["form"]["username"].value() == "admin@workpro.localhost"


def test_unknown_page_is_a_german_404(demo, client):
    response = _get(client, "127.0.0.1", "/gibt-es-nicht/")
    assert response.status_code == 404
    assert "Seite nicht gefunden" in response.content.decode()


def test_homepage_query_count_is_small(demo, client, django_assert_max_num_queries):
    _get(client, "127.0.0.1")  # warm Wagtail's site root path cache
    with django_assert_max_num_queries(5):
        _get(client, "127.0.0.1")


def _counts():
    from workpro_plugin.models import (
        AppAssignment,
        CannedReply,
        Conversation,
        Document,
        Enrollment,
        EnrollmentLog,
        Guardian,
        Message,
        OutboxMessage,
        Person,
    )

    User = get_user_model()
    return {
        "operators": Operator.objects.count(),
        "institutions": Institution.objects.count(),
        "sites": Site.objects.count(),
        "pages": Page.objects.count(),
        "users": User.objects.count(),
        "groups": User.groups.rel.model.objects.count(),
        "persons": Person.objects.count(),
        "guardians": Guardian.objects.count(),
        "enrollments": Enrollment.objects.count(),
        "enrollment_log": EnrollmentLog.objects.count(),
        "documents": Document.objects.count(),
        "conversations": Conversation.objects.count(),
        "messages": Message.objects.count(),
        "app_assignments": AppAssignment.objects.count(),
        "canned_replies": CannedReply.objects.count(),
        "mails": OutboxMessage.objects.count(),
    }


def test_demo_command_is_idempotent(db, settings):
    settings.DEBUG = True
    call_command("workpro_demo", "--quiet")
    first = _counts()
    call_command("workpro_demo", "--quiet")
    assert _counts() == first
    assert first["institutions"] == 3  # KiTa Sonnenschein, BBZ Nord, KiTa Regenbogen (Platzvergabe)
    assert first["sites"] == 3
    # Lena's Krippenplatz and Paul's contract, and the Platzvergabe at KiTa Regenbogen: Lena's two wishes
    # and five other families' eight.
    assert (first["enrollments"], first["conversations"], first["messages"]) == (12, 1, 1)
    assert first["canned_replies"] == 2


def test_demo_command_run_again_after_changes_in_the_ui_duplicates_nothing(db, settings):
    """Stable keys: renamed pages, a parent with a new login address and renamed children are found again."""
    from workpro_plugin.models import Enrollment, Person

    settings.DEBUG = True
    call_command("workpro_demo", "--quiet")
    first = _counts()
    User = get_user_model()
    parent = User.objects.get(username="eltern@example.org")
    User.objects.filter(pk=parent.pk).update(username="maria@example.org", email="maria@example.org")
    Person.objects.filter(user=parent).update(email="maria@example.org", street="Neuer Weg 1")
    Person.objects.filter(guardianships__guardian__user=parent).update(first_name="Paula")
    kita_home = Page.objects.get(slug="kita-sonnenschein")
    for page in (OfferPage.objects.get(slug="kindergartenplatz"), OfferPage.objects.get(slug="krippenplatz"),
                 Page.objects.child_of(kita_home).get(slug="angebote"), kita_home):
        page = page.specific
        page.slug = page.slug + "-neu"
        page.save_revision().publish()
    out = io.StringIO()
    call_command("workpro_demo", stdout=out)
    assert _counts() == first
    assert not User.objects.filter(username="eltern@example.org").exists()
    assert Person.objects.get(user=parent).street == "Neuer Weg 1"  # the parent's own change is kept
    assert Enrollment.objects.filter(account_holder=parent).count() == 4  # with Lena's two Krippe wishes
    text = out.getvalue()
    assert "maria@example.org / Demo-Eltern-2026" in text and "… Einrichtung KiTa Sonnenschein" in text
    assert User.objects.get(pk=parent.pk).check_password("Demo-Eltern-2026")


def test_demo_parent_has_a_ratified_contract_for_paul(demo, client):
    """Paul's Kindergartenplatz went through every step: the portal shows what comes after ratification."""
    from workpro_plugin.models import Enrollment
    from workpro_plugin.selectors.chat import portal_unread_total
    from workpro_plugin.services import addons, minors

    parent = get_user_model().objects.get(username="eltern@example.org")
    contract = Enrollment.objects.get(account_holder=parent, participant__first_name="Paul")
    assert (contract.status, contract.offer.slug) == (Enrollment.Status.RATIFIZIERT, "kindergartenplatz")
    assert contract.contract_number and contract.participant.customer_number
    assert (contract.contract_start - timezone.localdate(contract.ratified_at)).days == 10
    assert sorted(contract.documents.values_list("kind", flat=True)) == [
        "application", "application", "contract_offer", "ratified_contract", "signed_contract"]
    assert [e.action.rsplit(".", 1)[1] for e in contract.log_entries.exclude(from_status="").order_by("at", "pk")] \
        == ["submitted", "invited", "decided_kandidat", "classified", "offer_made", "accepted", "ratified"]
    assert minors.care_required(contract) and minors.care_missing(contract)
    assert addons.may_book(parent, contract)
    assert [choice.addon.title for choice in addons.addon_choices(contract)] == ["Ferienbetreuung"]
    assert portal_unread_total(parent) == 1

    client.force_login(parent)
    overview = _get(client, "127.0.0.1", "/workpro/konto/").content.decode()
    assert "Paul Beispiel" in overview and "Notfallkontakt und Abholberechtigte eintragen" in overview
    addon_page = _get(client, "127.0.0.1", f"/workpro/konto/anmeldung/{contract.pk}/zusatzangebote/")
    assert addon_page.status_code == 200 and "Ferienbetreuung" in addon_page.content.decode()
    apps_page = BeautifulSoup(_get(client, "127.0.0.1", "/workpro/konto/anwendungen/").content, "html.parser")
    assert "Kita-Info" in apps_page.get_text()
    thread = _get(client, "127.0.0.1", f"/workpro/konto/nachrichten/{contract.conversation.pk}/")
    assert thread.status_code == 200 and "Willkommen in der KiTa Sonnenschein" in thread.content.decode()


def test_demo_command_refuses_without_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("workpro_demo", "--quiet")
    assert Institution.objects.count() == 0


def test_demo_staff_are_scoped_to_their_institution(demo):
    User = get_user_model()
    kita = Institution.objects.get(slug="kita-sonnenschein")
    bbz = Institution.objects.get(slug="bbz-nord")
    kita_staff = User.objects.get(username="mitarbeiter@kita-sonnenschein.example")
    assert kita.is_staff_member(kita_staff)
    assert not bbz.is_staff_member(kita_staff)
    assert kita_staff.has_perm("wagtailadmin.access_admin")
    assert not kita_staff.is_superuser


def test_staff_can_open_the_wagtail_admin(demo, client):
    response = client.post("/admin/login/", {"username": "mitarbeiter@bbz-nord.example", "password": "Demo-BBZ-2026"},
                           HTTP_HOST="localhost:8000")
    assert response.status_code == 302
    response = client.get("/admin/", HTTP_HOST="localhost:8000")
    assert response.status_code == 200


def test_header_follows_page_changes_despite_cache(demo, client):
    """The header data are cached; unpublishing or deleting pages must show at once."""
    soup = BeautifulSoup(_get(client, "127.0.0.1").content, "html.parser")
    assert soup.find("nav").find("a", string="Angebote") is not None
    kita = Institution.objects.get(slug="kita-sonnenschein")
    OfferIndexPage.objects.descendant_of(kita.site.root_page).get().unpublish()
    soup = BeautifulSoup(_get(client, "127.0.0.1").content, "html.parser")
    assert soup.find("nav").find("a", string="Angebote") is None
    HelpPage.objects.descendant_of(kita.site.root_page).get().delete()
    soup = BeautifulSoup(_get(client, "127.0.0.1").content, "html.parser")
    assert soup.find("a", class_="wp-help-button")["href"] == "/workpro/hilfe/"
    kita.name = "KiTa Regenbogen"
    kita.save()
    assert "KiTa Regenbogen" in _get(client, "127.0.0.1").content.decode()


@pytest.mark.parametrize("today", ["2027-07-20", "2027-11-27", "2028-03-01"])
def test_demo_holiday_week_lies_ahead_whenever_the_demo_is_loaded(db, today):
    """Loaded on any day (here: just after the July week), Paul's add-on can still be booked."""
    import time_machine

    from workpro_plugin.models import Enrollment
    from workpro_plugin.services import addons
    from workpro_site.demo import load_demo

    with time_machine.travel(f"{today} 09:00 +0100", tick=False):
        load_demo(port=8000)
        holiday = OfferPage.objects.get(slug="ferienbetreuung")
        assert holiday.starts_on > timezone.localdate()
        contract = Enrollment.objects.get(participant__first_name="Paul")
        assert [choice.addon.title for choice in addons.addon_choices(contract)] == ["Ferienbetreuung"]
