"""Help a person (#21) in the admin: the forms, their errors next to the fields, who may use them."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.core import mail
from django.urls import reverse

from tests.factories import helped_family, make_user
from tests.helpers import HOST
from workpro_plugin.lib.choices import AuditAction
from workpro_plugin.models import AuditEvent, Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(world):
    return helped_family(world)


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
