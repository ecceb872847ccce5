"""Registration on an offer, issued passwords (72 hours), login, lockout, password request by SMS."""

from datetime import date, timedelta

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from tests.helpers import ISSUED_PASSWORD_RE, password_from_mail, portal_login, register_on_offer
from workpro_plugin.models import Enrollment, OutboxMessage, Person

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def kita(make_institution):
    institution = make_institution("kita", hostname="kita.test")
    institution.email = "info@kita.test"
    institution.phone = "0341 1234"
    institution.save()
    return institution


@pytest.fixture
def offer(kita, make_offer):
    return make_offer(kita, "Krippenplatz", capacity=10)


# --- registration ------------------------------------------------------------------

def test_registration_creates_account_enrollment_and_mails_password(client, kita, offer, run_on_commit):
    response = register_on_offer(client, kita, offer, run_on_commit)
    assert response.status_code == 302
    assert response["Location"] == "/workpro/registriert/"
    user = User._default_manager.get_by_natural_key("erika.muster@example.org")
    person = user.workpro_person
    assert (person.last_name, person.first_name, person.must_set_password) == ("Muster", "Erika", True)
    enrollment = Enrollment.objects.get(account_holder=user)
    assert (enrollment.offer_id, enrollment.institution_id, enrollment.status) == (offer.pk, kita.pk, "interessent")

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["erika.muster@example.org"]
    assert message.from_email.startswith("Kita <")
    assert "Krippenplatz" in message.subject
    password = password_from_mail(message)
    assert len(password.replace("-", "")) == 12
    assert "72 Stunden" in message.body and "Zum Angebot anmelden" in message.body
    assert password in message.alternatives[0][0]  # HTML part
    assert user.check_password(password)
    row = OutboxMessage.objects.get(template="registration_welcome")
    assert row.state == "sent" and "password" not in row.context  # the secret is scrubbed after sending

    done = client.get(response["Location"], HTTP_HOST="kita.test")
    assert "erika.muster@example.org" in done.content.decode()


def test_registering_again_creates_no_second_account_and_reveals_nothing(
    client, kita, offer, make_offer, run_on_commit
):
    first = register_on_offer(client, kita, offer, run_on_commit)
    hort = make_offer(kita, "Hortplatz")
    client.cookies.clear()
    second = register_on_offer(client, kita, hort, run_on_commit, email="erika.muster@example.org")
    assert (first.status_code, first["Location"]) == (second.status_code, second["Location"])
    assert User.objects.filter(email="erika.muster@example.org").count() == 1
    # Nothing is attached to the existing account: the owner decides after logging in.
    assert list(Enrollment.objects.filter(account_holder__email="erika.muster@example.org")
                .values_list("offer_id", flat=True)) == [offer.pk]
    existing_mail = mail.outbox[-1]
    assert "bereits ein Konto" in existing_mail.body and "nichts an Ihr Konto gebunden" in existing_mail.body
    assert "Zum Angebot anmelden" in existing_mail.body and hort.get_full_url() in existing_mail.body
    assert ISSUED_PASSWORD_RE.search(existing_mail.body) is None
    assert "/workpro/konto/passwort-anfordern/" in existing_mail.body


def test_registering_twice_for_the_same_offer_records_one_interest(client, kita, offer, run_on_commit):
    register_on_offer(client, kita, offer, run_on_commit)
    register_on_offer(client, kita, offer, run_on_commit)
    assert Enrollment.objects.filter(offer=offer).count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"last_name": ""}, "last_name", "Bitte Ihren Namen eingeben."),
        ({"first_name": "  "}, "first_name", "Bitte Ihren Vornamen eingeben."),
        ({"email": "keine-mail"}, "email", "Bitte eine gültige Mailadresse eingeben."),
        ({"privacy": ""}, "privacy", "Bitte bestätigen Sie die Datenschutzhinweise."),
        ({"last_name": "<script>"}, "last_name", "Sonderzeichen"),
        ({"first_name": "x" * 500}, "first_name", "höchstens 150 Zeichen"),
    ],
)
def test_registration_bad_input_keeps_what_was_typed(client, kita, offer, run_on_commit, overrides, field, message):
    response = register_on_offer(client, kita, offer, run_on_commit, **overrides)
    assert response.status_code == 400
    form = response.context["registration_form"]
    assert any(message in error for error in form.errors[field])
    soup = BeautifulSoup(response.content, "html.parser")
    if field != "email":
        assert soup.find("input", {"name": "email"})["value"] == "Erika.Muster@Example.org"
    assert not User.objects.exists()
    assert mail.outbox == []


def test_registration_for_a_closed_offer_is_refused(client, kita, make_offer, run_on_commit):
    closed = make_offer(kita, "Vorbei", applications_close_on=timezone.localdate() - timedelta(days=1))
    response = register_on_offer(client, kita, closed, run_on_commit)
    assert response.status_code == 200 or response.status_code == 400
    assert not User.objects.exists()


def test_registration_mail_in_english_for_english_visitors(client, kita, offer, run_on_commit):
    register_on_offer(client, kita, offer, run_on_commit, path_prefix="/en")
    assert Person.objects.get().language == "en"
    assert "Your registration" in mail.outbox[0].subject
    assert "valid for 72 hours" in mail.outbox[0].body


# --- login with issued passwords ---------------------------------------------------------

def _registered(client, kita, offer, run_on_commit) -> tuple[str, str]:
    register_on_offer(client, kita, offer, run_on_commit)
    client.cookies.clear()
    return "erika.muster@example.org", password_from_mail(mail.outbox[-1])


def test_first_login_with_issued_password_forces_own_password(client, kita, offer, run_on_commit):
    email, password = _registered(client, kita, offer, run_on_commit)
    response = portal_login(client, "  Erika.Muster@example.org ", password)
    assert response.status_code == 302
    overview = client.get("/workpro/konto/", HTTP_HOST="kita.test")
    assert overview.status_code == 302 and overview["Location"] == "/workpro/konto/passwort/"

    weak = client.post("/workpro/konto/passwort/", {"new_password1": "12345", "new_password2": "12345"},
                       HTTP_HOST="kita.test")
    assert weak.status_code == 400
    errors = " ".join(weak.context["form"].errors["new_password2"])
    assert "zu kurz" in errors or "zu gewöhnlich" in errors
    mismatch = client.post("/workpro/konto/passwort/", {"new_password1": "Sonnenblume-2026",
                                                        "new_password2": "Sonnenblume-2027"}, HTTP_HOST="kita.test")
    assert "nicht identisch" in " ".join(mismatch.context["form"].errors["new_password2"])

    page = client.get("/workpro/konto/passwort/", HTTP_HOST="kita.test").content.decode()
    assert "Zugesandtes Passwort" in page  # the issued password is the current one
    no_current = client.post("/workpro/konto/passwort/", {"new_password1": "Sonnenblume-2026",
                                                          "new_password2": "Sonnenblume-2026"}, HTTP_HOST="kita.test")
    assert no_current.status_code == 400 and no_current.context["form"].errors["old_password"]
    wrong = client.post("/workpro/konto/passwort/", {"old_password": "falsch-falsch", "new_password1": "Sonnenblume-2026",
                                                     "new_password2": "Sonnenblume-2026"}, HTTP_HOST="kita.test")
    assert "nicht korrekt" in " ".join(wrong.context["form"].errors["old_password"])
    assert Person.objects.get(user__email=email).must_set_password  # nothing changed
    ok = client.post("/workpro/konto/passwort/", {"old_password": password, "new_password1": "Sonnenblume-2026",
                                                  "new_password2": "Sonnenblume-2026"}, HTTP_HOST="kita.test")
    assert ok.status_code == 302
    person = Person.objects.get(user__email=email)
    assert not person.must_set_password and person.password_issued_at is None
    page = client.get("/workpro/konto/", HTTP_HOST="kita.test")
    assert page.status_code == 200 and "Krippenplatz" in page.content.decode()
    client.post("/workpro/konto/abmelden/", HTTP_HOST="kita.test")
    assert portal_login(client, email, password).status_code == 400  # the issued password is gone
    assert portal_login(client, email, "Sonnenblume-2026").status_code == 302


def test_issued_password_expires_after_72_hours(client, kita, offer, run_on_commit):
    email, password = _registered(client, kita, offer, run_on_commit)
    with time_machine.travel(timezone.now() + timedelta(hours=71, minutes=59)):
        assert portal_login(client, email, password).status_code == 302
        client.post("/workpro/konto/abmelden/", HTTP_HOST="kita.test")
    with time_machine.travel(timezone.now() + timedelta(hours=72, minutes=1)):
        response = portal_login(client, email, password)
    assert response.status_code == 400
    text = response.content.decode()
    assert "abgelaufen" in text
    assert "/workpro/konto/passwort-anfordern/" in text
    assert "_auth_user_id" not in client.session


def test_lockout_after_five_failures_keeps_the_email(client, kita, offer, run_on_commit):
    email, password = _registered(client, kita, offer, run_on_commit)
    for _ in range(5):
        assert portal_login(client, email, "falsch").status_code in (400, 429)
    response = portal_login(client, email, password)  # even the right password is refused now
    assert response.status_code == 429
    soup = BeautifulSoup(response.content, "html.parser")
    assert "Zu viele fehlgeschlagene Anmeldeversuche" in soup.get_text()
    assert "nach Ablauf der Sperre verwenden" in soup.get_text()  # a new password does not lift the lock
    assert soup.find("input", {"name": "username"})["value"] == email
    assert soup.find("input", {"name": "password"}).get("value") is None
    assert "_auth_user_id" not in client.session


def test_logout_ends_the_session(client, kita, offer, run_on_commit):
    email, password = _registered(client, kita, offer, run_on_commit)
    portal_login(client, email, password)
    assert client.post("/workpro/konto/abmelden/", HTTP_HOST="kita.test").status_code == 302
    assert client.get("/workpro/konto/", HTTP_HOST="kita.test").status_code == 302


# --- Neues Passwort anfordern -----------------------------------------------------------

@pytest.fixture
def known_person(client, kita, offer, run_on_commit):
    register_on_offer(client, kita, offer, run_on_commit)
    client.cookies.clear()
    person = Person.objects.get()
    person.date_of_birth = date(1985, 4, 12)
    person.mobile = "+4915123456789"
    person.customer_number = "K-000042"
    person.save()
    mail.outbox.clear()
    return person


def _request(client, run_on_commit, **overrides):
    data = {"last_name": "muster", "first_name": "Erika", "date_of_birth": "1985-04-12",
            "mobile": "0151 23456789", "customer_number": "", "email": "erika.muster@example.org"}
    data.update(overrides)
    with run_on_commit():
        return client.post("/workpro/konto/passwort-anfordern/", data, HTTP_HOST="kita.test")


def test_password_request_with_matching_mobile_sends_sms(client, known_person, run_on_commit, sms_outbox):
    page = client.get("/workpro/konto/passwort-anfordern/", HTTP_HOST="kita.test").content.decode()
    assert "Diese Angaben sind korrekt" in page
    response = _request(client, run_on_commit)
    assert response.status_code == 302 and response["Location"] == "/workpro/konto/passwort-anfordern/gesendet/"
    assert len(sms_outbox) == 1
    assert sms_outbox[0].to == "+4915123456789"
    password = ISSUED_PASSWORD_RE.search(sms_outbox[0].body).group(1)
    assert len(sms_outbox[0].body) <= 160
    assert portal_login(client, "erika.muster@example.org", password).status_code == 302


def test_password_request_by_customer_number_with_new_email(client, known_person, run_on_commit, sms_outbox):
    _request(client, run_on_commit, mobile="", customer_number="k-000042", email="erika@neu.example")
    assert len(sms_outbox) == 1 and "erika@neu.example" in sms_outbox[0].body
    user = User.objects.get(pk=known_person.user_id)
    assert user.get_username() == user.email == "erika.muster@example.org"  # pending until the SMS password is used
    notice = mail.outbox[-1]
    assert notice.to == ["erika.muster@example.org"]
    assert "erika@neu.example" in notice.body and "bisheriges Passwort gelten weiter" in notice.body

    password = ISSUED_PASSWORD_RE.search(sms_outbox[0].body).group(1)
    with run_on_commit():
        assert portal_login(client, "erika@neu.example", password).status_code == 302
    user.refresh_from_db()
    assert user.get_username() == user.email == User.objects.get(pk=known_person.user_id).workpro_person.email \
        == "erika@neu.example"
    assert mail.outbox[-1].to == ["erika.muster@example.org"] and "geändert" in mail.outbox[-1].subject


def test_password_request_without_mobile_shows_institution_contact(client, kita, known_person, run_on_commit,
                                                                   sms_outbox):
    known_person.mobile, known_person.must_set_password = "", False  # an own password: no renewal by mail
    known_person.save()
    response = _request(client, run_on_commit, mobile="", customer_number="K-000042")
    assert response["Location"] == "/workpro/konto/passwort-anfordern/gesendet/"
    assert sms_outbox == []
    done = client.get(response["Location"], HTTP_HOST="kita.test").content.decode()
    assert "Kontakt zu Ihrer Einrichtung" in done and "info@kita.test" in done and "0341 1234" in done
    assert mail.outbox[-1].to == ["info@kita.test"]  # staff learn of the request


def test_password_request_without_match_looks_the_same(client, known_person, run_on_commit, sms_outbox):
    match = _request(client, run_on_commit)
    no_match = _request(client, run_on_commit, date_of_birth="1990-01-01")
    assert (match.status_code, match["Location"]) == (no_match.status_code, no_match["Location"])
    assert len(sms_outbox) == 1


def test_password_request_sms_limit_per_person(client, known_person, run_on_commit, sms_outbox):
    start = timezone.now()
    sent = []
    for hours in (0, 2, 4, 6):  # 3 requests every two hours
        with time_machine.travel(start + timedelta(hours=hours, minutes=1)):
            for _ in range(3):
                _request(client, run_on_commit)
        sent.append(len(sms_outbox))
    assert sent == [2, 4, 5, 5]  # at most 2 per hour and 5 per day
    with time_machine.travel(start + timedelta(hours=25)):
        _request(client, run_on_commit)
    assert len(sms_outbox) == 6


def test_password_request_rate_limit_per_ip(client, known_person, run_on_commit):
    for _ in range(10):
        _request(client, run_on_commit, date_of_birth="1990-01-01")
    response = _request(client, run_on_commit, date_of_birth="1990-01-01")
    assert response.status_code == 400
    assert "Zu viele Anfragen" in response.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"date_of_birth": "31.02.1985"}, "date_of_birth", "TT.MM.JJJJ"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", "gültiges Geburtsdatum"),
        ({"mobile": "12"}, "mobile", "gültige Telefonnummer"),
        ({"customer_number": "x" * 31}, "customer_number", "höchstens 30 Zeichen"),
        ({"email": "nope"}, "email", "gültige Mailadresse"),
        ({"last_name": ""}, "last_name", "Namen eingeben"),
    ],
)
def test_password_request_bad_input(client, known_person, run_on_commit, overrides, field, message):
    response = _request(client, run_on_commit, **overrides)
    assert response.status_code == 400
    assert any(message in e for e in response.context["form"].errors[field])
    assert BeautifulSoup(response.content, "html.parser").find("input", {"name": "first_name"})["value"] == "Erika"


# --- recovery for every account holder (#20) ---------------------------------------------------

def test_a_parent_without_birth_date_or_customer_number_recovers_with_address_and_mobile(
        client, known_person, run_on_commit, sms_outbox):
    """A parent who registered on the website has neither a birth date nor a Kundennummer on file."""
    known_person.date_of_birth, known_person.customer_number = None, None
    known_person.save()
    _request(client, run_on_commit, date_of_birth="")
    assert len(sms_outbox) == 1 and sms_outbox[0].to == "+4915123456789"
    password = ISSUED_PASSWORD_RE.search(sms_outbox[0].body).group(1)
    assert portal_login(client, "erika.muster@example.org", password).status_code == 302


@pytest.mark.parametrize("overrides", [
    {"date_of_birth": "", "email": "erika@neu.example"},       # name and mobile alone: one fact
    {"date_of_birth": "1990-01-01"},                            # a contradicting birth date
    {"mobile": "", "customer_number": "", "date_of_birth": "1985-04-12", "email": "erika@neu.example"},
])
def test_too_few_or_contradicting_facts_send_nothing(client, known_person, run_on_commit, sms_outbox, overrides):
    response = _request(client, run_on_commit, **overrides)
    assert response["Location"] == "/workpro/konto/passwort-anfordern/gesendet/"
    assert sms_outbox == [] and mail.outbox == []


def _expired_registrant(client, kita, offer, run_on_commit):
    email, old_password = _registered(client, kita, offer, run_on_commit)
    client.cookies.clear()
    person = Person.objects.get(user__email=email)
    person.password_issued_at = timezone.now() - timedelta(hours=80)
    person.save(update_fields=["password_issued_at"])
    mail.outbox.clear()
    return email, old_password


def test_an_expired_issued_password_is_renewed_by_mail_without_mobile(client, kita, offer, run_on_commit,
                                                                       sms_outbox):
    email, old_password = _expired_registrant(client, kita, offer, run_on_commit)
    response = _request(client, run_on_commit, date_of_birth="", mobile="", email=email.upper())
    assert response.status_code == 302
    assert sms_outbox == [] and len(mail.outbox) == 1 and mail.outbox[0].to == [email]
    password = password_from_mail(mail.outbox[0])
    assert password != old_password
    assert portal_login(client, email, old_password).status_code == 400
    assert portal_login(client, email, password).status_code == 302
    assert client.get("/workpro/konto/", HTTP_HOST="kita.test")["Location"].startswith("/workpro/konto/passwort")


def test_renewal_by_mail_needs_the_registered_address_and_is_limited(client, kita, offer, run_on_commit):
    email, _old = _expired_registrant(client, kita, offer, run_on_commit)
    _request(client, run_on_commit, date_of_birth="", mobile="", email="other@example.org")
    _request(client, run_on_commit, date_of_birth="", mobile="", first_name="Erna", email=email)
    assert mail.outbox == []
    for _ in range(4):
        _request(client, run_on_commit, date_of_birth="", mobile="", email=email)
    assert len(mail.outbox) == 2  # as for SMS: at most two an hour


def test_no_renewal_by_mail_once_an_own_password_was_set(client, kita, offer, run_on_commit):
    email, _old = _expired_registrant(client, kita, offer, run_on_commit)
    Person.objects.filter(user__email=email).update(must_set_password=False, password_issued_at=None)
    _request(client, run_on_commit, date_of_birth="", mobile="", email=email)
    assert mail.outbox == []


def test_every_outcome_hashes_once_and_shows_the_same_page(client, kita, offer, run_on_commit, monkeypatch):
    """No oracle: existing and unknown accounts take the same path (one password hash, same redirect)."""
    from django.contrib.auth import hashers

    email, _old = _expired_registrant(client, kita, offer, run_on_commit)
    calls = []
    real = hashers.make_password
    for where in ("django.contrib.auth.base_user.make_password", "workpro_plugin.services.accounts.make_password"):
        monkeypatch.setattr(where, lambda *a, **k: calls.append(1) or real(*a, **k))
    results = []
    for address in (email, "niemand@example.org"):
        calls.clear()
        response = _request(client, run_on_commit, date_of_birth="", mobile="", email=address)
        results.append((response.status_code, response["Location"], len(calls)))
    assert results[0] == results[1] == (302, "/workpro/konto/passwort-anfordern/gesendet/", 1)


def test_meine_daten_asks_birth_date_and_mobile_with_the_reason(client, known_person, run_on_commit):
    user = User.objects.get(pk=known_person.user_id)
    user.set_password("Sonnenblume-2026")
    user.save()
    Person.objects.filter(pk=known_person.pk).update(date_of_birth=None, must_set_password=False)
    portal_login(client, user.email, "Sonnenblume-2026")
    page = client.get("/workpro/konto/daten/", HTTP_HOST="kita.test").content.decode()
    assert "Geburtsdatum" in page and "neues Passwort per SMS anfordern" in page
    data = {"email": user.email, "street": "", "postcode": "", "city": "", "mobile": "+4915123456789",
            "language": "de", "date_of_birth": "1985-04-12"}
    refused = client.post("/workpro/konto/daten/", data, HTTP_HOST="kita.test")
    assert refused.status_code == 400 and "bisheriges Passwort" in refused.content.decode()
    assert Person.objects.get(pk=known_person.pk).date_of_birth is None
    client.post("/workpro/konto/daten/", {**data, "current_password": "Sonnenblume-2026"}, HTTP_HOST="kita.test")
    assert Person.objects.get(pk=known_person.pk).date_of_birth == date(1985, 4, 12)
