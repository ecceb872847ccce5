"""Mein Konto shows who digitally signed a document, when, and whether the signature holds."""

from datetime import timedelta
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup
from django.test import TestCase
from django.utils import timezone

from tests.factories import enrollment_in, give_signing_key
from tests.helpers import HOST
from workpro_plugin.models import Enrollment
from workpro_plugin.services import enrollments as svc

pytestmark = pytest.mark.django_db
S = Enrollment.Status
TODAY = timezone.localdate()


def _offer(world):
    enrollment = enrollment_in(S.EINGESTUFT, offer=world.offer, institution=world.kita, holder=world.holder)
    with TestCase.captureOnCommitCallbacks(execute=True):  # the Angebot is rendered after commit
        svc.enrollment_make_offer(enrollment=enrollment, by=world.staff, costs=Decimal("100"),
                                  contract_start=TODAY + timedelta(days=30), contract_end=TODAY + timedelta(days=365))
    return enrollment


def _pages(client, enrollment) -> list[str]:
    return [BeautifulSoup(client.get(url, **HOST).content, "html.parser").get_text(" ", strip=True)
            for url in ("/workpro/konto/dokumente/", f"/workpro/konto/anmeldung/{enrollment.pk}/")]


def test_a_signed_angebot_shows_signer_date_and_verdict(world, client, settings, monkeypatch, tmp_path):
    give_signing_key(world.kita, settings=settings, monkeypatch=monkeypatch, tmp_path=tmp_path)
    enrollment = _offer(world)
    client.force_login(world.holder)
    for text in _pages(client, enrollment):
        assert f"digital unterschrieben von leitung@kita.test, Einrichtungsleitung ({world.kita.name}) am " \
               f"{TODAY:%d.%m.%Y}" in text
        assert "Signatur gültig" in text and "nicht digital unterschrieben" not in text


def test_a_broken_signature_and_an_unsigned_angebot_are_said_plainly(world, client):
    enrollment = _offer(world)  # no key: unsigned
    client.force_login(world.holder)
    for text in _pages(client, enrollment):
        assert "nicht digital unterschrieben" in text and "Signatur gültig" not in text
    document = enrollment.documents.get(kind="contract_offer")
    document.signatures = [{"name": "Lea Leitner, Einrichtungsleitung", "signer": "Kita", "intact": False,
                            "valid": False, "trusted": True, "bottom_line": False,
                            "signed_at": timezone.now().isoformat()}]
    document.save()
    for text in _pages(client, enrollment):
        assert "Signatur ungültig: das Dokument wurde nach dem Unterschreiben verändert" in text
