"""Ratifizieren checks the signatures (#19): a scanned upload needs each signature confirmed by staff,
by name; a digitally signed upload says who signed it."""

import pytest

from tests.factories import enrollment_in, make_child
from workpro_plugin.models import Document, Enrollment, Guardian, Person

pytestmark = pytest.mark.django_db
S = Enrollment.Status


def _url(enrollment):
    return f"/admin/workpro/anmeldung/{enrollment.pk}/ratifizieren/"


def test_a_scan_needs_every_guardians_signature_confirmed(world, client):
    child = make_child(world.holder, first_name="Mia")
    father = Person.objects.create(first_name="Uwe", last_name="Muster")
    Guardian.objects.create(participant=child, guardian=father, relation="vater")
    enrollment = enrollment_in(S.ANGENOMMEN, offer=world.offer, institution=world.kita, holder=world.holder,
                               participant=child)
    client.force_login(world.staff)
    page = client.get(_url(enrollment)).content.decode()
    assert "Unterschrift von Eltern Muster ist vorhanden." in page and "Unterschrift von Uwe Muster" in page
    refused = client.post(_url(enrollment), {"confirm": "on", "signature_0": "on"})
    assert refused.status_code == 400
    assert "Bitte prüfen Sie die Unterschrift von Uwe Muster" in refused.content.decode()
    enrollment.refresh_from_db()
    assert enrollment.status == S.ANGENOMMEN
    client.post(_url(enrollment), {"confirm": "on", "signature_0": "on", "signature_1": "on"})
    enrollment.refresh_from_db()
    assert enrollment.status == S.RATIFIZIERT


def test_a_digitally_signed_upload_names_its_signer_and_needs_no_ticks(world, client):
    enrollment = enrollment_in(S.ANGENOMMEN, offer=world.offer, institution=world.kita, holder=world.holder)
    Document.objects.filter(enrollment=enrollment, kind="signed_contract").update(signatures=[
        {"field": "Signature1", "name": "", "signer": "Eltern Muster", "intact": True, "valid": True,
         "trusted": False, "signed_at": "2026-11-29T10:00:00+00:00"},
        {"field": "WorkPro-Angebot", "name": "Leitung", "signer": "Kita", "intact": True, "valid": True,
         "trusted": True, "signed_at": "2026-11-28T10:00:00+00:00"}])
    client.force_login(world.staff)
    page = client.get(_url(enrollment)).content.decode()
    assert "gültige digitale Unterschrift von Eltern Muster" in page and "signature_0" not in page
    client.post(_url(enrollment), {"confirm": "on"})
    enrollment.refresh_from_db()
    assert enrollment.status == S.RATIFIZIERT
