"""The admin's decide form before the interview, and the Leitung's "Wieder öffnen" and "Frist verlängern"."""

from datetime import datetime, timedelta

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.core import mail
from django.utils import timezone

from tests.factories import enrollment_in
from workpro_plugin.models import Enrollment

pytestmark = pytest.mark.django_db
S = Enrollment.Status
TODAY = timezone.localdate()


def _inspect(e):
    return f"/admin/workpro_plugin/enrollment/inspect/{e.pk}/"


def _action(e, slug):
    return f"/admin/workpro/anmeldung/{e.pk}/{slug}/"


def _buttons(client, enrollment):
    soup = BeautifulSoup(client.get(_inspect(enrollment)).content, "html.parser")
    return [a.get_text(strip=True) for a in soup.select('a[href*="/admin/workpro/anmeldung/"]')]


def _field_errors(response, name):
    soup = BeautifulSoup(response.content, "html.parser")
    field = soup.select_one(f'[name="{name}"]')
    wrapper = field.find_parent(attrs={"data-field-wrapper": True}) or field.find_parent("li")
    return wrapper.get_text(" ", strip=True)


def test_decide_form_before_the_interview_offers_only_without_interview(world, client):
    """29 November, interview on 5 December: no-show cannot be chosen, and a forged post is refused."""
    with time_machine.travel(timezone.make_aware(datetime(2026, 11, 20, 9, 0)), tick=False):
        enrollment = enrollment_in(S.EINGELADEN, offer=world.offer, institution=world.kita, holder=world.holder)
    Enrollment.objects.filter(pk=enrollment.pk).update(interview_at=timezone.make_aware(datetime(2026, 12, 5, 10)))
    client.force_login(world.caseworker)
    with time_machine.travel(timezone.make_aware(datetime(2026, 11, 29, 15, 0)), tick=False):
        page = client.get(_action(enrollment, "entscheiden"))
        soup = BeautifulSoup(page.content, "html.parser")
        disabled = {i["value"] for i in soup.select("input[name=basis][disabled]")}
        assert disabled == {"attended", "no_show"}
        assert soup.select_one("input[name=basis][value=no_interview]:checked") is not None
        assert "erst nach dem Gesprächstermin" in page.content.decode()
        forged = client.post(_action(enrollment, "entscheiden"),
                             {"decision": "abgelehnt", "basis": "no_show", "reason": "nicht erschienen"})
    assert forged.status_code == 400
    assert "erst nach dem Gesprächstermin" in _field_errors(forged, "basis")
    assert "nicht erschienen" in forged.content.decode()  # what was typed is kept
    enrollment.refresh_from_db()
    assert enrollment.status == S.EINGELADEN and not mail.outbox
    with time_machine.travel(timezone.make_aware(datetime(2026, 12, 5, 11, 0)), tick=False):
        client.force_login(world.caseworker)  # a staff session does not last six days
        page = client.get(_action(enrollment, "entscheiden"))
        assert not BeautifulSoup(page.content, "html.parser").select("input[name=basis][disabled]")
        done = client.post(_action(enrollment, "entscheiden"),
                           {"decision": "abgelehnt", "basis": "no_show", "reason": "nicht erschienen"})
    assert done.status_code == 302 and done["Location"] == _inspect(enrollment)
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.decision_basis) == (S.ABGELEHNT, "no_show")


def test_leitung_sees_the_buttons_sachbearbeitung_does_not(world, client):
    rejected = enrollment_in(S.ABGELEHNT, offer=world.offer, institution=world.kita, holder=world.holder)
    offer = enrollment_in(S.ANGEBOT, offer=world.offer, institution=world.kita, holder=world.holder)
    client.force_login(world.staff)
    assert "Wieder öffnen" in _buttons(client, rejected) and "Frist verlängern" not in _buttons(client, rejected)
    assert "Frist verlängern" in _buttons(client, offer) and "Wieder öffnen" not in _buttons(client, offer)
    client.force_login(world.caseworker)
    assert "Wieder öffnen" not in _buttons(client, rejected)
    assert "Frist verlängern" not in _buttons(client, offer)
    for enrollment, slug in ((rejected, "wieder-oeffnen"), (offer, "frist-verlaengern")):
        response = client.post(_action(enrollment, slug), {"reason": "x", "which": "offer",
                                                           "deadline": (TODAY + timedelta(days=3)).isoformat()})
        assert response.status_code in (302, 403) and response.get("Location", "") != _inspect(enrollment)
    rejected.refresh_from_db()
    offer.refresh_from_db()
    assert rejected.status == S.ABGELEHNT and offer.signed_copy_deadline == TODAY + timedelta(days=7)


def test_other_institution_gets_404(world, client):
    rejected = enrollment_in(S.ABGELEHNT, offer=world.offer, institution=world.kita, holder=world.holder)
    client.force_login(world.other_staff)
    for slug in ("wieder-oeffnen", "frist-verlaengern"):
        assert client.get(_action(rejected, slug)).status_code == 404
        assert client.post(_action(rejected, slug), {"reason": "x"}).status_code == 404
    rejected.refresh_from_db()
    assert rejected.status == S.ABGELEHNT


def test_reopen_form_needs_a_reason_and_for_an_expired_offer_a_future_deadline(world, client, run_on_commit):
    expired = enrollment_in(S.ABGELAUFEN, offer=world.offer, institution=world.kita, holder=world.holder)
    client.force_login(world.staff)
    page = client.get(_action(expired, "wieder-oeffnen"))
    assert page.status_code == 200 and page.context["form"].fields["deadline"].required
    empty = client.post(_action(expired, "wieder-oeffnen"), {"reason": "", "deadline": ""})
    assert empty.status_code == 400
    assert "Bitte geben Sie einen Grund an." in _field_errors(empty, "reason")
    assert "Bitte geben Sie eine neue Frist an." in _field_errors(empty, "deadline")
    past = client.post(_action(expired, "wieder-oeffnen"),
                       {"reason": "Urlaub", "deadline": (TODAY - timedelta(days=1)).isoformat()})
    assert past.status_code == 400 and "Vergangenheit" in _field_errors(past, "deadline")
    new = TODAY + timedelta(days=10)
    with run_on_commit():
        done = client.post(_action(expired, "wieder-oeffnen"), {"reason": "Urlaub", "deadline": new.isoformat()})
    assert done.status_code == 302 and done["Location"] == _inspect(expired)
    expired.refresh_from_db()
    assert (expired.status, expired.signed_copy_deadline) == (S.ANGEBOT, new)
    assert mail.outbox[-1].subject == "Angebot wieder geöffnet: Krippenplatz"
    text = BeautifulSoup(client.get(_inspect(expired)).content, "html.parser").get_text(" ", strip=True)
    assert "Wieder geöffnet" in text and "Urlaub" in text


def test_reopen_a_rejection_has_no_deadline_field(world, client):
    rejected = enrollment_in(S.ABGELEHNT, offer=world.offer, institution=world.kita, holder=world.holder)
    client.force_login(world.staff)
    assert "deadline" not in client.get(_action(rejected, "wieder-oeffnen")).context["form"].fields
    assert client.post(_action(rejected, "wieder-oeffnen"), {"reason": "Platz frei"}).status_code == 302
    rejected.refresh_from_db()
    assert rejected.status == S.BEWERBER


def test_extend_form_lists_the_enrollments_deadlines_and_extends_one(world, client, run_on_commit):
    offer = enrollment_in(S.ANGEBOT, offer=world.offer, institution=world.kita, holder=world.holder)
    client.force_login(world.staff)
    form = client.get(_action(offer, "frist-verlaengern")).context["form"]
    assert [value for value, _label in form.fields["which"].choices] == ["offer", "care"]
    refused = client.post(_action(offer, "frist-verlaengern"),
                          {"which": "proof", "deadline": (TODAY + timedelta(days=3)).isoformat(), "reason": "x"})
    assert refused.status_code == 400  # no income proof is open: not a choice
    missing = client.post(_action(offer, "frist-verlaengern"), {"which": "offer", "deadline": "", "reason": ""})
    assert missing.status_code == 400 and "Bitte geben Sie einen Grund an." in _field_errors(missing, "reason")
    new = TODAY + timedelta(days=20)
    with run_on_commit():
        done = client.post(_action(offer, "frist-verlaengern"),
                           {"which": "offer", "deadline": new.isoformat(), "reason": "Eltern im Urlaub"})
    assert done.status_code == 302
    offer.refresh_from_db()
    assert offer.signed_copy_deadline == new
    assert mail.outbox[-1].subject == "Frist verlängert: Krippenplatz"
    text = BeautifulSoup(client.get(_inspect(offer)).content, "html.parser").get_text(" ", strip=True)
    assert "Frist für das unterschriebene Angebot verlängert" in text and "Eltern im Urlaub" in text
