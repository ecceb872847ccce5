"""Help a person (#21): staff correct contact data and send a new password, with a reason, audited."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from tests.factories import enrollment_in, make_child, make_user
from tests.helpers import HOST, ISSUED_PASSWORD_RE
from workpro_plugin.lib.choices import AuditAction
from workpro_plugin.models import AuditEvent, Enrollment, LoginChange, OutboxMessage, Person
from workpro_plugin.services import people as svc

pytestmark = pytest.mark.django_db
S = Enrollment.Status
MOBILE = "+4915123456789"


@pytest.fixture
def family(world):
    """The holder (PSB1 of Lena) has an enrollment at the KiTa and a stored mobile number."""
    world.person = world.holder.workpro_person
    Person.objects.filter(pk=world.person.pk).update(mobile=MOBILE, street="Alte Str. 1", postcode="10115",
                                                     city="Berlin", language="de")
    world.person.refresh_from_db()
    world.child = make_child(world.holder, first_name="Lena")
    world.enrollment = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder,
                                     participant=world.child)
    return world


def contact_url(person):
    return reverse("workpro_admin:person_contact", args=[person.pk])


def password_url(person):
    return reverse("workpro_admin:person_password", args=[person.pk])


def errors(response) -> dict[str, str]:
    """Field name -> the error shown next to it (Wagtail's field template)."""
    soup = BeautifulSoup(response.content, "html.parser")
    found = {}
    for error in soup.select(".error-message, .w-field__errors"):
        field = error.find_parent(attrs={"data-field-wrapper": True}) or error.find_parent("li")
        control = field.find(["input", "textarea", "select"]) if field else None
        found[control["name"] if control else ""] = error.get_text(" ", strip=True)
    return found


def contact_data(person, **overrides):
    data = {"street": person.street, "postcode": person.postcode, "city": person.city, "mobile": person.mobile,
            "email": person.user.email, "reason": "Umzug, telefonisch mitgeteilt"}
    data.update(overrides)
    return data


# --- services ------------------------------------------------------------------------------------

def test_correct_address_and_mobile_is_audited_and_announced(family, run_on_commit):
    with run_on_commit():
        result = svc.person_correct_contact(person=family.person, by=family.caseworker, street="Neue Str. 2",
                                            postcode="10117", city="Berlin", mobile="+4915199999999",
                                            email=family.holder.email, reason="Umzug")
    family.person.refresh_from_db()
    assert (family.person.street, family.person.postcode, family.person.mobile) == ("Neue Str. 2", "10117",
                                                                                   "+4915199999999")
    assert result.changed == ["street", "postcode", "mobile"] and not result.email_pending
    event = AuditEvent.objects.get(action=AuditAction.CONTACT_CORRECTED)
    assert event.actor == family.caseworker and event.person == family.person
    assert event.detail["reason"] == "Umzug" and event.detail["fields"] == ["street", "postcode", "mobile"]
    assert "Neue Str." not in str(event.detail)  # the log names fields, not the data
    notice = OutboxMessage.objects.get(template="mobile_changed")
    assert notice.recipient == family.holder.email


def test_new_mail_address_waits_for_confirmation_by_its_owner(family, client, run_on_commit):
    with run_on_commit():
        result = svc.person_correct_contact(**{"person": family.person, "by": family.caseworker,
                                               **contact_data(family.person, email="Neu@Example.org")})
    assert result.email_pending == "neu@example.org"
    family.holder.refresh_from_db()
    assert family.holder.email == "eltern@example.org"  # nothing changed yet
    link = OutboxMessage.objects.get(template="email_change_confirm")
    assert link.recipient == "neu@example.org"
    token = LoginChange.objects.get(user=family.holder, closed_at__isnull=True).new_email
    assert token == "neu@example.org"
    confirm = re.search(r"https?://[^/\s]+(/\S*mail-bestaetigen/[^/\s]+/)", mail.outbox[-1].body).group(1)
    client.force_login(family.holder)
    assert client.post(confirm, **HOST).status_code == 302
    family.holder.refresh_from_db()
    assert family.holder.email == "neu@example.org"
    assert AuditEvent.objects.filter(action=AuditAction.EMAIL_CHANGED, actor=family.holder).exists()


def test_mail_address_of_another_account_is_refused_at_the_field(family):
    make_user("besetzt@example.org")
    with pytest.raises(svc.PersonHelpError) as refused:
        svc.person_correct_contact(**{"person": family.person, "by": family.staff,
                                      **contact_data(family.person, email="besetzt@example.org")})
    assert refused.value.field == "email"
    assert not AuditEvent.objects.filter(action=AuditAction.CONTACT_CORRECTED).exists()


@pytest.mark.parametrize("channel", ["sms", "mail"])
def test_send_password_issues_an_expiring_password(family, run_on_commit, sms_outbox, channel):
    with run_on_commit():
        svc.person_send_password(person=family.person, by=family.caseworker, channel=channel,
                                 identity_check="telefon", reason="Passwort vergessen")
    family.person.refresh_from_db()
    assert family.person.must_set_password and family.person.password_issued_at is not None
    text = sms_outbox[-1].body if channel == "sms" else mail.outbox[-1].body
    password = ISSUED_PASSWORD_RE.search(text).group(1)
    user = get_user_model().objects.get(pk=family.holder.pk)
    assert user.check_password(password)
    event = AuditEvent.objects.get(action=AuditAction.PASSWORD_SENT)
    assert event.actor == family.caseworker and event.detail["channel"] == channel
    assert event.detail["reason"] == "Passwort vergessen" and event.detail["identity_check"] == "telefon"
    assert password not in str(event.detail)


def test_no_password_to_a_mobile_staff_just_changed(family):
    svc.person_correct_contact(**{"person": family.person, "by": family.caseworker,
                                  **contact_data(family.person, mobile="+4915199999999")})
    with pytest.raises(svc.PersonHelpError) as refused:
        svc.person_send_password(person=family.person, by=family.staff, channel="sms", identity_check="telefon",
                                 reason="x")
    assert refused.value.field == "channel"
    svc.person_send_password(person=family.person, by=family.staff, channel="mail", identity_check="telefon",
                             reason="x")


def test_staff_accounts_are_not_helped_here(family):
    family.person.user.groups.add(family.kita.staff_group)
    with pytest.raises(svc.PersonHelpError):
        svc.person_send_password(person=family.person, by=family.staff, channel="mail", identity_check="telefon",
                                 reason="x")


def test_staff_of_another_institution_may_not(family):
    with pytest.raises(svc.PersonHelpError):
        svc.person_send_password(person=family.person, by=family.other_staff, channel="mail",
                                 identity_check="telefon", reason="x")
    assert not AuditEvent.objects.filter(action=AuditAction.PASSWORD_SENT).exists()


# --- admin views ---------------------------------------------------------------------------------

def test_inspect_view_offers_help_to_staff(family, client):
    client.force_login(family.caseworker)
    page = client.get(reverse("workpro_plugin_person_modeladmin_inspect", args=[family.person.pk]), **HOST)
    assert page.status_code == 200
    body = page.content.decode()
    assert contact_url(family.person) in body and password_url(family.person) in body


def test_contact_form_corrects_and_redirects(family, client):
    client.force_login(family.caseworker)
    assert client.get(contact_url(family.person), **HOST).status_code == 200
    response = client.post(contact_url(family.person), contact_data(family.person, city="Potsdam",
                                                                     postcode="14467"), **HOST)
    assert response.status_code == 302
    family.person.refresh_from_db()
    assert family.person.city == "Potsdam"


@pytest.mark.parametrize(("field", "value", "message"), [
    ("mobile", "12", "gültige Telefonnummer"),
    ("mobile", "030 1234567", "Handynummer"),
    ("postcode", "1011", "fünfstellige Postleitzahl"),
    ("email", "kein-at", "gültige Mailadresse"),
    ("reason", "", "Grund"),
])
def test_contact_form_errors_stand_next_to_the_field_and_keep_the_input(family, client, field, value, message):
    client.force_login(family.caseworker)
    data = contact_data(family.person, city="Potsdam", **{field: value})
    response = client.post(contact_url(family.person), data, **HOST)
    assert response.status_code == 400
    shown = errors(response)
    assert message in shown.get(field, ""), shown
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.select_one("input[name=city]")["value"] == "Potsdam"  # nothing typed is lost
    family.person.refresh_from_db()
    assert family.person.city == "Berlin"


def test_taken_mail_address_is_shown_at_the_field(family, client):
    make_user("besetzt@example.org")
    client.force_login(family.caseworker)
    response = client.post(contact_url(family.person), contact_data(family.person, email="besetzt@example.org"),
                           **HOST)
    assert response.status_code == 400
    assert "bereits für ein anderes Konto" in errors(response)["email"]


def test_password_form_needs_identity_check_and_reason(family, client, sms_outbox):
    client.force_login(family.caseworker)
    assert client.get(password_url(family.person), **HOST).status_code == 200
    response = client.post(password_url(family.person), {"channel": "sms"}, **HOST)
    assert response.status_code == 400
    shown = errors(response)
    assert "Identität" in shown["identity_check"] and "Grund" in shown["reason"]
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.select_one("input[name=channel][value=sms]").has_attr("checked")
    assert not sms_outbox and not AuditEvent.objects.filter(action=AuditAction.PASSWORD_SENT).exists()
    done = client.post(password_url(family.person), {"channel": "sms", "identity_check": "persoenlich",
                                                     "reason": "Am Empfang"}, **HOST)
    assert done.status_code == 302


def test_password_by_sms_without_mobile_is_refused_at_the_field(family, client):
    Person.objects.filter(pk=family.person.pk).update(mobile="")
    client.force_login(family.caseworker)
    response = client.post(password_url(family.person), {"channel": "sms", "identity_check": "telefon",
                                                         "reason": "x"}, **HOST)
    assert response.status_code == 400
    assert "keine Handynummer" in errors(response)["channel"]


@pytest.mark.parametrize("who", ["other_staff", "holder", "stranger"])
@pytest.mark.parametrize("url", [contact_url, password_url])
def test_others_get_nothing(family, client, who, url):
    client.force_login(getattr(family, who))
    get = client.get(url(family.person), **HOST)
    post = client.post(url(family.person), {"channel": "mail", "identity_check": "telefon", "reason": "x"}, **HOST)
    if who == "other_staff":
        assert get.status_code == post.status_code == 404
    else:  # no admin access: to the login
        assert get.status_code == post.status_code == 302
    assert not AuditEvent.objects.filter(action__in=[AuditAction.PASSWORD_SENT,
                                                     AuditAction.CONTACT_CORRECTED]).exists()
    assert not mail.outbox
