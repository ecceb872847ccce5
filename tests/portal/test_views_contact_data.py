"""Meine Daten: address and mobile changes, email change confirmed by a link, both announced."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests.factories import make_user

pytestmark = pytest.mark.django_db
URL = "/workpro/konto/daten/"
PASSWORD = "Eltern-Passwort-2026"


@pytest.fixture
def holder(client):
    user = make_user("eltern@example.org", mobile="+4915112345678", street="Alt 1", postcode="04109", city="Leipzig")
    user.set_password(PASSWORD)
    user.save()
    client.force_login(user)
    return user


def _post(client, run_on_commit, **overrides):
    data = {"email": "eltern@example.org", "street": "Neu 2", "postcode": "04109", "city": "Leipzig",
            "mobile": "0151 98765432", "date_of_birth": "1985-01-01", "language": "de",  # as the form shows them
            "current_password": PASSWORD}
    data.update(overrides)
    with run_on_commit():
        return client.post(URL, data)


def test_mobile_change_is_saved_and_announced(client, holder, run_on_commit):
    response = _post(client, run_on_commit)
    assert response.status_code == 302
    holder.workpro_person.refresh_from_db()
    assert (holder.workpro_person.street, holder.workpro_person.mobile) == ("Neu 2", "+4915198765432")
    assert [m.subject for m in mail.outbox] == ["Ihre Handynummer bei WorkPro wurde geändert"]
    assert mail.outbox[0].to == ["eltern@example.org"] and "5432" in mail.outbox[0].body


def test_bad_input_keeps_everything_typed(client, holder, run_on_commit):
    response = _post(client, run_on_commit, mobile="0341 1234567", postcode="4109", street="Typed 3")
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "Handynummer" in " ".join(errors["mobile"]) and "fünfstellige" in " ".join(errors["postcode"])
    assert response.context["form"]["street"].value() == "Typed 3"
    holder.workpro_person.refresh_from_db()
    assert holder.workpro_person.street == "Alt 1"


def test_email_change_needs_the_link_and_tells_the_old_address(client, holder, run_on_commit):
    _post(client, run_on_commit, email="Neu@Example.org", mobile="0151 12345678")
    holder.refresh_from_db()
    assert holder.email == "eltern@example.org"  # unchanged until confirmed
    confirm = mail.outbox[-1]
    assert confirm.to == ["neu@example.org"]
    path = re.search(r"(/workpro/konto/daten/mail-bestaetigen/[^/\s]+/)", confirm.body).group(1)
    stranger = Client()
    stranger.force_login(make_user("fremd@example.org"))
    stranger.post(path)
    holder.refresh_from_db()
    assert holder.email == "eltern@example.org"  # someone else's session cannot use the link
    assert "neu@example.org" in client.get(path).content.decode()  # GET only asks
    holder.refresh_from_db()
    assert holder.email == "eltern@example.org"
    with run_on_commit():
        client.post(path)
    holder.refresh_from_db()
    assert holder.get_username() == holder.email == "neu@example.org"
    assert mail.outbox[-1].to == ["eltern@example.org"] and "neu@example.org" in mail.outbox[-1].body


def test_expired_or_forged_link_changes_nothing(client, holder, run_on_commit):
    _post(client, run_on_commit, email="neu@example.org", mobile="0151 12345678")
    path = re.search(r"(/workpro/konto/daten/mail-bestaetigen/[^/\s]+/)", mail.outbox[-1].body).group(1)
    forged = client.get(path[:-5] + "xxxx/", follow=True)
    assert "ungültig" in forged.content.decode()
    with time_machine.travel(timezone.now() + timedelta(days=4)):
        client.force_login(holder)  # the 8-hour session is long gone by then
        expired = client.get(path, follow=True)
    assert "abgelaufen" in expired.content.decode()
    holder.refresh_from_db()
    assert holder.email == "eltern@example.org"


def test_email_taken_by_another_account_is_refused_on_confirmation(client, holder, run_on_commit):
    make_user("vergeben@example.org")
    _post(client, run_on_commit, email="vergeben@example.org", mobile="0151 12345678")
    path = re.search(r"(/workpro/konto/daten/mail-bestaetigen/[^/\s]+/)", mail.outbox[-1].body).group(1)
    response = client.post(path, follow=True)
    assert "bereits für ein anderes Konto" in response.content.decode()
    holder.refresh_from_db()
    assert holder.email == "eltern@example.org"


def test_contact_data_needs_login(client):
    assert client.get(URL).status_code == 302


@pytest.mark.parametrize("password", ["", "falsch-falsch"])
@pytest.mark.parametrize("change", [{"email": "neu@example.org"}, {"mobile": "0151 55555555"}])
def test_address_or_mobile_change_needs_the_current_password(client, holder, run_on_commit, change, password):
    """Mailadresse and Handynummer lead to a new password: a borrowed session alone cannot redirect them."""
    response = _post(client, run_on_commit, **{"mobile": "+4915112345678", **change, "current_password": password})
    assert response.status_code == 400
    assert "bisheriges Passwort" in " ".join(response.context["form"].errors["current_password"])
    holder.refresh_from_db()
    holder.workpro_person.refresh_from_db()
    assert (holder.email, holder.workpro_person.mobile) == ("eltern@example.org", "+4915112345678")
    assert mail.outbox == []
    # Street and language alone need no password.
    assert _post(client, run_on_commit, mobile="+4915112345678", current_password="").status_code == 302
