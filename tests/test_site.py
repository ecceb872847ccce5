"""The demo sites: both institution homepages, their buttons, help and language."""

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from wagtail.models import Page, Site

from workpro_plugin.models import HelpPage, Institution, OfferIndexPage, Operator

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
    assert response.status_code == 400
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
    User = get_user_model()
    return {
        "operators": Operator.objects.count(),
        "institutions": Institution.objects.count(),
        "sites": Site.objects.count(),
        "pages": Page.objects.count(),
        "users": User.objects.count(),
        "groups": User.groups.rel.model.objects.count(),
    }


def test_demo_command_is_idempotent(db, settings):
    settings.DEBUG = True
    call_command("workpro_demo", "--quiet")
    first = _counts()
    call_command("workpro_demo", "--quiet")
    assert _counts() == first
    assert first["institutions"] == 2
    assert first["sites"] == 2


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
