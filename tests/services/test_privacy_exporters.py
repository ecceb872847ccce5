"""DSGVO completeness: what the later features store (Notfallkontakt and Abholberechtigte, chat,
add-on bookings, apps, audit events, coming of age) is in a person's export and is erased or
blanked when the person is anonymised; a second family's data never leaks into an export."""

import io
import json
import os
import subprocess
import sys
import zipfile
from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
import time_machine
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.serializers.json import DjangoJSONEncoder
from django.test import RequestFactory
from django.utils import timezone
from PIL import Image

from tests.factories import enrollment_in, make_child, pdf_bytes
from workpro_plugin.models import (
    AddonBooking,
    App,
    AppAcceptance,
    AppAssignment,
    AuditAction,
    AuditEvent,
    Conversation,
    Document,
    EmergencyContact,
    Enrollment,
    Guardian,
    Message,
    PickupPerson,
    PrivacyLog,
)
from workpro_plugin.services import addons, apps, audit, chat, documents, minors, privacy

pytestmark = pytest.mark.django_db
S = Enrollment.Status
TODAY = timezone.localdate()
SECTIONS = ("addon_bookings", "apps", "audit", "care_contacts", "chat")


def jpeg(size=(400, 500), colour=(200, 120, 90)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def dumped(data) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)


@pytest.fixture
def shared(world, make_offer):
    """What both families use: the add-on "Ferienbetreuung" of the offer and two apps of the KiTa."""
    addon = make_offer(world.kita, "Ferienbetreuung", is_addon=True)
    addon.addon_for.add(world.offer)
    addon.save()
    platform = App.objects.create(institution=world.kita, name="Lernplattform", description="Lernen",
                                  launch_url="https://lernen.example.org/", terms="1. Nur für Teilnehmer.")
    library = App.objects.create(institution=world.kita, name="Bibliothek", description="Bücher",
                                 launch_url="https://buch.example.org/", terms="1. Pfleglich behandeln.")
    apps.app_assign(app=platform, by=world.caseworker, offer=world.offer)
    return SimpleNamespace(addon=addon, platform=platform, library=library)


def build_family(world, shared, holder, marker: str):
    """A parent with a four-year-old on a ratified contract and everything personal the features add,
    each text carrying `marker` so a leak into another export is visible."""
    child = make_child(holder, first_name=f"Kind{marker}", date_of_birth=TODAY - timedelta(days=4 * 365))
    contract = enrollment_in(S.RATIFIZIERT, offer=world.offer, institution=world.kita, holder=holder,
                             participant=child)
    Enrollment.objects.filter(pk=contract.pk).update(
        contract_number=f"KITA-{marker}", contract_start=TODAY + timedelta(days=10),
        contract_end=TODAY + timedelta(days=400))
    contract.refresh_from_db()

    emergency = minors.care_save_emergency(enrollment=contract, by=holder, name=f"Oma {marker}",
                                           relation="Großmutter", phone="+4930111111")
    photo = jpeg(colour=(len(marker) * 20 % 255, 90, 60))
    pickup = minors.care_save_pickup(enrollment=contract, by=holder, name=f"Onkel {marker}", relation="Onkel",
                                      phone="+4930222222", photo_content=photo)

    conversation = chat.conversation_for_enrollment(enrollment=contract, by=holder)
    first = chat.message_post(conversation=conversation, by=holder, body="Erste Fassung",
                              upload=SimpleUploadedFile("befund.pdf", pdf_bytes()), as_staff=False)
    chat.message_edit(message=first, by=holder, body=f"Allergie {marker}")
    hidden = chat.message_post(conversation=conversation, by=holder, body=f"Beschwerde {marker}", as_staff=False)
    chat.message_hide(message=hidden, by=world.staff, reason=f"Ton {marker}")
    chat.message_post(conversation=conversation, by=world.caseworker, body=f"Antwort {marker}", as_staff=True)
    question = chat.conversation_start_for_offer(offer=world.offer, by=holder, body=f"Frage {marker}")

    booking = addons.addon_book(enrollment=contract, addon=shared.addon, by=holder,
                                starts_on=TODAY + timedelta(days=12), ends_on=TODAY + timedelta(days=16),
                                consent=True, note=f"Notiz {marker}")
    addons.addon_confirm(booking=booking, by=world.caseworker, cost=Decimal("40.00"), cost_reason="Pauschale")
    booking.refresh_from_db()
    documents.render_document(booking.confirmation_id)  # the render task, run after commit

    apps.app_accept(app=shared.platform, person=child, by=holder, terms_sha256=shared.platform.terms_sha256)
    direct = apps.app_assign(app=shared.library, by=world.caseworker, participant=child)
    apps.app_revoke(assignment=direct, by=world.caseworker, reason=f"Entzug {marker}")

    factory = RequestFactory()
    audit.record(AuditAction.LOGIN, actor=holder, request=factory.post("/", REMOTE_ADDR="198.51.100.7"))
    audit.record(AuditAction.LOGIN_FAILED, actor_label=holder.email,
                 request=factory.post("/", REMOTE_ADDR="203.0.113.66"))
    audit.record(AuditAction.PERSON_VIEWED, request=_staff_request(factory, world.staff), obj=contract,
                 person=child)
    return SimpleNamespace(holder=holder, parent=holder.workpro_person, child=child, contract=contract,
                           emergency=emergency, pickup=pickup, photo=photo, conversation=conversation,
                           question=question.conversation, first=first, hidden=hidden, booking=booking,
                           direct=direct, marker=marker)


def _staff_request(factory, user):
    request = factory.get("/admin/", REMOTE_ADDR="192.0.2.10")
    request.user = user
    return request


@pytest.fixture
def families(world, shared):
    ours = build_family(world, shared, world.holder, "Sonne")
    theirs = build_family(world, shared, world.stranger, "Mond")
    return ours, theirs


# --- export -------------------------------------------------------------------------------------

def test_sections_are_registered_whenever_django_starts():
    """Not only when a test happens to import the modules: a fresh process (as manage.py) has them."""
    code = ("import django; django.setup(); from workpro_plugin.services import privacy; "
            "print(sorted(privacy._exporters), sorted(privacy._erasers), sorted(privacy._file_sources))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "DJANGO_SETTINGS_MODULE": "workpro_site.settings.test"})
    exporters, erasers, files = out.stdout.strip().split("] [")
    for name in SECTIONS:
        assert f"'{name}'" in exporters and f"'{name}'" in erasers
    assert "'care_contacts'" in files


def test_the_child_s_export_holds_every_section(world, families):
    ours, _theirs = families
    data = privacy.person_export_data(ours.child)
    assert set(SECTIONS) <= set(data)

    care = data["care_contacts"]
    assert [(c["name"], c["contract_number"]) for c in care["emergency_contacts"]] == [("Oma Sonne", "KITA-Sonne")]
    [pickup] = care["pickup_persons"]
    assert pickup["name"] == "Onkel Sonne" and pickup["photo"].startswith(f"fotos/{ours.pickup.pk}-")
    assert pickup["photo_valid_until"] is not None

    [thread] = data["chat"]
    assert thread["kind"] == Conversation.Kind.ENROLLMENT and thread["contract_number"] == "KITA-Sonne"
    texts = [(m["text"], m["from_staff"], m["hidden"]) for m in thread["messages"]]
    # The child has no login of its own: the parent's hidden message is listed, its text is not.
    assert texts == [("Allergie Sonne", False, False), (None, False, True), ("Antwort Sonne", True, False)]
    attachment = thread["messages"][0]["attachment"]
    assert attachment in [d["file"] for d in data["documents"]]

    [booking] = data["addon_bookings"]
    assert (booking["addon"], booking["status"], booking["note"], booking["cost"]) == (
        "Ferienbetreuung", AddonBooking.Status.CONFIRMED, "Notiz Sonne", Decimal("40.00"))
    assert booking["consent_at"] is not None and booking["consent_text"].startswith("Ich buche")
    assert booking["confirmation"] in [d["file"] for d in data["documents"]]

    assignments = {(a["app"], a["via_offer"], a["revoke_reason"]) for a in data["apps"]["assignments"]}
    assert assignments == {("Lernplattform", "Krippenplatz", ""), ("Bibliothek", None, "Entzug Sonne")}
    [acceptance] = data["apps"]["acceptances"]
    assert (acceptance["app"], acceptance["for"], acceptance["accepted_by"]) == (
        "Lernplattform", "KindSonne Muster", "eltern@example.org")

    viewed = [e for e in data["audit"] if e["action"] == AuditAction.PERSON_VIEWED]
    assert [(e["by"], e["ip"], e["own"]) for e in viewed] == [(world.staff.email, None, False)]
    assert viewed[0]["action_label"] == "Personendaten angesehen"


def test_the_parent_s_export_holds_own_messages_logins_and_the_ward_s_contract(world, families):
    ours, _theirs = families
    data = privacy.person_export_data(ours.parent)
    assert [c["name"] for c in data["care_contacts"]["emergency_contacts"]] == ["Oma Sonne"]
    threads = {t["kind"]: t for t in data["chat"]}
    assert set(threads) == {Conversation.Kind.ENROLLMENT, Conversation.Kind.OFFER}
    own = [m for m in threads[Conversation.Kind.ENROLLMENT]["messages"] if m["own"]]
    assert [(m["text"], m["previous_texts"] != [], m["hidden"], m["hidden_reason"]) for m in own] == [
        ("Allergie Sonne", True, False, ""), ("Beschwerde Sonne", False, True, "Ton Sonne")]
    assert own[0]["previous_texts"][0]["body"] == "Erste Fassung"
    assert [m["text"] for m in threads[Conversation.Kind.OFFER]["messages"]] == ["Frage Sonne"]
    assert [a["for"] for a in data["apps"]["acceptances"]] == ["KindSonne Muster"]
    events = {e["action"]: e for e in data["audit"]}
    # Own logins show the own address; a failed attempt under the own name shows none.
    assert (events[AuditAction.LOGIN]["ip"], events[AuditAction.LOGIN]["own"]) == ("198.51.100.7", True)
    assert (events[AuditAction.LOGIN_FAILED]["ip"], events[AuditAction.LOGIN_FAILED]["by"]) == (
        None, "eltern@example.org")
    assert [b["note"] for b in data["addon_bookings"]] == ["Notiz Sonne"]


def test_the_zip_holds_the_passport_photos(world, families):
    ours, _theirs = families
    export = privacy.person_export(person=ours.child, by=world.holder, via="portal")
    archive = zipfile.ZipFile(export.file)
    data = json.loads(archive.read("data.json"))
    assert set(SECTIONS) <= set(data)
    photo_path = data["care_contacts"]["pickup_persons"][0]["photo"]
    assert [n for n in archive.namelist() if n.startswith("fotos/")] == [photo_path]
    with ours.pickup.photo.open("rb") as handle:
        assert archive.read(photo_path) == handle.read()
    assert PrivacyLog.objects.get(person=ours.child).figures["files"] == 1


def test_the_portal_download_carries_the_sections_and_the_photo(client, world, families):
    ours, _theirs = families
    client.force_login(world.holder)
    response = client.post("/workpro/konto/daten/herunterladen/", {"person": ours.child.pk},
                           HTTP_HOST="kita.test")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert set(SECTIONS) <= set(json.loads(archive.read("data.json")))
    assert any(n.startswith(f"fotos/{ours.pickup.pk}-") for n in archive.namelist())


@pytest.mark.parametrize("whose", ["parent", "child"])
def test_a_second_family_never_appears_in_an_export(world, families, whose):
    ours, theirs = families
    person = getattr(ours, whose)
    export = privacy.person_export(person=person, by=world.superuser, via="admin")
    archive = zipfile.ZipFile(export.file)
    text = archive.read("data.json").decode()
    assert "Sonne" in text
    for leak in ("Mond", theirs.holder.email):
        assert leak not in text
    names = archive.namelist()
    assert not any(n.startswith(f"fotos/{theirs.pickup.pk}-") for n in names)
    their_documents = Document.objects.filter(enrollment=theirs.contract).values_list("pk", flat=True)
    assert their_documents and not any(n.startswith(f"dokumente/{pk}-") for n in names for pk in their_documents)


def test_coming_of_age_and_guardian_access_are_in_the_export(world):
    birthday = TODAY + timedelta(days=10)
    teen = make_child(world.holder, first_name="Max", date_of_birth=birthday.replace(year=birthday.year - 18))
    enrollment_in(S.RATIFIZIERT, offer=world.offer, institution=world.kita, holder=world.holder, participant=teen)
    minors.coming_of_age()  # 10 days ahead: the notice
    with time_machine.travel(timezone.make_aware(datetime.combine(birthday, datetime.min.time())).replace(hour=6)):
        minors.coming_of_age()  # the birthday: the handover
        teen.refresh_from_db()
        teen_data = privacy.person_export_data(teen)
        parent_data = privacy.person_export_data(world.holder.workpro_person)
    ends = birthday + timedelta(days=30)
    assert Guardian.objects.get(participant=teen).access_ends_on == ends
    assert teen_data["person"]["coming_of_age_notice_at"] is not None
    assert teen_data["person"]["came_of_age_at"] is not None
    assert [g["access_ends_on"] for g in teen_data["guardians"]] == [ends]
    assert [w["access_ends_on"] for w in parent_data["wards"]] == [ends]


# --- erasure ---------------------------------------------------------------------------------------

def test_anonymisation_erases_what_it_should_and_keeps_the_proof(world, families, run_on_commit):
    ours, theirs = families
    storage = storages["private"]
    photo_name = ours.pickup.photo.name
    confirmation = ours.booking.confirmation
    messages_before = Message.objects.count()
    with run_on_commit():
        child_figures = privacy.person_anonymise(person=ours.child)
        parent_figures = privacy.person_anonymise(person=ours.parent)
    print(f"\nanonymised child: {child_figures}\nanonymised parent: {parent_figures}")

    # Notfallkontakt and Abholberechtigte: rows and photo gone; the other family's stay.
    assert not EmergencyContact.objects.filter(enrollment=ours.contract).exists()
    assert not PickupPerson.objects.filter(enrollment=ours.contract).exists()
    assert not storage.exists(photo_name) and storage.exists(theirs.pickup.photo.name)
    assert child_figures["care_contacts"] == 2

    # Chat: every message keeps its place, the texts are gone.
    assert Message.objects.count() == messages_before
    ours_messages = Message.objects.filter(conversation__in=[ours.conversation, ours.question])
    assert set(ours_messages.values_list("body", flat=True)) == {chat.ERASED_BODY}
    assert not ours_messages.exclude(previous_bodies=[]).exists()
    assert not ours_messages.exclude(hidden_reason="").exists()
    assert Message.objects.get(pk=ours.hidden.pk).hidden_at is not None  # the flag stays
    assert not Message.objects.filter(pk=ours.first.pk, attachment__isnull=False).exists()
    assert Message.objects.filter(conversation=theirs.conversation, body="Allergie Mond").exists()

    # Add-on booking: the record of what was booked and consented to stays, the free texts go.
    booking = AddonBooking.objects.get(pk=ours.booking.pk)
    assert (booking.status, booking.cost, booking.consent_at) == (
        AddonBooking.Status.CONFIRMED, Decimal("40.00"), ours.booking.consent_at)
    assert (booking.note, booking.cost_reason, booking.decline_reason) == ("", "", "")
    assert booking.confirmation is None and not Document.objects.filter(pk=confirmation.pk).exists()
    assert AddonBooking.objects.get(pk=theirs.booking.pk).note == "Notiz Mond"

    # Apps: the acceptance stays as proof (of an anonymised person), the revocation reason goes.
    assert AppAcceptance.objects.filter(person=ours.child).count() == 1
    assert AppAssignment.objects.get(pk=ours.direct.pk).revoke_reason == ""
    assert AppAssignment.objects.get(pk=theirs.direct.pk).revoke_reason == "Entzug Mond"

    # Audit: staff's view of the child stays intact; the parent's own traces lose name and address.
    viewed = AuditEvent.objects.get(action=AuditAction.PERSON_VIEWED, person=ours.child)
    assert (viewed.actor_label, viewed.ip) == (world.staff.email, "192.0.2.10")
    login = AuditEvent.objects.get(action=AuditAction.LOGIN, actor=ours.holder)
    assert (login.actor_label, login.ip) == (f"anonymisiert-{ours.holder.pk}", None)
    assert not AuditEvent.objects.filter(actor_label="eltern@example.org").exists()
    assert not AuditEvent.objects.filter(ip__in=["198.51.100.7", "203.0.113.66"],
                                         actor_label__in=["", f"anonymisiert-{ours.holder.pk}"]).exists()
    assert AuditEvent.objects.filter(actor_label=theirs.holder.email, ip="198.51.100.7").exists()

    # What is left in a later export of the anonymised child is the skeleton.
    data = privacy.person_export_data(ours.child)
    for erased in ("Allergie Sonne", "Antwort Sonne", "Oma Sonne", "Notiz Sonne", "Entzug Sonne"):
        assert erased not in dumped(data)
    assert data["care_contacts"] == {"emergency_contacts": [], "pickup_persons": []}


def test_retention_deletes_referenced_attachments_and_confirmations(world, shared, run_on_commit):
    """A chat attachment or a booking confirmation must not block the daily retention run."""
    ours = build_family(world, shared, world.holder, "Stern")
    Enrollment.objects.filter(pk=ours.contract.pk).update(contract_end=TODAY + timedelta(days=30))
    with time_machine.travel(timezone.now() + timedelta(days=30 + 3654)), run_on_commit():
        figures = privacy.apply_retention()
    print(f"\nretention with chat attachments and confirmations: {figures}")
    assert figures["documents_deleted"] >= 2 and figures["persons_anonymised"] >= 2
    assert not Document.objects.filter(enrollment=ours.contract).exists()
    assert Message.objects.filter(pk=ours.first.pk, attachment=None, body=chat.ERASED_BODY).exists()
    assert AddonBooking.objects.filter(pk=ours.booking.pk, confirmation=None).exists()
