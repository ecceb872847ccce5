"""Zusatzangebote: booking an add-on for a ratified contract, staff decisions, mails, the confirmation PDF, access."""

import io
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup
from django.core import mail
from django.utils import timezone
from django.utils.formats import date_format
from pypdf import PdfReader

from tests.factories import complete_sections, enrollment_in, make_user
from tests.helpers import HOST
from workpro_plugin.models import (
    AddonBooking,
    Document,
    Enrollment,
    EnrollmentLog,
    FeeBracket,
    FeeSchedule,
)
from workpro_plugin.services import addons as svc

pytestmark = pytest.mark.django_db
S = Enrollment.Status
B = AddonBooking.Status
TODAY = timezone.localdate()


def _day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


@pytest.fixture
def shop(world, make_offer, client):
    """A ratified contract (income 20.000 €) whose offer has the add-on "Ferienbetreuung" (in 10 to 60 days)."""
    schedule = FeeSchedule.objects.create(name="Ferien", institution=world.kita, billing_period="einmalig",
                                          maximum_rate=Decimal("100.00"))
    FeeBracket.objects.create(schedule=schedule, income_from=0, income_to=30000, amount=Decimal("50.00"))
    FeeBracket.objects.create(schedule=schedule, income_from=30000, income_to=None, amount=Decimal("80.00"))
    addon = make_offer(world.kita, "Ferienbetreuung", is_addon=True, starts_on=TODAY + timedelta(days=10),
                       ends_on=TODAY + timedelta(days=60), fee_schedule=schedule, capacity=5)
    addon.addon_for.add(world.offer)
    addon.save()
    contract = enrollment_in(S.RATIFIZIERT, offer=world.offer, institution=world.kita, holder=world.holder)
    Enrollment.objects.filter(pk=contract.pk).update(contract_number="KITA-2026-00007",
                                                     contract_start=TODAY, contract_end=TODAY + timedelta(days=365))
    complete_sections(contract, phase=2, income=20000)
    contract.refresh_from_db()
    world.client = client
    return SimpleNamespace(**vars(world), addon=addon, contract=contract, schedule=schedule)


def _book_url(shop, enrollment=None, addon=None):
    return (f"/workpro/konto/anmeldung/{(enrollment or shop.contract).pk}/zusatzangebote/"
            f"{(addon or shop.addon).pk}/buchen/")


def _addons_url(enrollment):
    return f"/workpro/konto/anmeldung/{enrollment.pk}/zusatzangebote/"


def _book(shop, start=12, end=16, consent=True, **extra):
    data = {"starts_on": _day(start), "ends_on": _day(end), **extra}
    if consent:
        data["consent"] = "on"
    return shop.client.post(_book_url(shop), data, **HOST)


def _request(shop, start=12, end=16) -> AddonBooking:
    return svc.addon_book(enrollment=shop.contract, addon=shop.addon, by=shop.holder, starts_on=TODAY + timedelta(
        days=start), ends_on=TODAY + timedelta(days=end), consent=True)


def _pdf_text(document: Document) -> str:
    with document.file.open("rb") as handle:
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(handle.read())).pages)


# --- booking ------------------------------------------------------------------------------------

def test_holder_books_an_addon_priced_by_the_declared_income(shop, run_on_commit):
    shop.client.force_login(shop.holder)
    detail = BeautifulSoup(shop.client.get(f"/workpro/konto/anmeldung/{shop.contract.pk}/", **HOST).content,
                           "html.parser")
    assert detail.find("a", href=_addons_url(shop.contract)).get_text(strip=True) == "Zusatzangebote buchen"
    page = BeautifulSoup(shop.client.get(_addons_url(shop.contract), **HOST).content, "html.parser")
    assert page.find("a", href=_book_url(shop)) is not None
    assert "50,00 €" in page.get_text()  # the bracket for 20.000 €, not the maximum rate
    with run_on_commit():
        response = _book(shop, note="Allergie: Nüsse")
    assert response.status_code == 302 and response["Location"] == _addons_url(shop.contract)
    booking = AddonBooking.objects.get()
    assert (booking.status, booking.cost, booking.billing_period) == (B.REQUESTED, Decimal("50.00"), "einmalig")
    assert booking.consent_at is not None and "verbindlich" in booking.consent_text
    assert booking.note == "Allergie: Nüsse" and booking.booked_by == shop.holder
    assert EnrollmentLog.objects.filter(enrollment=shop.contract, action="workpro.enrollment.addon_requested").exists()
    assert [m.to for m in mail.outbox] == [[shop.holder.email]]
    assert mail.outbox[0].subject == "Zusatzangebot angefragt: Ferienbetreuung"
    assert "Ferienbetreuung" in mail.outbox[0].body and _addons_url(shop.contract) in mail.outbox[0].body
    listing = BeautifulSoup(shop.client.get(_addons_url(shop.contract), **HOST).content, "html.parser")
    row = listing.select_one("#bookings-heading ~ table tbody tr").get_text(" ", strip=True)
    assert "Ferienbetreuung" in row and "50,00 €" in row and "Angefragt" in row


def test_without_declared_income_the_maximum_rate_applies(shop):
    shop.contract.sections.filter(section="income").delete()
    assert _request(shop).cost == Decimal("100.00")


def test_double_booking_is_refused(shop):
    shop.client.force_login(shop.holder)
    assert _book(shop, 12, 16).status_code == 302
    again = _book(shop, 15, 20)
    assert again.status_code == 400
    assert "bereits gebucht" in again.content.decode()
    assert AddonBooking.objects.count() == 1
    assert _book(shop, 17, 20).status_code == 302  # the week after does not overlap
    assert AddonBooking.objects.count() == 2


def test_a_declined_or_cancelled_booking_frees_its_period(shop):
    first = _request(shop)
    svc.addon_decline(booking=first, by=shop.caseworker, reason="voll")
    second = _request(shop)
    svc.addon_cancel(booking=second, by=shop.holder)
    assert _request(shop).status == B.REQUESTED


@pytest.mark.parametrize(("start", "end", "field", "message"), [
    (5, 12, "starts_on", "frühestens ab dem"),        # before the add-on starts
    (50, 70, "ends_on", "längstens bis zum"),         # after the add-on ends
    (-3, 12, "starts_on", "Vergangenheit"),
    (16, 12, "ends_on", "nicht vor dem Beginn"),
])
def test_period_outside_the_addon_dates_is_refused_and_the_input_kept(shop, start, end, field, message):
    shop.client.force_login(shop.holder)
    response = _book(shop, start, end, note="bitte früh")
    assert response.status_code == 400
    soup = BeautifulSoup(response.content, "html.parser")
    errors = soup.select_one(f"#id_{field}_error")
    assert errors is not None and message in errors.get_text()
    assert soup.find("input", {"name": "starts_on"})["value"] == _day(start)
    assert soup.find("textarea", {"name": "note"}).get_text().strip() == "bitte früh"
    assert not AddonBooking.objects.exists()


def test_period_must_lie_in_the_contract_term(shop):
    Enrollment.objects.filter(pk=shop.contract.pk).update(contract_end=TODAY + timedelta(days=14))
    shop.client.force_login(shop.holder)
    response = _book(shop, 12, 20)
    assert response.status_code == 400 and "Vertragslaufzeit" in response.content.decode()


def test_an_addon_outside_the_contract_term_is_not_offered(shop):
    """Ferienbetreuung ending before the contract starts is neither listed nor bookable (404, not a refusal)."""
    shop.client.force_login(shop.holder)
    assert [c.addon.pk for c in svc.addon_choices(shop.contract)] == [shop.addon.pk]
    Enrollment.objects.filter(pk=shop.contract.pk).update(contract_start=TODAY + timedelta(days=70))
    shop.contract.refresh_from_db()
    assert svc.addon_choices(shop.contract) == []
    page = shop.client.get(_addons_url(shop.contract), **HOST).content.decode()
    assert "Ferienbetreuung" not in page
    detail = shop.client.get(f"/workpro/konto/anmeldung/{shop.contract.pk}/", **HOST).content.decode()
    assert "Zusatzangebote buchen" not in detail
    assert shop.client.get(_book_url(shop), **HOST).status_code == 404
    # An add-on starting after the contract ends is not offered either.
    Enrollment.objects.filter(pk=shop.contract.pk).update(contract_start=TODAY, contract_end=TODAY + timedelta(days=5))
    shop.contract.refresh_from_db()
    assert svc.addon_choices(shop.contract) == []


def test_missing_consent_is_refused(shop):
    shop.client.force_login(shop.holder)
    response = _book(shop, consent=False)
    assert response.status_code == 400
    soup = BeautifulSoup(response.content, "html.parser")
    assert "Bitte stimmen Sie der verbindlichen Buchung zu." in soup.select_one("#id_consent_error").get_text()
    assert soup.find("input", {"name": "ends_on"})["value"] == _day(16)
    assert not AddonBooking.objects.exists()
    with pytest.raises(svc.AddonError) as refused:
        svc.addon_book(enrollment=shop.contract, addon=shop.addon, by=shop.holder,
                       starts_on=TODAY + timedelta(days=12), ends_on=TODAY + timedelta(days=14), consent=False)
    assert refused.value.field == "consent"


def test_only_a_ratified_contract_can_book(shop):
    accepted = enrollment_in(S.ANGENOMMEN, offer=shop.offer, institution=shop.kita, holder=shop.holder)
    shop.client.force_login(shop.holder)
    detail = shop.client.get(f"/workpro/konto/anmeldung/{accepted.pk}/", **HOST).content.decode()
    assert "Zusatzangebote buchen" not in detail
    response = shop.client.post(_book_url(shop, enrollment=accepted),
                                {"starts_on": _day(12), "ends_on": _day(14), "consent": "on"}, **HOST, follow=True)
    assert "nur zu einem ratifizierten Vertrag" in response.content.decode()
    with pytest.raises(svc.AddonError):
        svc.addon_book(enrollment=accepted, addon=shop.addon, by=shop.holder, starts_on=TODAY + timedelta(days=12),
                       ends_on=TODAY + timedelta(days=14), consent=True)
    assert not AddonBooking.objects.exists()


def test_an_addon_of_another_offer_is_a_404(shop, make_offer):
    foreign = make_offer(shop.kita, "Sommercamp", is_addon=True)
    shop.client.force_login(shop.holder)
    assert shop.client.get(_book_url(shop, addon=foreign), **HOST).status_code == 404
    assert shop.client.post(_book_url(shop, addon=foreign), {"starts_on": _day(12), "ends_on": _day(14),
                                                             "consent": "on"}, **HOST).status_code == 404


def test_a_full_addon_refuses_overlapping_bookings(shop):
    shop.addon.capacity = 1
    shop.addon.save()
    other = enrollment_in(S.RATIFIZIERT, offer=shop.offer, institution=shop.kita, holder=make_user("b@example.org"))
    taken = svc.addon_book(enrollment=other, addon=shop.addon, by=other.account_holder,
                           starts_on=TODAY + timedelta(days=12), ends_on=TODAY + timedelta(days=16), consent=True)
    pending = _request(shop, 14, 15)  # requested before the other one was confirmed
    svc.addon_confirm(booking=taken, by=shop.caseworker)
    with pytest.raises(svc.AddonError, match="alle Plätze"):
        _request(shop, 16, 18)
    with pytest.raises(svc.AddonError, match="alle Plätze"):
        svc.addon_confirm(booking=pending, by=shop.caseworker)
    assert _request(shop, 20, 22).status == B.REQUESTED


def test_holder_withdraws_a_requested_booking_but_not_a_confirmed_one(shop, run_on_commit):
    booking = _request(shop)
    shop.client.force_login(shop.holder)
    with run_on_commit():
        response = shop.client.post(f"/workpro/konto/zusatzbuchung/{booking.pk}/zurueckziehen/", **HOST, follow=True)
    booking.refresh_from_db()
    assert booking.status == B.CANCELLED and booking.cancelled_at is not None
    assert "zurückgezogen" in response.content.decode()
    assert mail.outbox[-1].subject == "Buchung zurückgezogen: Ferienbetreuung"
    confirmed = _request(shop, 20, 22)
    svc.addon_confirm(booking=confirmed, by=shop.caseworker)
    response = shop.client.post(f"/workpro/konto/zusatzbuchung/{confirmed.pk}/zurueckziehen/", **HOST, follow=True)
    confirmed.refresh_from_db()
    assert confirmed.status == B.CONFIRMED and "nicht möglich" in response.content.decode()


# --- staff decisions --------------------------------------------------------------------------

def _admin_action(booking, slug):
    return f"/admin/workpro/zusatzbuchung/{booking.pk}/{slug}/"


def test_staff_confirm_deposits_the_confirmation_and_mails_it(shop, run_on_commit):
    booking = _request(shop)
    mail.outbox.clear()
    shop.client.force_login(shop.caseworker)
    inspect = shop.client.get(f"/admin/workpro_plugin/addonbooking/inspect/{booking.pk}/")
    assert inspect.status_code == 200 and _admin_action(booking, "bestaetigen") in inspect.content.decode()
    form = BeautifulSoup(shop.client.get(_admin_action(booking, "bestaetigen")).content, "html.parser")
    assert form.find("input", {"name": "cost"})["value"] == "50,00"
    with run_on_commit():
        response = shop.client.post(_admin_action(booking, "bestaetigen"), {"cost": "50,00", "cost_reason": ""})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == B.CONFIRMED and booking.decided_by == shop.caseworker and booking.decided_at
    document = booking.confirmation
    assert document.kind == Document.Kind.ADDON_CONFIRMATION
    assert document.enrollment == shop.contract and document.owner == shop.contract.participant
    text = _pdf_text(document)
    for expected in ("Buchungsbestätigung", "Ferienbetreuung", "KITA-2026-00007", "50,00",
                     date_format(TODAY + timedelta(days=12), "DATE_FORMAT"), "sachbearbeitung@kita.test"):
        assert expected in text, expected
    assert EnrollmentLog.objects.filter(enrollment=shop.contract, action="workpro.enrollment.addon_confirmed",
                                        by=shop.caseworker).exists()
    sent = mail.outbox[-1]
    assert sent.to == [shop.holder.email] and sent.subject == "Buchungsbestätigung: Ferienbetreuung"
    assert "Kosten: 50,00 € einmalig" in sent.body
    assert sent.attachments and sent.attachments[0][2] == "application/pdf"

    # With the contract in "Mein Konto": the booking, its cost and the deposited confirmation.
    shop.client.force_login(shop.holder)
    detail = BeautifulSoup(shop.client.get(f"/workpro/konto/anmeldung/{shop.contract.pk}/", **HOST).content,
                           "html.parser")
    panel = detail.select_one("#addon-bookings-heading").find_parent("section").get_text(" ", strip=True)
    assert "Ferienbetreuung" in panel and "50,00 € einmalig" in panel and "Bestätigt" in panel
    assert detail.find("a", href=f"/workpro/konto/dokumente/{document.pk}/") is not None
    assert shop.client.get(f"/workpro/konto/dokumente/{document.pk}/", **HOST).status_code == 200
    # ... and on the enrollment in the admin.
    shop.client.force_login(shop.staff)
    inspect = BeautifulSoup(shop.client.get(f"/admin/workpro_plugin/enrollment/inspect/{shop.contract.pk}/").content,
                            "html.parser").get_text(" ", strip=True)
    assert "Zusatzbuchungen" in inspect and "Ferienbetreuung" in inspect and "Zusatzangebot bestätigt" in inspect


def test_confirm_with_a_different_cost_needs_a_reason(shop):
    booking = _request(shop)
    shop.client.force_login(shop.staff)
    response = shop.client.post(_admin_action(booking, "bestaetigen"), {"cost": "40,00", "cost_reason": ""})
    assert response.status_code == 400 and "bitte begründen" in response.content.decode()
    assert BeautifulSoup(response.content, "html.parser").find("input", {"name": "cost"})["value"] == "40,00"
    shop.client.post(_admin_action(booking, "bestaetigen"), {"cost": "40,00", "cost_reason": "Geschwisterrabatt"})
    booking.refresh_from_db()
    assert booking.status == B.CONFIRMED and booking.cost == Decimal("40.00")
    assert booking.cost_reason == "Geschwisterrabatt"


def test_without_fee_schedule_staff_set_the_cost_on_confirmation(shop):
    shop.addon.fee_schedule = None
    shop.addon.save()
    booking = _request(shop)
    assert booking.cost is None
    shop.client.force_login(shop.holder)
    assert "nach Bestätigung" in shop.client.get(_addons_url(shop.contract), **HOST).content.decode()
    shop.client.force_login(shop.caseworker)
    response = shop.client.post(_admin_action(booking, "bestaetigen"), {"cost": ""})
    assert response.status_code == 400 and "Bitte geben Sie die Kosten an." in response.content.decode()
    shop.client.post(_admin_action(booking, "bestaetigen"), {"cost": "75,50"})
    booking.refresh_from_db()
    assert booking.status == B.CONFIRMED and booking.cost == Decimal("75.50")


def test_staff_decline_needs_a_reason_and_mails_it(shop, run_on_commit):
    booking = _request(shop)
    shop.client.force_login(shop.caseworker)
    response = shop.client.post(_admin_action(booking, "ablehnen"), {"reason": ""})
    assert response.status_code == 400 and "Bitte geben Sie einen Grund an." in response.content.decode()
    with run_on_commit():
        shop.client.post(_admin_action(booking, "ablehnen"), {"reason": "In dieser Woche geschlossen."})
    booking.refresh_from_db()
    assert booking.status == B.DECLINED and booking.decline_reason == "In dieser Woche geschlossen."
    assert booking.confirmation is None and not Document.objects.filter(kind="addon_confirmation").exists()
    assert mail.outbox[-1].subject == "Zusatzangebot nicht bestätigt: Ferienbetreuung"
    assert "In dieser Woche geschlossen." in mail.outbox[-1].body
    assert EnrollmentLog.objects.filter(action="workpro.enrollment.addon_declined").exists()
    again = shop.client.post(_admin_action(booking, "bestaetigen"), {"cost": "50,00"})
    assert again.status_code == 400 and "nicht möglich" in again.content.decode()


# --- access ----------------------------------------------------------------------------------------

def test_participant_with_own_login_sees_but_cannot_book(shop):
    teen_user = make_user("teen@example.org")
    contract = enrollment_in(S.RATIFIZIERT, offer=shop.offer, institution=shop.kita, holder=shop.holder,
                             participant=teen_user.workpro_person)
    shop.client.force_login(teen_user)
    page = shop.client.get(_addons_url(contract), **HOST)
    assert page.status_code == 200
    assert BeautifulSoup(page.content, "html.parser").find("a", href=_book_url(shop, enrollment=contract)) is None
    assert shop.client.get(_book_url(shop, enrollment=contract), **HOST).status_code == 403
    refused = shop.client.post(_book_url(shop, enrollment=contract),
                               {"starts_on": _day(12), "ends_on": _day(14), "consent": "on"}, **HOST)
    assert refused.status_code == 403
    with pytest.raises(svc.AddonError):
        svc.addon_book(enrollment=contract, addon=shop.addon, by=teen_user, starts_on=TODAY + timedelta(days=12),
                       ends_on=TODAY + timedelta(days=14), consent=True)
    booking = svc.addon_book(enrollment=contract, addon=shop.addon, by=shop.holder,
                             starts_on=TODAY + timedelta(days=12), ends_on=TODAY + timedelta(days=14), consent=True)
    assert shop.client.post(f"/workpro/konto/zusatzbuchung/{booking.pk}/zurueckziehen/", **HOST).status_code == 403
    assert AddonBooking.objects.get().status == B.REQUESTED


@pytest.mark.parametrize("who", ["stranger", "other_staff", "staff"])
def test_foreign_contracts_and_bookings_are_404_in_the_portal(shop, who):
    booking = _request(shop)
    shop.client.force_login(getattr(shop, who))
    assert shop.client.get(_addons_url(shop.contract), **HOST).status_code == 404
    assert shop.client.get(_book_url(shop), **HOST).status_code == 404
    assert _book(shop, 20, 22).status_code == 404
    assert shop.client.post(f"/workpro/konto/zusatzbuchung/{booking.pk}/zurueckziehen/", **HOST).status_code == 404
    booking.refresh_from_db()
    assert booking.status == B.REQUESTED and AddonBooking.objects.count() == 1


def test_staff_of_another_institution_cannot_decide(shop):
    booking = _request(shop)
    shop.client.force_login(shop.other_staff)
    assert shop.client.get(_admin_action(booking, "bestaetigen")).status_code == 404
    assert shop.client.post(_admin_action(booking, "bestaetigen"), {"cost": "50,00"}).status_code == 404
    assert shop.client.post(_admin_action(booking, "ablehnen"), {"reason": "nein"}).status_code == 404
    assert shop.client.get(f"/admin/workpro_plugin/addonbooking/inspect/{booking.pk}/").status_code in (302, 403)
    listing = shop.client.get("/admin/workpro_plugin/addonbooking/")
    assert listing.status_code == 200 and booking not in listing.context["view"].queryset
    with pytest.raises(svc.AddonError):
        svc.addon_confirm(booking=booking, by=shop.other_staff)
    booking.refresh_from_db()
    assert booking.status == B.REQUESTED


def test_staff_without_the_process_permission_gets_403(shop):
    from django.contrib.auth.models import Permission

    booking = _request(shop)
    viewer = make_user("ansicht@kita.test", person=False)
    viewer.user_permissions.add(Permission.objects.get(codename="access_admin"),
                                Permission.objects.get(codename="view_enrollment"))
    group = shop.kita.staff_group
    viewer.groups.add(group)
    group.permissions.remove(Permission.objects.get(codename="process_enrollment"))
    shop.client.force_login(viewer)
    assert shop.client.get(f"/admin/workpro_plugin/addonbooking/inspect/{booking.pk}/").status_code == 200
    assert shop.client.post(_admin_action(booking, "bestaetigen"), {"cost": "50,00"}).status_code in (302, 403)
    booking.refresh_from_db()
    assert booking.status == B.REQUESTED


def test_admin_dashboard_counts_what_waits_for_staff(shop):
    """The home panel links to requested add-on bookings and unanswered questions of the own institution."""
    from workpro_plugin.services import chat

    _request(shop)
    chat.conversation_start_for_offer(offer=shop.offer, by=shop.holder, body="Gibt es noch Plätze?")

    def panel(user):
        shop.client.force_login(user)
        soup = BeautifulSoup(shop.client.get("/admin/").content, "html.parser")
        found = soup.find(id="workpro-dashboard-content") or soup.find(id="workpro-dashboard")
        return {p.strong.get_text(strip=True).rstrip(":"): p.a for p in found.select("p") if p.strong and p.a}

    own = panel(shop.staff)
    assert own["Zusatzbuchungen zu bestätigen"].get_text(strip=True) == "1"
    assert own["Zusatzbuchungen zu bestätigen"]["href"].endswith("?status__exact=angefragt")
    assert own["Nachrichten ohne Antwort"].get_text(strip=True) == "1"
    assert own["Nachrichten ohne Antwort"]["href"].endswith("?status=unbeantwortet")
    other = panel(shop.other_staff)
    assert other["Zusatzbuchungen zu bestätigen"].get_text(strip=True) == "0"
    assert other["Nachrichten ohne Antwort"].get_text(strip=True) == "0"
