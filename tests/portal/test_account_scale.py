"""Mein Konto grows with a family's contracts and wards only by pages: the query count per page is constant."""

from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import make_child, make_user
from workpro_plugin.models import Enrollment, Guardian, Person
from workpro_plugin.portal.views.enrollments import CONTRACTS_PER_PAGE, WARDS_PER_PAGE

pytestmark = pytest.mark.django_db
S = Enrollment.Status
STATUSES = [S.BEWERBER, S.ANGEBOT, S.RATIFIZIERT, S.ABGELEHNT]


def _contracts(world, count):
    child = make_child(world.holder, first_name="Mia")
    return Enrollment.objects.bulk_create([
        Enrollment(offer=world.offer, institution=world.kita, account_holder=world.holder, participant=child,
                   status=STATUSES[i % len(STATUSES)], contract_number=f"SCALE-{Enrollment.objects.count() + i}")
        for i in range(count)])


def _queries(client, url="/workpro/konto/"):
    client.get(url, HTTP_HOST="kita.test")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, HTTP_HOST="kita.test")
    assert response.status_code == 200
    return len(captured), BeautifulSoup(response.content, "html.parser")


def test_query_count_does_not_grow_with_the_contracts(world, client):
    client.force_login(world.holder)
    _contracts(world, CONTRACTS_PER_PAGE + 5)
    few, _ = _queries(client)
    _contracts(world, 3 * CONTRACTS_PER_PAGE)
    many, soup = _queries(client)
    assert many == few
    assert len(soup.select("#contracts-heading ~ table tbody tr")) == CONTRACTS_PER_PAGE


def test_contracts_are_paginated_newest_first_and_every_one_reachable(world, client):
    client.force_login(world.holder)
    _contracts(world, CONTRACTS_PER_PAGE + 3)
    seen = []
    for page in (1, 2):
        _, soup = _queries(client, f"/workpro/konto/?seite={page}")
        seen += [a["href"] for a in soup.select("#contracts-heading ~ table tbody tr td:first-child a")]
        assert f"Seite {page} von 2" in soup.select_one(".wp-pagination").get_text()
    newest_first = Enrollment.objects.filter(account_holder=world.holder).order_by("-created_at", "-pk")
    assert seen == [f"/workpro/konto/anmeldung/{pk}/" for pk in newest_first.values_list("pk", flat=True)]


def _wards(world, count):
    return [make_child(world.holder, first_name=f"Kind {i:02d}") for i in range(count)]


def _ward_names(soup):
    return [row.select_one("td").get_text(" ", strip=True).removesuffix(" (PSB1)")
            for row in soup.select("#wards-heading ~ table tbody tr")]


def test_the_wards_table_has_pages_and_every_ward_on_one_of_them(world, client):
    """A guardian of many (an Amtsvormund, a dormitory's families) sees the wards in pages of
    WARDS_PER_PAGE, with German links that keep the page of the contracts."""
    client.force_login(world.holder)
    _wards(world, WARDS_PER_PAGE + 4)
    _contracts(world, CONTRACTS_PER_PAGE + 1)  # and one more ward, Mia
    first, soup = _queries(client)
    nav = soup.select_one("#wards-heading ~ nav.wp-pagination")
    assert nav["aria-label"] == "Seiten: Meine Kinder und Teilnehmer"
    assert "Seite 1 von 2" in nav.get_text() and nav.select_one("a").get_text() == "Weiter"
    assert nav.select_one("a")["href"] == "?kinder=2#wards-heading"
    shown = _ward_names(soup)
    assert len(shown) == WARDS_PER_PAGE

    second, soup = _queries(client, "/workpro/konto/?seite=2&kinder=2")
    nav = soup.select_one("#wards-heading ~ nav.wp-pagination")
    assert "Seite 2 von 2" in nav.get_text() and nav.select_one("a").get_text() == "Zurück"
    assert nav.select_one("a")["href"] == "?seite=2&kinder=1#wards-heading"  # the contracts stay on page 2
    contracts_nav = soup.select_one("#contracts-heading ~ nav.wp-pagination")
    assert contracts_nav.select_one("a")["href"] == "?seite=1&kinder=2"  # and the wards on theirs
    shown += _ward_names(soup)
    wards = Guardian.objects.filter(guardian=world.holder.workpro_person).select_related("participant")
    assert len(wards) == WARDS_PER_PAGE + 5
    assert sorted(shown) == sorted(link.participant.full_name for link in wards)  # none lost, none twice
    assert second <= first  # a later page costs no more than the first (the last one is not counted)


def test_a_few_wards_have_no_page_links(world, client):
    client.force_login(world.holder)
    _wards(world, 2)
    _, soup = _queries(client)
    assert len(_ward_names(soup)) == 2 and soup.select(".wp-pagination") == []


def test_a_page_of_contracts_is_counted_from_its_keys(world, client):
    """Mein Konto reads the keys of the user's contracts (by the account holder's and the wards' index, no
    ORDER BY or LIMIT a planner could answer by walking every enrollment in date order), then a page's rows by
    id: no COUNT, and the pages still say how many there are, in the order of the contracts."""
    client.force_login(world.holder)
    made = _contracts(world, 2 * CONTRACTS_PER_PAGE + 1)
    client.get("/workpro/konto/?seite=2", HTTP_HOST="kita.test")
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/workpro/konto/?seite=2", HTTP_HOST="kita.test")
    reads = [query["sql"] for query in captured if query["sql"].startswith("SELECT")
             and 'FROM "workpro_plugin_enrollment"' in query["sql"] and "LIMIT" not in query["sql"]]
    assert not [sql for sql in reads if "COUNT(" in sql.split(" FROM ")[0]], reads
    keys = [sql for sql in reads if "ORDER BY" not in sql and " JOIN " not in sql.split(" WHERE ")[0]]
    assert keys, reads
    page = response.context["page"]
    assert page.paginator.num_pages == 3 and page.paginator.count == len(made)
    newest_first = sorted(made, key=lambda e: (e.created_at, e.pk), reverse=True)
    assert [e.pk for e in page.object_list] == [e.pk for e in newest_first[CONTRACTS_PER_PAGE:2 * CONTRACTS_PER_PAGE]]


def test_the_wards_table_costs_the_same_queries_for_2_and_20_wards(world, client):
    """The PortalScope reads the columns the wards table shows (portal_scope's WardRow): a ward's row reads
    nothing more, whatever it shows (a login of its own, the reason there is none, the end of access)."""
    client.force_login(world.holder)
    _wards(world, 2)
    few, _ = _queries(client)
    children = _wards(world, WARDS_PER_PAGE - 2)
    own = make_user("kind-mit-zugang@example.org", person=False)
    Person.objects.filter(pk=children[0].pk).update(user=own, date_of_birth=date(2008, 1, 1))
    Person.objects.filter(pk=children[1].pk).update(date_of_birth=None)  # no own login: no date of birth
    Guardian.objects.filter(participant=children[2]).update(access_ends_on=timezone.localdate() + timedelta(days=30))
    many, soup = _queries(client)
    assert many == few and len(_ward_names(soup)) == WARDS_PER_PAGE
    assert "kind-mit-zugang@example.org" in soup.select_one("#wards-heading ~ table").get_text()
