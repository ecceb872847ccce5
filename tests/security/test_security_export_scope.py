"""Issue #15: "Alle Daten exportieren" by staff holds only what belongs to the staff member's
institutions. A person with enrollments, documents, chats, mails, logins and consents at two
institutions: staff of A export nothing of B (and no logins, IP addresses or axes entries);
the person's own export and a superuser's are complete."""

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.utils import timezone

from tests.factories import enrollment_in, make_child, pdf_bytes
from tests.security_figures import note
from workpro_plugin.models import AuditAction, Document, Enrollment, PrivacyLog
from workpro_plugin.services import audit, chat, minors, notify, privacy
from workpro_plugin.services.documents import deposit

pytestmark = pytest.mark.django_db
S = Enrollment.Status
IPV4 = re.compile(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b")
# Every text of institution B carries this marker; a staff export of A must not contain it.
B_MARK = "Beta"
A_MARK = "Alpha"
EXPORT_URL = "/admin/workpro/person/{pk}/daten-export/"


def _jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (400, 500), (120, 90, 60)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def two_places(world, make_offer):
    """The holder has a child at the KiTa (A) and a course of their own at the BBZ (B); the child
    also attends a holiday course at B. Chats, documents, mails, contacts at both; logins."""
    b_offer = make_offer(world.other, f"Kurs {B_MARK}", capacity=10)
    b_holiday = make_offer(world.other, f"Ferienkurs {B_MARK}", capacity=10)
    holder, parent = world.holder, world.holder.workpro_person
    child = make_child(holder, first_name="Lena")

    a_contract = enrollment_in(S.RATIFIZIERT, offer=world.offer, institution=world.kita, holder=holder,
                               participant=child)
    b_own = enrollment_in(S.BEWERBER, offer=b_offer, institution=world.other, holder=holder, participant=parent)
    b_child = enrollment_in(S.RATIFIZIERT, offer=b_holiday, institution=world.other, holder=holder,
                            participant=child)
    Enrollment.objects.filter(pk=a_contract.pk).update(contract_number=f"KITA-{A_MARK}")
    Enrollment.objects.filter(pk=b_own.pk).update(contract_number=f"BBZ-{B_MARK}-1", interview_note=f"Notiz {B_MARK}")
    Enrollment.objects.filter(pk=b_child.pk).update(contract_number=f"BBZ-{B_MARK}-2")

    a_doc = deposit(kind="application", title=f"Anmeldung {A_MARK}", content=pdf_bytes(), enrollment=a_contract,
                    by=holder)
    b_doc = deposit(kind="application", title=f"Anmeldung {B_MARK}", content=pdf_bytes(), enrollment=b_own,
                    by=holder)

    a_thread = chat.conversation_for_enrollment(enrollment=a_contract, by=holder)
    chat.message_post(conversation=a_thread, by=holder, body=f"Frage {A_MARK}", as_staff=False)
    b_thread = chat.conversation_for_enrollment(enrollment=b_own, by=holder)
    chat.message_post(conversation=b_thread, by=holder, body=f"Frage {B_MARK}", as_staff=False)
    # An offer question at B with an attachment: a document without an enrollment.
    question = chat.conversation_start_for_offer(offer=b_holiday, by=holder, body=f"Angebotsfrage {B_MARK}",
                                                 upload=SimpleUploadedFile("befund.pdf", pdf_bytes()))
    b_attachment = question.attachment

    minors.care_save_emergency(enrollment=a_contract, by=holder, name=f"Oma {A_MARK}", relation="Oma",
                               phone="+4930111111")
    minors.care_save_emergency(enrollment=b_child, by=holder, name=f"Opa {B_MARK}", relation="Opa",
                               phone="+4930222222")
    b_pickup = minors.care_save_pickup(enrollment=b_child, by=holder, name=f"Onkel {B_MARK}", relation="Onkel",
                                       phone="+4930333333", photo_content=_jpeg())

    notify.queue_mail(to=holder.email, template="registration_existing", institution=world.other, person=parent,
                      context={"offer_title": f"Kurs {B_MARK}"})
    notify.queue_mail(to=holder.email, template="registration_existing", institution=world.kita, person=parent,
                      context={"offer_title": f"Krippe {A_MARK}"})
    privacy.consent_record(kind="privacy", text=f"Zustimmung {B_MARK}", person=parent, subject=f"Kurs {B_MARK}",
                           ip="198.51.100.9")
    PrivacyLog.objects.create(person=parent, action=privacy.ACTION_EXPORTED, by=world.other_staff,
                              figures={"via": "admin"})

    factory = RequestFactory()
    audit.record(AuditAction.LOGIN, actor=holder, request=factory.post("/", REMOTE_ADDR="198.51.100.7"))
    AccessLog.objects.create(username=holder.email, ip_address="198.51.100.8", user_agent=f"Browser {B_MARK}",
                             http_accept="*/*", path_info="/admin/login/")
    AccessFailureLog.objects.create(username=holder.email, ip_address="203.0.113.5", user_agent="Fremd",
                                    http_accept="*/*", path_info="/workpro/konto/anmelden/", locked_out=False)
    AccessAttempt.objects.create(username=holder.email, ip_address="203.0.113.6", user_agent="Fremd",
                                 http_accept="*/*", path_info="/workpro/konto/anmelden/", get_data="",
                                 post_data="", failures_since_start=2)
    return type("TwoPlaces", (), dict(
        parent=parent, child=child, a_doc=a_doc, b_doc=b_doc, b_attachment=b_attachment, b_pickup=b_pickup,
        b_contracts=(b_own, b_child)))


def _export(client, user, person):
    client.force_login(user)
    response = client.post(EXPORT_URL.format(pk=person.pk))
    assert response.status_code == 200, response.status_code
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    return archive, archive.read("data.json").decode()


@pytest.mark.parametrize("whose", ["parent", "child"])
def test_staff_of_a_export_nothing_of_b(client, world, two_places, whose):
    person = getattr(two_places, whose)
    checked = 0
    for staff in (world.staff, world.caseworker):  # Leitung and Sachbearbeitung of A
        archive, text = _export(client, staff, person)
        data = json.loads(text)
        assert A_MARK in text, "A's own data is in A's export"
        assert B_MARK not in text and "Bbz" not in text and world.other_staff.email not in text
        assert IPV4.findall(text) == [], "no IP address of any login, consent or axes entry"
        assert data["scope"] == "institutions" and data["institutions"] == ["Kita"]
        # The person's own login records, consents and the privacy log are theirs, not an institution's.
        for absent in ("audit", "access_log", "consents", "privacy_log"):
            assert absent not in data
        assert "account" not in data["person"] and "last_login" not in text
        names = archive.namelist()
        for document in (two_places.b_doc, two_places.b_attachment):
            assert not any(n.startswith(f"dokumente/{document.pk}-") for n in names)
        assert not any(n.startswith(f"fotos/{two_places.b_pickup.pk}-") for n in names)
        assert {e["institution"] for e in data["enrollments"]} == {"Kita"}
        assert {c["institution"] for c in data["chat"]} <= {"Kita"}
        checked += 1
    entry = PrivacyLog.objects.filter(person=person, by=world.staff).latest("pk")
    assert entry.figures["scope"] == [world.kita.pk]
    note(f"export scope: staff exports of a {whose} at two institutions without the other's data", checked)


def test_staff_of_b_export_nothing_of_a(client, world, two_places):
    _archive, text = _export(client, world.other_staff, two_places.child)
    assert B_MARK in text and A_MARK not in text and "KITA-" not in text


def test_the_person_s_own_export_and_the_superuser_s_are_complete(client, world, two_places):
    client.force_login(world.holder)
    response = client.post("/workpro/konto/daten/herunterladen/", {"person": two_places.parent.pk},
                           HTTP_HOST="kita.test")
    own = json.loads(zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).read("data.json"))
    _archive, text = _export(client, world.superuser, two_places.parent)
    for data in (own, json.loads(text)):
        assert data["scope"] == "complete"
        assert {e["institution"] for e in data["enrollments"]} == {"Kita", "Bbz"}
        assert {c["institution"] for c in data["chat"]} == {"Kita", "Bbz"}
        assert [c["ip"] for c in data["consents"]] == ["198.51.100.9"]
        assert data["privacy_log"][0]["by"] == world.other_staff.email
        assert any(e["ip"] == "198.51.100.7" for e in data["audit"])
        logins = data["access_log"]["logins"]
        # (force_login in this test adds a login of its own, without an address)
        assert ("198.51.100.8", f"Browser {B_MARK}") in [(e["ip"], e["browser"]) for e in logins]
        # Failed attempts under the person's name: when and where, not whose address.
        assert [e["path"] for e in data["access_log"]["failed_logins"]] == ["/workpro/konto/anmelden/"]
        assert [e["failures"] for e in data["access_log"]["lockout_counters"]] == [2]
        assert "203.0.113." not in json.dumps(data["access_log"])
        assert data["person"]["account"]["email"] == world.holder.email
        documents = {d["id"] for d in data["documents"]}
        assert {two_places.a_doc.pk, two_places.b_doc.pk, two_places.b_attachment.pk} <= documents


def test_the_person_exporting_themself_in_the_admin_gets_everything(world, two_places):
    """A staff member who is also a parent: their own record is complete, also from the admin."""
    assert privacy.export_scope(world.holder, two_places.parent) is None
    assert privacy.export_scope(world.superuser, two_places.parent) is None
    assert privacy.export_scope(world.staff, two_places.parent) == frozenset({world.kita.pk})


def test_a_section_added_later_stays_out_of_staff_exports_unless_scoped(world, two_places):
    """The class, not the instance: an exporter that cannot answer per institution is never in a
    staff export; one registered as scoped is asked for the staff member's institutions only."""
    calls = []
    privacy.register_exporter("later", lambda person: [f"alles {B_MARK}"])
    privacy.register_exporter("later_scoped", lambda person, institutions=None: calls.append(institutions) or [],
                              scoped=True)
    try:
        scope = privacy.export_scope(world.staff, two_places.parent)
        staff_data = privacy.person_export_data(two_places.parent, institutions=scope)
        assert "later" not in staff_data and staff_data["later_scoped"] == []
        assert calls == [frozenset({world.kita.pk})]
        assert privacy.person_export_data(two_places.parent)["later"] == [f"alles {B_MARK}"]
    finally:
        privacy._exporters.pop("later")
        privacy._exporters.pop("later_scoped")
        privacy._scoped_exporters.discard("later_scoped")
    sections = sorted(privacy._exporters)
    scoped = sorted(privacy._scoped_exporters)
    note("export scope: registered sections (scoped for staff / all)", f"{len(scoped)}/{len(sections)}")
    assert set(scoped) == {"addon_bookings", "apps", "care_contacts", "chat"}
    assert {"audit", "access_log"} <= set(sections) - set(scoped)


def test_documents_of_b_are_not_in_a_staff_export_even_when_owned_by_the_person(world, two_places):
    owned = Document.objects.filter(owner=two_places.parent)
    assert owned.exists()
    scope = frozenset({world.kita.pk})
    exported = {d["id"] for d in privacy.person_export_data(two_places.parent, institutions=scope)["documents"]}
    assert exported.isdisjoint(owned.filter(enrollment__institution=world.other).values_list("pk", flat=True))
    assert two_places.b_attachment.pk not in exported


def test_an_old_export_by_b_is_not_listed_for_a(world, two_places):
    scope = frozenset({world.kita.pk})
    data = privacy.person_export_data(two_places.parent, institutions=scope)
    assert "privacy_log" not in data
    assert timezone.now() - data["exported_at"] < timedelta(minutes=1)


def test_the_person_page_in_the_admin_shows_staff_no_consent_or_export_of_b(client, world, two_places):
    """The same class on screen: the consents and the privacy log beside the export button."""
    privacy.consent_record(kind="privacy", text="Ich stimme zu.", person=two_places.parent,
                           subject=world.offer.title, ip="198.51.100.10")
    url = f"/admin/workpro_plugin/person/inspect/{two_places.parent.pk}/"
    client.force_login(world.staff)
    page = client.get(url).content.decode()
    assert world.offer.title in page  # A's own consent
    assert f"Kurs {B_MARK}" not in page and world.other_staff.email not in page
    client.force_login(world.superuser)
    page = client.get(url).content.decode()
    assert f"Kurs {B_MARK}" in page and world.other_staff.email in page
