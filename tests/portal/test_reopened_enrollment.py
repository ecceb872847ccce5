"""Mein Konto after the Leitung reopened an expired offer and extended the deadlines."""

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.utils import timezone
from django.utils.formats import date_format

from tests.factories import enrollment_in, make_child
from workpro_plugin.models import Enrollment
from workpro_plugin.services import enrollments as svc

pytestmark = pytest.mark.django_db
S = Enrollment.Status
TODAY = timezone.localdate()


def _text(client, url):
    response = client.get(url, HTTP_HOST="kita.test")
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def test_parent_sees_the_reopened_offer_with_the_new_deadlines(world, client):
    child = make_child(world.holder, first_name="Mia")
    expired = enrollment_in(S.ABGELAUFEN, offer=world.offer, institution=world.kita, holder=world.holder,
                            participant=child)
    Enrollment.objects.filter(pk=expired.pk).update(contract_start=TODAY + timedelta(days=5),
                                                    signed_copy_deadline=TODAY - timedelta(days=2))
    client.force_login(world.holder)
    before = _text(client, f"/workpro/konto/anmeldung/{expired.pk}/")
    assert "Abgelaufen" in before.select_one(".wp-status").get_text()

    offer_deadline, care_deadline = TODAY + timedelta(days=10), TODAY + timedelta(days=40)
    svc.enrollment_reopen(enrollment=expired, by=world.staff, reason="Die Post kam zu spät", deadline=offer_deadline)
    svc.enrollment_extend_deadline(enrollment=expired, by=world.staff, which="care", deadline=care_deadline,
                                   reason="Passfoto folgt")

    detail = _text(client, f"/workpro/konto/anmeldung/{expired.pk}/")
    assert "Angebot" in detail.select_one(".wp-status").get_text()
    facts = detail.select_one(".wp-facts-list").get_text(" ", strip=True)
    assert f"Frist {date_format(offer_deadline, 'DATE_FORMAT')}" in facts
    page = detail.get_text(" ", strip=True)
    assert f"bis {date_format(care_deadline, 'DATE_FORMAT')} eintragen" in page
    assert "Wieder geöffnet" in page and "Frist für Notfallkontakt und Abholberechtigte verlängert" in page
    overview = _text(client, "/workpro/konto/")
    row = overview.find("a", href=f"/workpro/konto/anmeldung/{expired.pk}/").find_parent("tr").get_text(" ", strip=True)
    assert f"bis {date_format(offer_deadline, 'DATE_FORMAT')}" in row
    assert f"bis {date_format(care_deadline, 'DATE_FORMAT')}" in row
