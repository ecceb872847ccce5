"""DSGVO: consent records, the export of a person's data (portal and admin), retention and anonymisation."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.files.storage import storages
from django.test import TestCase
from django.utils import timezone

from tests.factories import complete_sections, enrollment_in, make_child, make_user, pdf_bytes
from workpro_plugin.models import Consent, Document, Enrollment, EnrollmentLog, Person, PrivacyLog
from workpro_plugin.services import enrollments as svc
from workpro_plugin.services import notify, privacy
from workpro_plugin.services.documents import deposit

pytestmark = pytest.mark.django_db
S = Enrollment.Status
User = get_user_model()


def _zip(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


# --- consent -------------------------------------------------------------------------------------

def test_registration_records_the_privacy_consent_with_text_version_time_and_ip(client, world, run_on_commit):
    data = {"last_name": "Muster", "first_name": "Erika", "email": "erika@example.org", "privacy": "on"}
    before = timezone.now()
    with run_on_commit():
        response = client.post(world.offer.relative_url(world.kita.site), data, HTTP_HOST="kita.test",
                               REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 302
    consent = Consent.objects.get()
    person = Person.objects.get(email="erika@example.org")
    assert (consent.person, consent.user, consent.kind, consent.subject) == (person, person.user, "privacy",
                                                                            "Krippenplatz")
    assert consent.text.startswith("Ich habe die Datenschutzhinweise gelesen")
    assert consent.version == privacy.consent_version(consent.text) and len(consent.version) == 64
    assert consent.ip == "203.0.113.7" and consent.given_at >= before and consent.withdrawn_at is None
    print(f"\nconsent recorded: kind={consent.kind} version={consent.version[:12]} ip={consent.ip}")


def test_registration_without_consent_records_none(client, world, run_on_commit):
    data = {"last_name": "Muster", "first_name": "Erika", "email": "erika@example.org"}
    with run_on_commit():
        response = client.post(world.offer.relative_url(world.kita.site), data, HTTP_HOST="kita.test")
    assert response.status_code == 400
    assert not Consent.objects.exists() and not Person.objects.filter(email="erika@example.org").exists()


def test_changed_consent_text_is_a_new_version_and_withdrawal_is_kept():
    first = privacy.consent_record(kind="privacy", text="Ich stimme zu.")
    second = privacy.consent_record(kind="privacy", text="Ich stimme  zu.\n")  # same words
    third = privacy.consent_record(kind="privacy", text="Ich stimme der neuen Fassung zu.")
    assert first.version == second.version != third.version
    privacy.consent_withdraw(consent=first)
    assert first.withdrawn_at is not None and not first.is_active
    assert Consent.objects.count() == 3


# --- export ---------------------------------------------------------------------------------------

@pytest.fixture
def family(world):
    """A parent (account holder, PSB1) with a child enrolled, a document, a pending mail with a secret."""
    child = make_child(world.holder, first_name="Lena")
    enrollment = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder,
                               participant=child)
    complete_sections(enrollment, phase=2, income=41000)
    svc.log(enrollment, action="printed", by=world.holder, note="Druck")
    document = deposit(kind="application", title="Anmeldung Lena", content=pdf_bytes(2), enrollment=enrollment,
                       by=world.holder)
    notify.queue_mail(to=world.holder.email, template="registration_welcome", person=world.holder.workpro_person,
                      secret_keys=("password",), context={"first_name": "Eva", "offer_title": "Krippenplatz",
                                                          "password": "geheim-1234-abcd"})
    privacy.consent_record(kind="privacy", text="Ich stimme zu.", person=world.holder.workpro_person, ip="198.51.100.1")
    return child, enrollment, document


def test_export_holds_person_guardianships_enrollments_documents_messages_consents(world, family):
    child, enrollment, document = family
    holder = world.holder.workpro_person
    data = privacy.person_export_data(holder)
    assert data["person"]["email"] == "eltern@example.org" and data["person"]["account"]["email"] == "eltern@example.org"
    assert [w["name"] for w in data["wards"]] == ["Lena Muster"]
    [exported] = data["enrollments"]
    assert (exported["contract_number"], exported["status"], exported["participant"]) == (
        enrollment.contract_number, "bewerber", "Lena Muster")
    assert exported["sections"]["income"]["complete"] is True
    assert exported["sections"]["income"]["data"]["earners"][0]["annual_income"] == "41000"
    assert [e["action"] for e in exported["log"]] == ["workpro.enrollment.printed"]
    assert [d["id"] for d in data["documents"]] == [document.pk]
    [message] = data["messages"]
    assert message["template"] == "registration_welcome" and "password" not in message["data"]
    assert "geheim-1234-abcd" not in json.dumps(data, default=str)
    assert [(c["kind"], c["ip"]) for c in data["consents"]] == [("privacy", "198.51.100.1")]

    child_data = privacy.person_export_data(child)
    assert child_data["guardians"][0]["is_primary"] is True and child_data["messages"] == []
    assert [d["id"] for d in child_data["documents"]] == [document.pk]


def test_other_modules_register_exporters_and_erasers(world, family):
    child, _enrollment, _document = family
    calls = []
    # A name of its own: the real modules' registrations (chat, care_contacts ...) must survive this test.
    privacy.register_exporter("extra", lambda person: [{"text": f"Hallo von {person.first_name}"}])
    privacy.register_eraser("extra", lambda person: calls.append(person.pk) or 1)
    try:
        assert privacy.person_export_data(child)["extra"] == [{"text": "Hallo von Lena"}]
        figures = privacy.person_anonymise(person=child)
        assert calls == [child.pk] and figures["extra"] == 1
    finally:
        privacy._exporters.pop("extra")
        privacy._erasers.pop("extra")


def test_portal_export_of_own_data_and_of_a_ward(client, world, family):
    child, _enrollment, document = family
    client.force_login(world.holder)
    page = client.get("/workpro/konto/daten/", HTTP_HOST="kita.test")
    html = page.content.decode()
    assert "Meine Daten herunterladen" in html and "Daten von Lena Muster herunterladen" in html

    own = client.post("/workpro/konto/daten/herunterladen/", {"person": world.holder.workpro_person.pk},
                      HTTP_HOST="kita.test")
    assert own.status_code == 200 and own["Content-Type"] == "application/zip"
    assert own["Cache-Control"] == "private, no-store"
    archive = _zip(own)
    data = json.loads(archive.read("data.json"))
    assert data["person"]["last_name"] == "Muster"
    files = [n for n in archive.namelist() if n.startswith("dokumente/")]
    assert files == [f"dokumente/{document.pk}-{document.filename}"]
    assert archive.read(files[0]) == document.file.open("rb").read()

    ward = client.post("/workpro/konto/daten/herunterladen/", {"person": child.pk}, HTTP_HOST="kita.test")
    assert json.loads(_zip(ward).read("data.json"))["person"]["first_name"] == "Lena"
    entries = PrivacyLog.objects.filter(action=privacy.ACTION_EXPORTED).order_by("pk")
    assert [(e.person, e.by, e.figures["via"], e.figures["documents"]) for e in entries] == [
        (world.holder.workpro_person, world.holder, "portal", 1), (child, world.holder, "portal", 1)]
    print(f"\nportal export: own {entries[0].figures['bytes']} bytes, ward {entries[1].figures['bytes']} bytes, "
          f"{entries[0].figures['documents']} document each")


@pytest.mark.parametrize("whose", ["stranger", "stranger_child", "nobody", "garbage"])
def test_portal_export_of_anyone_else_is_404(client, world, family, whose):
    other_child = make_child(world.stranger, first_name="Fremd")
    person = {"stranger": world.stranger.workpro_person.pk, "stranger_child": other_child.pk,
              "nobody": 999999, "garbage": "x"}[whose]
    client.force_login(world.holder)
    response = client.post("/workpro/konto/daten/herunterladen/", {"person": person}, HTTP_HOST="kita.test")
    assert response.status_code == 404
    assert not PrivacyLog.objects.exists()


def test_portal_export_needs_post_and_login(client, world, family):
    url = "/workpro/konto/daten/herunterladen/"
    assert client.post(url, {"person": world.holder.workpro_person.pk}).status_code == 302  # to login
    client.force_login(world.holder)
    assert client.get(url, HTTP_HOST="kita.test").status_code == 405


def test_admin_export_for_staff_of_the_institution_and_superusers(client, world, family):
    child, _enrollment, document = family
    url = f"/admin/workpro/person/{child.pk}/daten-export/"
    inspect = f"/admin/workpro_plugin/person/inspect/{child.pk}/"
    for user, expected in [(world.staff, 200), (world.caseworker, 200), (world.superuser, 200),
                           (world.other_staff, 404), (world.holder, 302)]:  # the holder: to the admin login
        client.force_login(user)
        response = client.post(url)
        assert response.status_code == expected, user
        if expected == 200:
            archive = _zip(response)
            assert json.loads(archive.read("data.json"))["person"]["first_name"] == "Lena"
            assert f"dokumente/{document.pk}-{document.filename}" in archive.namelist()
    client.force_login(world.staff)
    page = client.get(inspect)
    assert page.status_code == 200 and "Alle Daten exportieren (ZIP)" in page.content.decode()
    assert "Daten exportiert" in page.content.decode()
    assert client.get(url).status_code == 405
    entries = PrivacyLog.objects.filter(person=child, action=privacy.ACTION_EXPORTED)
    assert sorted(e.by.email for e in entries) == sorted(
        [world.staff.email, world.caseworker.email, world.superuser.email])
    assert {e.figures["via"] for e in entries} == {"admin"}


# --- retention and anonymisation -------------------------------------------------------------------

@pytest.fixture
def closed_cases(world):
    """One applicant rejected today; one contract ratified today that runs for 400 days."""
    rejected_user = make_user("abgelehnt@example.org", mobile="+4915111111111", street="Weg 1", city="Leipzig")
    rejected = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=rejected_user)
    deposit(kind="application", title="Anmeldung", content=pdf_bytes(), enrollment=rejected, by=rejected_user)
    svc.enrollment_decide(enrollment=rejected, by=world.staff, accept=False, basis="no_interview", reason="voll")
    contract_user = make_user("vertrag@example.org")
    contract = enrollment_in(S.ANGENOMMEN, offer=world.offer, institution=world.kita, holder=contract_user)
    with TestCase.captureOnCommitCallbacks(execute=True):  # countersigned after commit
        svc.enrollment_ratify(enrollment=contract, by=world.staff)
    contract.refresh_from_db()
    return rejected_user.workpro_person, contract_user.workpro_person, contract


def _files(person_or_enrollment_docs) -> list[str]:
    return [d.file.name for d in person_or_enrollment_docs]


def test_retention_deletes_documents_and_anonymises_people_once(world, closed_cases, client, run_on_commit):
    rejected, contracted, contract = closed_cases
    rejected_files = _files(Document.objects.filter(enrollment__participant=rejected))
    contract_files = _files(Document.objects.filter(enrollment=contract))
    assert len(rejected_files) == 1 and len(contract_files) == 2  # signed copy and ratified contract
    storage = storages["private"]
    today = timezone.localdate()
    # Bystanders: world's holder and stranger have no enrollment (they count from their creation);
    # an open application is never due.
    open_user = make_user("offen@example.org")
    enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=open_user)

    assert privacy.apply_retention() == {"documents_deleted": 0, "persons_anonymised": 0,
                                         "person_documents_deleted": 0, "access_log_deleted": 0, "login_changes_deleted": 0}

    with time_machine.travel(timezone.now() + timedelta(days=184)), run_on_commit():  # files go after commit
        figures = privacy.apply_retention()
        again = privacy.apply_retention()
    print(f"\nretention after 184 days: {figures}; second run: {again}")
    assert figures == {"documents_deleted": 1, "persons_anonymised": 3, "person_documents_deleted": 0,
                       "access_log_deleted": 0, "login_changes_deleted": 0}
    assert again == {"documents_deleted": 0, "persons_anonymised": 0, "person_documents_deleted": 0,
                     "access_log_deleted": 0, "login_changes_deleted": 0}
    assert not any(storage.exists(name) for name in rejected_files)
    assert all(storage.exists(name) for name in contract_files)
    anonymised = set(Person.objects.exclude(anonymised_at=None).values_list("pk", flat=True))
    assert anonymised == {rejected.pk, world.holder.workpro_person.pk, world.stranger.workpro_person.pk}

    rejected.refresh_from_db()
    assert (rejected.last_name, rejected.first_name, rejected.date_of_birth, rejected.email, rejected.mobile,
            rejected.street, rejected.city, rejected.customer_number) == ("Anonymisiert", "", None, "", "", "", "",
                                                                          None)
    user = User.objects.get(pk=rejected.user_id)
    assert (user.is_active, user.email, user.has_usable_password()) == (False, "", False)
    assert "abgelehnt@example.org" not in user.username
    enrollment = Enrollment.objects.get(participant=rejected)
    assert enrollment.status == S.ABGELEHNT and enrollment.decision_reason == ""
    assert not EnrollmentLog.objects.filter(enrollment=enrollment).exclude(note="").exists()
    assert not enrollment.sections.exclude(data={}).exists()
    assert PrivacyLog.objects.filter(action=privacy.ACTION_ANONYMISED).count() == 3
    assert PrivacyLog.objects.filter(action=privacy.ACTION_RETENTION).count() == 1  # the empty second run logs nothing

    # The contract: 10 years after its end.
    contract_end = contract.contract_end
    assert contract_end == today + timedelta(days=400)
    with time_machine.travel(timezone.now() + timedelta(days=400 + 3650)):
        assert privacy.apply_retention()["persons_anonymised"] == 0
    with time_machine.travel(timezone.now() + timedelta(days=400 + 3654)), run_on_commit():
        late = privacy.apply_retention()
    print(f"retention 10 years after the contract end: {late}")
    assert late == {"documents_deleted": 2, "persons_anonymised": 1, "person_documents_deleted": 0,
                    "access_log_deleted": 0, "login_changes_deleted": 0}
    assert not any(storage.exists(name) for name in contract_files)
    contracted.refresh_from_db()
    assert contracted.anonymised_at is not None
    assert Person.objects.filter(user__email="offen@example.org", anonymised_at=None).exists()


def test_a_guardian_stays_while_the_ward_has_an_open_enrollment(world):
    child = make_child(world.holder)
    enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder, participant=child)
    with time_machine.travel(timezone.now() + timedelta(days=3000)):
        assert privacy.person_due_on(world.holder.workpro_person) is None
        assert privacy.person_due_on(child) is None
        privacy.apply_retention()
    assert Person.objects.filter(pk__in=[world.holder.workpro_person.pk, child.pk], anonymised_at=None).count() == 2


def test_an_interest_never_pursued_ends_after_two_years(world):
    user = make_user("interesse@example.org")
    Enrollment.objects.create(offer=world.offer, institution=world.kita, account_holder=user)
    with time_machine.travel(timezone.now() + timedelta(days=700)):
        assert privacy.apply_retention()["persons_anonymised"] == 2  # world's holder and stranger
    with time_machine.travel(timezone.now() + timedelta(days=730 + 184)):
        assert privacy.apply_retention()["persons_anonymised"] == 1
    assert Person.objects.get(user=user).anonymised_at is not None


def test_staff_accounts_are_never_anonymised(world):
    staff_person = Person.objects.create(user=world.staff, last_name="Leitung", first_name="Kita")
    with time_machine.travel(timezone.now() + timedelta(days=5000)):
        privacy.apply_retention()
    staff_person.refresh_from_db()
    assert staff_person.anonymised_at is None and User.objects.get(pk=world.staff.pk).is_active


def test_retention_days_come_from_settings(world, closed_cases, settings):
    settings.WORKPRO_RETENTION_DAYS = {"application": 10, "person": 20}  # the other kinds keep their defaults
    rejected, _contracted, _contract = closed_cases
    with time_machine.travel(timezone.now() + timedelta(days=11)):
        assert privacy.apply_retention()["documents_deleted"] == 1
        assert Person.objects.get(pk=rejected.pk).anonymised_at is None
    with time_machine.travel(timezone.now() + timedelta(days=21)):
        assert privacy.apply_retention()["persons_anonymised"] == 3


def test_daily_retention_schedule_exists():
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="workpro-privacy-retention")
    assert (schedule.func, schedule.schedule_type, schedule.repeats) == (
        "workpro_plugin.tasks.apply_retention_task", "D", -1)
