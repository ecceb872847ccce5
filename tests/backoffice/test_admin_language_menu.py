"""The Wagtail admin for a Kita's staff: German by default (login page included) and the menu in a Kita's order."""

import json

import pytest
from bs4 import BeautifulSoup
from django.http import HttpResponse
from django.utils import translation
from wagtail.users.models import UserProfile

from workpro_plugin.middleware import AdminLanguageMiddleware

pytestmark = pytest.mark.django_db
ENGLISH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def _labels(soup):
    return [" ".join(label.get_text(" ", strip=True).replace("*", "").split()) for label in soup.select("label")]


@pytest.mark.parametrize("headers", [{}, ENGLISH_BROWSER], ids=["no-preference", "english-browser"])
def test_login_page_is_german(client, headers):
    response = client.get("/admin/login/", **headers)
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.html["lang"] == "de"
    assert "Passwort" in _labels(soup) and "Password" not in _labels(soup)
    assert "Benutzername" in _labels(soup)
    assert response["Content-Language"] == "de"


def test_only_admin_paths_are_fixed_to_the_sites_language(rf):
    """Mein Konto and the public site keep following the browser (LocaleMiddleware)."""
    seen = {}

    def view(request):
        seen[request.path] = (translation.get_language(), request.LANGUAGE_CODE)
        return HttpResponse()

    middleware = AdminLanguageMiddleware(view)
    for path in ("/admin/login/", "/workpro/konto/"):
        with translation.override("en"):
            request = rf.get(path)
            request.LANGUAGE_CODE = "en"
            middleware(request)
    assert seen == {"/admin/login/": ("de", "de"), "/workpro/konto/": ("en", "en")}


def test_staff_dashboard_is_german_for_an_english_browser(world, client):
    client.force_login(world.staff)
    soup = BeautifulSoup(client.get("/admin/", **ENGLISH_BROWSER).content, "html.parser")
    assert soup.html["lang"] == "de"
    labels = _menu_labels(soup)
    assert "Anmeldungen" in labels and "Seiten" in labels and "Pages" not in labels


def test_a_chosen_admin_language_wins(world, client):
    UserProfile.objects.update_or_create(user=world.staff, defaults={"preferred_language": "en"})
    client.force_login(world.staff)
    soup = BeautifulSoup(client.get("/admin/").content, "html.parser")
    assert soup.html["lang"] == "en"


def _menu(soup):
    props = json.loads(soup.find(id="wagtail-sidebar-props").string)
    main = next(m for m in props["modules"] if m["_type"] == "wagtail.sidebar.MainMenuModule")

    def walk(items):
        return [(item["_args"][0]["label"],
                 walk(item["_args"][1]) if item["_type"].endswith("SubMenuItem") else item["_args"][0]["url"])
                for item in items]
    return walk(main["_args"][0])


def _menu_labels(soup):
    return [label for label, _target in _menu(soup)]


@pytest.mark.parametrize("who", ["staff", "caseworker"])
def test_staff_menu_puts_what_a_kita_needs_first(world, client, who):
    client.force_login(getattr(world, who))
    menu = dict(_menu(BeautifulSoup(client.get("/admin/").content, "html.parser")))
    labels = list(menu)
    assert labels[:4] == ["Anmeldungen", "Kunden/Teilnehmer", "Nachrichten", "Seiten"]
    assert {"Zusatzbuchungen", "Anwendungen", "Textbausteine"} <= set(labels[4:8])
    assert "WorkPro" not in labels and "Bilder" not in labels and "Dokumente" not in labels
    assert {"Bilder", "Dokumente"} <= {label for label, _url in menu["Weitere"]}
    assert labels.index("Weitere") < labels.index("Berichte")  # generic Wagtail entries: reachable, last
    assert menu["Berichte"]


def test_superuser_menu_is_unchanged(world, client):
    client.force_login(world.superuser)
    menu = dict(_menu(BeautifulSoup(client.get("/admin/").content, "html.parser")))
    assert "Weitere" not in menu and "Bilder" in menu
    assert [label for label, _url in menu["WorkPro"]][:2] == ["Anmeldungen", "Kunden/Teilnehmer"]
