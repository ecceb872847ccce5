"""Mein Konto for minors: own login, coming of age (time travel), Notfallkontakt, Abholberechtigte, documents."""

import io
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from tests.factories import enrollment_in, make_child, make_user, pdf_bytes
from workpro_plugin.access import PortalRole, portal_role
from workpro_plugin.models import Document, EmergencyContact, Enrollment, Guardian, PickupPerson
from workpro_plugin.services import minors

S = Enrollment.Status
pytestmark = pytest.mark.django_db


def jpeg_with_exif(size=(400, 500)) -> bytes:
    image = Image.new("RGB", size, (200, 120, 90))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x9003] = "2020:01:01 10:00:00"  # DateTimeOriginal
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def child_contract(world, *, born: date, status=S.RATIFIZIERT, start_in_days=20):
    child = make_child(world.holder, first_name="Lena", date_of_birth=born)
    enrollment = enrollment_in(status, offer=world.offer, institution=world.kita, holder=world.holder,
                               participant=child)
    today = timezone.localdate()
    Enrollment.objects.filter(pk=enrollment.pk).update(contract_start=today + timedelta(days=start_in_days),
                                                       contract_end=today + timedelta(days=400))
    enrollment.refresh_from_db()
    return child, enrollment


# --- own login for a minor ----------------------------------------------------------------

def test_psb1_gives_the_child_an_own_login_limited_to_its_own_things(client, world, run_on_commit):
    child, enrollment = child_contract(world, born=timezone.localdate() - timedelta(days=14 * 366))
    invitation = Document.objects.create(enrollment=enrollment, owner=child, kind="invitation", title="Einladung",
                                         file=ContentFile(pdf_bytes(), name="e.pdf"))
    application = Document.objects.create(enrollment=enrollment, owner=child, kind="application", title="Anmeldung",
                                          file=ContentFile(pdf_bytes(), name="a.pdf"))
    client.force_login(world.holder)
    assert "Eigene Mailadresse zuweisen" in client.get(reverse("workpro:account")).content.decode()
    with run_on_commit():
        response = client.post(reverse("workpro:participant_login", args=[child.pk]), {"email": "Lena@Example.org "})
    assert response.status_code == 302
    child.refresh_from_db()
    assert child.user.email == "lena@example.org" and child.must_set_password
    sent = mail.outbox[-1]
    assert sent.to == ["lena@example.org"] and "Passwort" in sent.body
    assert enrollment.log_entries.filter(action="workpro.enrollment.participant_login").exists()

    client.force_login(child.user)
    assert client.get(reverse("workpro:account"))["Location"] == reverse("workpro:set_password")
    type(child).objects.filter(pk=child.pk).update(must_set_password=False)  # as after "Passwort festlegen"
    overview = client.get(reverse("workpro:account")).content.decode()
    assert "Meine Teilnahme" in overview and "Alle Verträge" not in overview
    assert portal_role(child.user, enrollment) == PortalRole.PARTICIPANT
    detail = client.get(reverse("workpro:enrollment_detail", args=[enrollment.pk])).content.decode()
    assert "verwaltet Ihr Personensorgeberechtigter" in detail and "Verlauf" not in detail
    # Managing the contract is the holder's: every management URL is a 404 for the child.
    for name, args in [("enrollment_withdraw", [enrollment.pk]), ("enrollment_accept", [enrollment.pk]),
                       ("enrollment_submit", [enrollment.pk]), ("care", [enrollment.pk])]:
        assert client.post(reverse(f"workpro:{name}", args=args)).status_code == 404, name
    # Own documents yes, the application with the parents' income no.
    assert client.get(reverse("workpro:document", args=[invitation.pk])).status_code == 200
    assert client.get(reverse("workpro:document", args=[application.pk])).status_code == 404
    inbox = client.get(reverse("workpro:documents")).content.decode()
    assert "Einladung" in inbox and ">Anmeldung<" not in inbox


def test_own_login_refuses_a_used_address_and_keeps_the_input(client, world):
    child = make_child(world.holder, date_of_birth=timezone.localdate() - timedelta(days=15 * 365))
    client.force_login(world.holder)
    response = client.post(reverse("workpro:participant_login", args=[child.pk]), {"email": "fremd@example.org"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "bereits für ein anderes Konto verwendet" in body and 'value="fremd@example.org"' in body
    response = client.post(reverse("workpro:participant_login", args=[child.pk]), {"email": "kein-mail"})
    assert response.status_code == 400 and "gültige Mailadresse" in response.content.decode()
    child.refresh_from_db()
    assert child.user is None


def test_only_the_psb1_may_give_a_login(client, world):
    child = make_child(world.holder)
    for user in (world.stranger, world.staff):
        client.force_login(user)
        assert client.post(reverse("workpro:participant_login", args=[child.pk]),
                           {"email": "x@example.org"}).status_code == 404
    client.force_login(world.holder)  # not for oneself either
    assert client.get(reverse("workpro:participant_login",
                              args=[world.holder.workpro_person.pk])).status_code == 404


# --- coming of age ---------------------------------------------------------------------------

def _birthday_world(world, *, with_login: bool):
    today = timezone.localdate()
    birthday = today + timedelta(days=20)
    child, enrollment = child_contract(world, born=birthday.replace(year=birthday.year - 18))
    if with_login:
        minors.participant_assign_login(participant=child, email="lena@example.org", by=world.holder)
        child.refresh_from_db()
    mail.outbox.clear()
    return child, enrollment, birthday


def _at(day: date):
    return time_machine.travel(timezone.make_aware(datetime.combine(day, datetime.min.time())).replace(hour=6),
                               tick=False)


def test_coming_of_age_on_the_exact_days(client, world, run_on_commit):
    child, enrollment, birthday = _birthday_world(world, with_login=True)
    with _at(birthday - timedelta(days=15)), run_on_commit():
        assert minors.coming_of_age() == {"notices": 0, "handovers": 0, "access_ended": 0}
    assert mail.outbox == []
    with _at(birthday - timedelta(days=14)), run_on_commit():
        assert minors.coming_of_age()["notices"] == 1
        assert minors.coming_of_age()["notices"] == 0  # twice a day: no second mail
    assert sorted(m.to[0] for m in mail.outbox) == ["eltern@example.org", "lena@example.org"]
    assert all("wird bald volljährig" in m.subject for m in mail.outbox)
    mail.outbox.clear()

    with _at(birthday - timedelta(days=1)), run_on_commit():
        assert minors.coming_of_age()["handovers"] == 0
        assert portal_role(world.holder, enrollment) == PortalRole.HOLDER
    with _at(birthday), run_on_commit():
        assert minors.coming_of_age()["handovers"] == 1
        assert minors.coming_of_age()["handovers"] == 0
        enrollment.refresh_from_db()
        assert enrollment.account_holder == child.user
        assert Guardian.objects.get(participant=child).access_ends_on == birthday + timedelta(days=30)
        assert portal_role(world.holder, enrollment) == PortalRole.GUARDIAN
        assert portal_role(child.user, enrollment) == PortalRole.HOLDER
        assert enrollment.log_entries.filter(action="workpro.enrollment.came_of_age").count() == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["eltern@example.org", "lena@example.org"]
    psb1_mail = next(m for m in mail.outbox if m.to == ["eltern@example.org"])
    assert (birthday + timedelta(days=30)).strftime("%d.%m.%Y").lstrip("0") in psb1_mail.body \
        or f"{(birthday + timedelta(days=30)).day}." in psb1_mail.body

    with _at(birthday + timedelta(days=30)):
        client.force_login(world.holder)
        assert client.get(reverse("workpro:enrollment_detail", args=[enrollment.pk])).status_code == 200
        assert "nur noch lesen" in client.get(reverse("workpro:account")).content.decode()
        assert client.post(reverse("workpro:enrollment_withdraw", args=[enrollment.pk])).status_code == 404
    with _at(birthday + timedelta(days=31)), run_on_commit():
        minors.coming_of_age()
        client.force_login(world.holder)
        assert client.get(reverse("workpro:enrollment_detail", args=[enrollment.pk])).status_code == 404
        assert world.offer.title not in client.get(reverse("workpro:account")).content.decode()
        assert portal_role(world.holder, enrollment) is None


def test_coming_of_age_without_own_login_tells_the_institution(world, run_on_commit):
    child, enrollment, birthday = _birthday_world(world, with_login=False)
    type(world.kita).objects.filter(pk=world.kita.pk).update(email="info@kita.test")
    world.kita.refresh_from_db()
    with _at(birthday), run_on_commit():
        minors.coming_of_age()
    institution_mail = [m for m in mail.outbox if m.to == [world.kita.email]]
    assert len(institution_mail) == 1 and "ohne eigenen Zugang" in institution_mail[0].subject
    enrollment.refresh_from_db()
    assert enrollment.account_holder == world.holder  # the PSB1 holds on for the 30 days
    with _at(birthday + timedelta(days=31)), run_on_commit():
        assert minors.coming_of_age()["access_ended"] == 1
        enrollment.refresh_from_db()
        assert enrollment.account_holder is None
        assert enrollment.log_entries.filter(action="workpro.enrollment.guardian_access_ended").count() == 1
        assert portal_role(world.holder, enrollment) is None


def test_born_on_29_february_comes_of_age_on_1_march(world):
    child = make_child(world.holder, date_of_birth=date(2008, 2, 29))
    assert child.eighteenth_birthday() == date(2026, 3, 1)
    assert child.age_on(date(2026, 2, 28)) == 17 and child.age_on(date(2026, 3, 1)) == 18


# --- Notfallkontakt and Abholberechtigte ---------------------------------------------------------

def test_care_page_shows_what_is_missing_and_keeps_bad_input(client, world):
    child, enrollment = child_contract(world, born=timezone.localdate() - timedelta(days=4 * 365))
    client.force_login(world.holder)
    page = client.get(reverse("workpro:care", args=[enrollment.pk])).content.decode()
    assert "Es ist noch kein Notfallkontakt eingetragen." in page
    assert "Es ist noch keine abholberechtigte Person eingetragen." in page
    response = client.post(reverse("workpro:care", args=[enrollment.pk]), {
        "kind": "notfallkontakt", "notfall-name": "Oma Erna", "notfall-relation": "Großmutter",
        "notfall-phone": "12"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "gültige Telefonnummer" in body and 'value="Oma Erna"' in body and 'value="Großmutter"' in body
    response = client.post(reverse("workpro:care", args=[enrollment.pk]), {
        "kind": "notfallkontakt", "notfall-name": "Oma Erna", "notfall-relation": "Großmutter",
        "notfall-phone": "0151 23456789"})
    assert response.status_code == 302
    assert EmergencyContact.objects.get(enrollment=enrollment).phone == "+4915123456789"


def test_pickup_person_photo_is_checked_reencoded_and_private(client, world):
    child, enrollment = child_contract(world, born=timezone.localdate() - timedelta(days=4 * 365))
    client.force_login(world.holder)
    url = reverse("workpro:care", args=[enrollment.pk])
    base = {"kind": "abholberechtigt", "abholung-name": "Onkel Tom", "abholung-relation": "Onkel",
            "abholung-phone": "030 12345678"}
    # no photo, a PDF renamed .jpg, a tiny image: refused with the input kept
    assert "aktuelles Passfoto hochladen" in client.post(url, base).content.decode()
    fake = SimpleUploadedFile("foto.jpg", pdf_bytes(), content_type="image/jpeg")
    response = client.post(url, {**base, "abholung-photo": fake})
    assert response.status_code == 400 and "JPEG- oder PNG-Datei" in response.content.decode()
    assert 'value="Onkel Tom"' in response.content.decode()
    tiny = io.BytesIO()
    Image.new("RGB", (50, 50)).save(tiny, format="PNG")
    response = client.post(url, {**base, "abholung-photo": SimpleUploadedFile("t.png", tiny.getvalue())})
    assert "zu klein" in response.content.decode()
    assert not PickupPerson.objects.exists()

    response = client.post(url, {**base, "abholung-photo": SimpleUploadedFile("foto.jpg", jpeg_with_exif())})
    assert response.status_code == 302
    pickup = PickupPerson.objects.get(enrollment=enrollment)
    with pickup.photo.open("rb") as handle:
        stored = Image.open(io.BytesIO(handle.read()))
        assert stored.format == "JPEG" and not stored.getexif()
    from django.core.files.storage import storages

    assert pickup.photo.storage is storages["private"]  # never under MEDIA_URL
    photo_url = reverse("workpro:pickup_photo", args=[enrollment.pk, pickup.pk])
    assert client.get(photo_url).status_code == 200
    for user, expected in ((world.stranger, 404), (world.other_staff, 404), (world.caseworker, 200)):
        client.force_login(user)
        assert client.get(photo_url).status_code == expected, user
    assert minors.care_missing(enrollment) == ["Es ist noch kein Notfallkontakt eingetragen."]


def test_an_old_photo_asks_for_a_new_one(world):
    child, enrollment = child_contract(world, born=timezone.localdate() - timedelta(days=4 * 365))
    EmergencyContact.objects.create(enrollment=enrollment, name="Oma", relation="Oma", phone="+4930123456")
    pickup = PickupPerson.objects.create(enrollment=enrollment, name="Tom", relation="Onkel", phone="+4930123456",
                                         photo=ContentFile(jpeg_with_exif(), name="p.jpg"),
                                         photo_uploaded_at=timezone.now() - timedelta(days=365))
    assert minors.care_missing(enrollment) == []
    PickupPerson.objects.filter(pk=pickup.pk).update(photo_uploaded_at=timezone.now() - timedelta(days=2 * 366))
    assert "älter als 24 Monate" in minors.care_missing(enrollment)[0]


def test_care_is_required_only_for_minors_with_an_offer(world):
    adult = make_user("azubi@example.org", date_of_birth=date(2000, 1, 1))
    enrollment = enrollment_in(S.RATIFIZIERT, offer=world.offer, institution=world.kita, holder=adult)
    assert not minors.care_required(enrollment)
    child, minor_contract = child_contract(world, born=timezone.localdate() - timedelta(days=4 * 365))
    assert minors.care_required(minor_contract)
    early = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder,
                          participant=child)
    assert not minors.care_required(early)


def test_care_reminders_14_and_3_days_before_start_once_each(world, run_on_commit):
    child, enrollment = child_contract(world, born=timezone.localdate() - timedelta(days=4 * 365), start_in_days=20)
    start = enrollment.contract_start
    sent_on = {}
    for days_before in range(20, -1, -1):
        with _at(start - timedelta(days=days_before)), run_on_commit():
            count = minors.send_care_reminders()
            if count:
                sent_on[days_before] = count
    assert sent_on == {14: 1, 3: 1}
    assert [m.subject for m in mail.outbox].count(
        "Bitte ergänzen: Notfallkontakt und Abholberechtigte für Kind Muster".replace("Kind", "Lena")) == 2
    assert "Es fehlt noch" in mail.outbox[-1].body


def test_no_reminder_when_complete(world, run_on_commit):
    child, enrollment = child_contract(world, born=timezone.localdate() - timedelta(days=4 * 365), start_in_days=14)
    EmergencyContact.objects.create(enrollment=enrollment, name="Oma", relation="Oma", phone="+4930123456")
    PickupPerson.objects.create(enrollment=enrollment, name="Tom", relation="Onkel", phone="+4930123456",
                                photo=ContentFile(jpeg_with_exif(), name="p.jpg"), photo_uploaded_at=timezone.now())
    with run_on_commit():
        assert minors.send_care_reminders() == 0
    assert mail.outbox == []


def test_admin_shows_care_completeness(client, world):
    child, enrollment = child_contract(world, born=timezone.localdate() - timedelta(days=4 * 365))
    client.force_login(world.caseworker)
    index = reverse("workpro_plugin_enrollment_modeladmin_index")
    listing = client.get(index + "?notfall=fehlt").content.decode()
    assert "Lena Muster" in listing and "fehlt" in listing
    EmergencyContact.objects.create(enrollment=enrollment, name="Oma", relation="Oma", phone="+4930123456")
    PickupPerson.objects.create(enrollment=enrollment, name="Tom", relation="Onkel", phone="+4930123456",
                                photo=ContentFile(jpeg_with_exif(), name="p.jpg"), photo_uploaded_at=timezone.now())
    assert "Lena Muster" not in client.get(index + "?notfall=fehlt").content.decode()
    assert "vollständig" in client.get(index).content.decode()
    inspect = client.get(reverse("workpro_plugin_enrollment_modeladmin_inspect", args=[enrollment.pk]))
    assert "Onkel" in inspect.content.decode() and "gültig bis" in inspect.content.decode()


# --- the documents inbox --------------------------------------------------------------------

def test_documents_inbox_marks_unread_and_is_private(client, world):
    enrollment = enrollment_in(S.ANGEBOT, offer=world.offer, institution=world.kita, holder=world.holder)
    offer_doc = Document.objects.create(enrollment=enrollment, kind="contract_offer", title="Angebot Krippenplatz",
                                        file=ContentFile(pdf_bytes(), name="o.pdf"))
    Document.objects.filter(kind="signed_contract").update(uploaded_by=world.holder)  # their own upload
    client.force_login(world.holder)
    inbox = client.get(reverse("workpro:documents")).content.decode()
    assert "Angebot Krippenplatz" in inbox and inbox.count(">neu<") == 1
    assert client.get(reverse("workpro:account")).context["unread_documents"] == 1
    client.get(reverse("workpro:document", args=[offer_doc.pk]))
    offer_doc.refresh_from_db()
    assert offer_doc.first_opened_at is not None
    assert client.get(reverse("workpro:account")).context["unread_documents"] == 0
    client.force_login(world.stranger)
    assert "Angebot Krippenplatz" not in client.get(reverse("workpro:documents")).content.decode()
    assert client.get(reverse("workpro:document", args=[offer_doc.pk])).status_code == 404


def test_overview_lists_contracts_with_numbers_and_care_hint(client, world):
    child, enrollment = child_contract(world, born=timezone.localdate() - timedelta(days=4 * 365))
    Enrollment.objects.filter(pk=enrollment.pk).update(contract_number="KITA-2026-00007")
    child.customer_number = "K-000042"
    child.save()
    client.force_login(world.holder)
    page = client.get(reverse("workpro:account")).content.decode()
    for text in ("Alle Verträge", "Lena Muster", "KITA-2026-00007", "K-000042", "Ratifiziert",
                 "Notfallkontakt und Abholberechtigte eintragen"):
        assert text in page, text


# --- minimum age and what the PSB1 sees (#20) ---------------------------------------------------

def test_no_own_login_below_the_minimum_age(client, world, settings):
    child, _enrollment = child_contract(world, born=timezone.localdate() - timedelta(days=13 * 365))
    client.force_login(world.holder)
    overview = client.get(reverse("workpro:account")).content.decode()
    assert "erst ab 14 Jahren" in overview and "Eigene Mailadresse zuweisen" not in overview
    response = client.post(reverse("workpro:participant_login", args=[child.pk]), {"email": "lena@example.org"})
    assert response.status_code == 400 and "erst ab 14 Jahren möglich" in response.content.decode()
    child.refresh_from_db()
    assert child.user_id is None
    with pytest.raises(minors.MinorsError, match="erst ab 14 Jahren"):
        minors.participant_assign_login(participant=child, email="lena@example.org", by=world.holder)
    settings.WORKPRO_MINOR_LOGIN_MIN_AGE = 12  # configurable
    minors.participant_assign_login(participant=child, email="lena@example.org", by=world.holder)
    child.refresh_from_db()
    assert child.user.email == "lena@example.org"


def test_psb1_sees_what_the_minors_own_login_shows(client, world):
    child, enrollment = child_contract(world, born=timezone.localdate() - timedelta(days=15 * 365))
    Document.objects.create(enrollment=enrollment, owner=child, kind="invitation", title="Einladung zum Gespräch",
                            file=ContentFile(pdf_bytes(), name="e.pdf"))
    Document.objects.create(enrollment=enrollment, owner=child, kind="application", title="Anmeldung Lena",
                            file=ContentFile(pdf_bytes(), name="a.pdf"))
    minors.participant_assign_login(participant=child, email="lena@example.org", by=world.holder)
    child.refresh_from_db()
    client.force_login(world.holder)
    url = reverse("workpro:participant_view", args=[child.pk])
    assert url in client.get(reverse("workpro:account")).content.decode()
    page = client.get(url).content.decode()
    assert "Einladung zum Gespräch" in page and world.offer.title in page
    assert "Anmeldung Lena" not in page  # not shown to the minor, so not listed as such
    client.force_login(world.stranger)
    assert client.get(url).status_code == 404
    type(child).objects.filter(pk=child.pk).update(must_set_password=False)
    client.force_login(child.user)
    assert client.get(url).status_code == 404
