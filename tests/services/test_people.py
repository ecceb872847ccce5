"""Help a person (#21): the services that correct contact data and send a new password."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from tests.factories import helped_family, make_user
from tests.helpers import HOST, ISSUED_PASSWORD_RE
from workpro_plugin.lib.choices import AuditAction
from workpro_plugin.models import AuditEvent, LoginChange, OutboxMessage
from workpro_plugin.services import people as svc

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(world):
    return helped_family(world)


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


