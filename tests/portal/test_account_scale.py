"""Mein Konto grows with a family's contracts only by pages: the query count per page is constant."""

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_child
from workpro_plugin.models import Enrollment
from workpro_plugin.portal.views.enrollments import CONTRACTS_PER_PAGE

pytestmark = pytest.mark.django_db
S = Enrollment.Status
STATUSES = [S.BEWERBER, S.ANGEBOT, S.RATIFIZIERT, S.ABGELEHNT]


def _contracts(world, count):
    child = make_child(world.holder, first_name="Mia")
    Enrollment.objects.bulk_create([
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
