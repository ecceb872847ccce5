"""Platzvergabe in a real browser: a parent ranks two offers for a child, staff run and confirm a
round in the Wagtail admin, and the parent sees the place, the waiting rank and the reason."""

import pytest
from django.conf import settings
from django.utils import timezone

from tests.factories import make_child, make_offer, make_user, wish
from workpro_plugin.models import Criterion, Enrollment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
S = Enrollment.Status


@pytest.fixture
def context(browser):
    context = browser.new_context(locale="de-DE")
    yield context
    context.close()


def _as(context, client, user, live_server):
    client.force_login(user)
    context.clear_cookies()
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value, "url": live_server.url}])


def test_rank_wishes_run_a_round_and_read_the_result(world, client, live_server, context, shots):
    sonne = make_offer(world.kita, "Krippe Sonne", capacity=1, asks_care_hours=True)
    mond = make_offer(world.kita, "Krippe Mond", capacity=1)
    Criterion.objects.create(institution=world.kita, kind=Criterion.Kind.SIBLING,
                             label="Geschwisterkind in der Einrichtung", points=20)
    Criterion.objects.create(institution=world.kita, kind=Criterion.Kind.RESIDENCE, label="Wohnsitz in Musterstadt",
                             points=10, parameter="12345")
    neighbour = make_user("nachbar@example.org")
    mia = make_child(neighbour, first_name="Mia", postcode="12345")
    wish(sonne, neighbour, mia, 1, lottery=1)
    lena = make_child(world.holder, first_name="Lena")
    mond_wish = wish(mond, world.holder, lena, 1, lottery=7)   # entered first, ranked first for now
    sonne_wish = wish(sonne, world.holder, lena, 2, lottery=7, care_hours=30)

    # The parent puts Krippe Sonne first.
    _as(context, client, world.holder, live_server)
    page = context.new_page()
    page.goto(f"{live_server.url}/workpro/konto/")
    page.get_by_role("link", name="Wunschliste").first.click()
    page.select_option(f"#id_w{sonne_wish.pk}-rank", "1")
    page.select_option(f"#id_w{mond_wish.pk}-rank", "2")
    page.get_by_role("button", name="Wunschliste speichern").click()
    page.get_by_text("Die Wunschliste von Lena ist gespeichert.").wait_for()
    shots(page, "wunschliste")
    sonne_wish.refresh_from_db()
    assert sonne_wish.wish_rank == 1

    # Staff create the round, look at the preview and confirm it.
    _as(context, client, world.caseworker, live_server)
    page.goto(f"{live_server.url}/admin/workpro/vergabe/neu/")
    page.fill("#id_title", "Krippe 2027")
    page.fill("#id_stichtag", timezone.localdate().isoformat())
    page.get_by_label("Krippe Sonne").check()
    page.get_by_label("Krippe Mond").check()
    page.get_by_role("button", name="Vorschau anzeigen").click()
    page.get_by_text("Vorschau: es ist noch nichts gespeichert.").wait_for()
    shots(page, "vorschau")
    page.get_by_role("button", name="Vergaberunde bestätigen").click()
    page.get_by_text("Vergaberunde bestätigt: 2 Plätze vergeben").wait_for()

    # The parent sees Krippe Mond as Kandidat and the waiting rank for Krippe Sonne, with the reason.
    _as(context, client, world.holder, live_server)
    page.goto(f"{live_server.url}/workpro/konto/")
    row = page.locator("tr", has_text="Krippe Sonne")
    assert "Platz 1 auf der Warteliste" in row.inner_text()
    assert "Kandidat" in page.locator("tr", has_text="Krippe Mond").inner_text()
    row.get_by_role("link", name="Krippe Sonne").click()
    panel = page.locator("#platzvergabe").inner_text()
    shots(page, "warteliste")
    assert "Platz 1 auf der Warteliste" in panel
    assert "die niedrigste aufgenommene Punktzahl war 10, Lena hatte 0 Punkte" in panel
