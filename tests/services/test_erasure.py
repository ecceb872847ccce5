"""Konto löschen (#20): erasure on request; what no retention duty keeps goes at once, the rest at its end."""

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.base import ContentFile
from django.utils import timezone

from tests.factories import enrollment_in, make_child, pdf_bytes
from workpro_plugin.models import Document, Enrollment, EnrollmentSection, Person, PrivacyLog
from workpro_plugin.services import accounts, privacy

pytestmark = pytest.mark.django_db
S = Enrollment.Status
User = get_user_model()
PASSWORD = "Sonnenblume-2026!"


@pytest.fixture
def holder(world):
    world.holder.set_password(PASSWORD)
    world.holder.save()
    Person.objects.filter(user=world.holder).update(mobile="+4915123456789", date_of_birth=date(1985, 4, 12))
    return world.holder


def _doc(enrollment, kind, title):
    return Document.objects.create(enrollment=enrollment, owner=enrollment.participant, kind=kind, title=title,
                                   file=ContentFile(pdf_bytes(), name=f"{kind}.pdf"))


def _ended_contract(world, holder, participant, *, ended_days_ago=30):
    enrollment = enrollment_in(S.RATIFIZIERT, offer=world.offer, institution=world.kita, holder=holder,
                               participant=participant)
    today = timezone.localdate()
    Enrollment.objects.filter(pk=enrollment.pk).update(
        contract_number="KITA-2020-00001", contract_start=today - timedelta(days=700),
        contract_end=today - timedelta(days=ended_days_ago), ratified_at=timezone.now() - timedelta(days=800))
    enrollment.refresh_from_db()
    return enrollment


def test_without_a_contract_everything_is_anonymised_at_once(world, holder, run_on_commit):
    interest = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=holder)
    _doc(interest, "application", "Anmeldung")
    with run_on_commit():
        result = accounts.account_request_erasure(user=holder)
    assert result["kept"] == []
    person = Person.objects.get(pk=holder.workpro_person.pk)
    assert person.anonymised_at is not None and person.last_name == privacy.ANONYMISED_NAME
    assert Enrollment.objects.get(pk=interest.pk).status == S.ZURUECKGEZOGEN
    assert not Document.objects.exists()
    user = User.objects.get(pk=holder.pk)
    assert not user.is_active and not user.has_usable_password()
    confirmation = mail.outbox[-1]
    assert confirmation.to == [world.holder.email] and "gelöscht" in confirmation.subject
    assert "Es wird nichts weiter aufbewahrt" in confirmation.body


def test_a_concluded_contract_is_kept_until_its_retention_ends_then_anonymised(world, holder, run_on_commit):
    child = make_child(holder, first_name="Lena", date_of_birth=date(2019, 5, 1))
    contract = _ended_contract(world, holder, child)
    kept_doc = _doc(contract, "contract", "Vertrag")
    other = enrollment_in(S.ABGELEHNT, offer=world.offer, institution=world.kita, holder=holder, participant=child)
    gone_doc = _doc(other, "application", "Anmeldung")
    EnrollmentSection.objects.update_or_create(enrollment=other, section="personal",
                                               defaults={"data": {"city": "Leipzig"}})
    EnrollmentSection.objects.update_or_create(enrollment=contract, section="income",
                                               defaults={"data": {"earners": [1]}})

    with run_on_commit():
        result = accounts.account_request_erasure(user=holder)
    until = contract.contract_end + timedelta(days=3653)
    assert [k.until for k in result["kept"]] == [until]
    assert "KITA-2020-00001" in result["kept"][0].what and "§ 147 AO" in result["kept"][0].why

    # At once: the login, mail address and mobile, what belongs to no contract.
    person = Person.objects.get(pk=holder.workpro_person.pk)
    assert person.anonymised_at is None and person.erasure_requested_at is not None
    assert (person.email, person.mobile) == ("", "")
    assert not User.objects.get(pk=holder.pk).is_active
    assert not Document.objects.filter(pk=gone_doc.pk).exists()
    assert EnrollmentSection.objects.get(enrollment=other, section="personal").data == {}
    # Kept: the contract, its documents and what it needs.
    assert Document.objects.filter(pk=kept_doc.pk).exists()
    assert EnrollmentSection.objects.get(enrollment=contract, section="income").data == {"earners": [1]}
    assert person.last_name == "Muster" and Person.objects.get(pk=child.pk).last_name == "Muster"
    assert PrivacyLog.objects.filter(person=person, action=privacy.ACTION_ERASURE_REQUESTED).exists()
    body = mail.outbox[-1].body
    assert "Noch aufbewahrt" in body and "KITA-2020-00001" in body and until.strftime("%d.%m.%Y") in body

    # The daily run: nothing before the end of the period, everything after it.
    privacy.apply_retention(today=until - timedelta(days=1))
    assert Person.objects.get(pk=person.pk).anonymised_at is None
    assert Document.objects.filter(pk=kept_doc.pk).exists()
    privacy.apply_retention(today=until)
    assert Person.objects.get(pk=person.pk).anonymised_at is not None
    assert Person.objects.get(pk=child.pk).anonymised_at is not None
    assert not Document.objects.filter(pk=kept_doc.pk).exists()


def test_a_running_contract_refuses_and_changes_nothing(world, holder, run_on_commit):
    child = make_child(holder, first_name="Lena")
    _ended_contract(world, holder, child, ended_days_ago=-100)  # ends in 100 days
    with pytest.raises(privacy.ErasureRefused, match="läuft noch"):
        accounts.account_request_erasure(user=holder)
    assert User.objects.get(pk=holder.pk).is_active
    assert Person.objects.get(pk=holder.workpro_person.pk).erasure_requested_at is None


def test_konto_loeschen_in_meine_daten_needs_the_password(client, world, holder, run_on_commit):
    client.force_login(holder)
    assert "Konto löschen" in client.get("/workpro/konto/daten/", HTTP_HOST="kita.test").content.decode()
    page = client.get("/workpro/konto/daten/loeschen/", HTTP_HOST="kita.test").content.decode()
    assert "Sofort gelöscht" in page
    wrong = client.post("/workpro/konto/daten/loeschen/", {"password": "falsch", "confirm": "on"},
                        HTTP_HOST="kita.test")
    assert wrong.status_code == 400 and "nicht korrekt" in wrong.content.decode()
    unconfirmed = client.post("/workpro/konto/daten/loeschen/", {"password": PASSWORD}, HTTP_HOST="kita.test")
    assert unconfirmed.status_code == 400
    assert User.objects.get(pk=holder.pk).is_active
    with run_on_commit():
        done = client.post("/workpro/konto/daten/loeschen/", {"password": PASSWORD, "confirm": "on"},
                           HTTP_HOST="kita.test")
    assert done.status_code == 302 and "_auth_user_id" not in client.session
    assert not User.objects.get(pk=holder.pk).is_active


def test_a_refused_erasure_says_why_on_the_page(client, world, holder):
    _ended_contract(world, holder, make_child(holder), ended_days_ago=-10)
    client.force_login(holder)
    response = client.post("/workpro/konto/daten/loeschen/", {"password": PASSWORD, "confirm": "on"},
                           HTTP_HOST="kita.test")
    assert response.status_code == 400 and "läuft noch" in response.content.decode()
