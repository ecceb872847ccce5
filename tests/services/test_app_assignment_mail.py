"""Anwendungen: assigning an app mails whoever accepts it, in their language, with the link to Mein Konto."""

import pytest
from django.core import mail

from tests.factories import enrollment_in, make_child, make_user
from workpro_plugin.models import App, Enrollment, OutboxMessage
from workpro_plugin.services import apps as svc

pytestmark = pytest.mark.django_db
S = Enrollment.Status


def _app(world, name="Lernplattform", **fields):
    return App.objects.create(institution=world.kita, name=name, description="Üben zu Hause",
                              launch_url="https://lernen.example.org/start", terms="Keine Weitergabe.", **fields)


def test_assigning_to_a_child_mails_the_account_holder_with_the_link(world, run_on_commit):
    child = make_child(world.holder, first_name="Mia")
    enrollment_in(S.RATIFIZIERT, offer=world.offer, institution=world.kita, holder=world.holder, participant=child)
    with run_on_commit():
        svc.app_assign(app=_app(world), by=world.caseworker, participant=child)
    [sent] = mail.outbox
    assert sent.to == ["eltern@example.org"]
    assert sent.subject == "Neue Anwendung für Mia Muster: Lernplattform"
    assert "Kita hat Mia Muster die Anwendung „Lernplattform“ zugewiesen." in sent.body
    assert "Üben zu Hause" in sent.body and "Mein Konto" in sent.body
    assert "http://kita.test/workpro/konto/anwendungen/" in sent.body
    html = sent.alternatives[0][0]
    assert 'href="http://kita.test/workpro/konto/anwendungen/"' in html and "Anwendung annehmen" in html


def test_the_mail_is_in_the_recipients_language(world, run_on_commit):
    person = world.holder.workpro_person
    person.language = "en"
    person.save(update_fields=["language"])
    enrollment_in(S.RATIFIZIERT, offer=world.offer, institution=world.kita, holder=world.holder)
    with run_on_commit():
        svc.app_assign(app=_app(world), by=world.caseworker, participant=person)
    [sent] = mail.outbox
    assert OutboxMessage.objects.get(template="app_assigned").language == "en"
    assert sent.subject == "New app for Eltern Muster: Lernplattform"
    assert "Kita has assigned the app “Lernplattform” to you." in sent.body
    assert "Accept the app" in sent.body and "Guten Tag" not in sent.body


def test_offer_assignment_mails_each_contract_once_and_nobody_else(world, run_on_commit):
    child = make_child(world.holder, first_name="Mia")
    enrollment_in(S.RATIFIZIERT, offer=world.offer, institution=world.kita, holder=world.holder, participant=child)
    enrollment_in(S.ANGENOMMEN, offer=world.offer, institution=world.kita, holder=world.holder)
    applicant = make_user("bewerber@example.org")
    enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=applicant)
    with run_on_commit():
        svc.app_assign(app=_app(world), by=world.caseworker, offer=world.offer)
    assert sorted(m.subject for m in mail.outbox) == [
        "Neue Anwendung für Eltern Muster: Lernplattform", "Neue Anwendung für Mia Muster: Lernplattform"]
    assert all(m.to == ["eltern@example.org"] for m in mail.outbox)


def test_refused_or_inactive_assignments_mail_nobody(world, run_on_commit):
    person = world.holder.workpro_person
    enrollment_in(S.RATIFIZIERT, offer=world.offer, institution=world.kita, holder=world.holder)
    app = _app(world)
    with run_on_commit():
        svc.app_assign(app=app, by=world.caseworker, participant=person)
        with pytest.raises(svc.AppError):
            svc.app_assign(app=app, by=world.caseworker, participant=person)
        with pytest.raises(svc.AppError):
            svc.app_assign(app=_app(world, "Bibliothek"), by=world.other_staff, participant=person)
        svc.app_assign(app=_app(world, "Info", is_active=False), by=world.caseworker, participant=person)
    assert len(mail.outbox) == 1
