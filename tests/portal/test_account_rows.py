"""A row of Mein Konto's "Alle Verträge" shows what the contract read alone says (#22: the rows are read
with fewer columns and queries, the care facts partly as columns of the row query)."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from django.utils import timezone

import workpro_plugin
from tests.factories import enrollment_in, make_child
from tests.helpers import HOST
from workpro_plugin.models import EmergencyContact, Enrollment, PickupPerson
from workpro_plugin.services.minors import outstanding_care

pytestmark = pytest.mark.django_db
S = Enrollment.Status
CARE = ("nothing", "emergency_only", "pickup_only", "complete", "old_photo")


def _care(enrollment, state):
    if state in ("emergency_only", "complete", "old_photo"):
        EmergencyContact.objects.create(enrollment=enrollment, name="Oma", relation="Oma", phone="+4930123456")
    if state in ("pickup_only", "complete", "old_photo"):
        age = timedelta(days=3 * 366 if state == "old_photo" else 10)
        PickupPerson.objects.create(enrollment=enrollment, name="Tom", relation="Onkel", phone="+4930123457",
                                    photo="pickup/tom.jpg", photo_uploaded_at=timezone.now() - age)


def test_each_row_shows_status_institution_and_care_as_the_contract_alone(world, client):
    client.force_login(world.holder)
    expected = {}
    for status in S.values:
        for state in CARE:
            enrollment = enrollment_in(status, offer=world.offer, institution=world.kita, holder=world.holder,
                                       participant=make_child(world.holder))
            _care(enrollment, state)
            alone = Enrollment.objects.get(pk=enrollment.pk)
            expected[f"/workpro/konto/anmeldung/{alone.pk}/"] = (
                alone.get_status_display(), alone.institution.name, bool(outstanding_care(alone)))
    assert any(care for *_, care in expected.values()) and not all(care for *_, care in expected.values())
    shown, number = {}, 1
    while True:
        soup = BeautifulSoup(client.get(f"/workpro/konto/?seite={number}", **HOST).content, "html.parser")
        for row in soup.select("#contracts-heading ~ table tbody tr"):
            cells = row.select("td")
            shown[cells[0].a["href"]] = (cells[3].get_text(strip=True), cells[2].get_text(strip=True),
                                         "Notfallkontakt und Abholberechtigte eintragen" in cells[5].get_text())
        if not soup.select_one("#contracts-heading ~ nav.wp-pagination a:-soup-contains('Weiter')"):
            break
        number += 1
    assert shown == expected


def test_a_status_badge_does_not_break_inside_a_word():
    """The contracts table's narrow status column showed "Kandi|dat": the badge keeps its label on one line."""
    css = (Path(workpro_plugin.__file__).parent / "static/workpro_plugin/css/workpro.css").read_text()
    rule = re.search(r"^\.wp-status \{([^}]*)\}", css, re.MULTILINE)
    assert rule and "white-space: nowrap" in rule.group(1)
