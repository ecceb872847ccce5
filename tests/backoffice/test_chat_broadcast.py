"""Rundnachricht (#21) in the admin: form, confirmation with the number of families, summary, who may."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import families_in_offer, krippe_families
from tests.helpers import HOST
from workpro_plugin.models import CannedReply, Message

pytestmark = pytest.mark.django_db
URL = "/admin/workpro/nachrichten/rundnachricht/"


@pytest.fixture
def krippe(world):
    return krippe_families(world)


# --- admin ---------------------------------------------------------------------------------------------

def _form(**overrides):
    data = {"angebot": "", "status": "bewerber", "betreff": "Elternabend", "text": "Am Montag um 18 Uhr.",
            "textbaustein": ""}
    data.update(overrides)
    return data


def test_form_confirm_send(krippe, client):
    client.force_login(krippe.caseworker)
    page = client.get(URL, **HOST)
    assert page.status_code == 200
    offers = {o.pk for o in page.context["form"].fields["angebot"].queryset}
    assert krippe.offer.pk in offers and krippe.foreign_offer.pk not in offers
    confirm = client.post(URL, _form(angebot=krippe.offer.pk, weiter="1"), **HOST)
    assert confirm.status_code == 200
    assert "geht an 2 Familien" in confirm.content.decode()
    assert not Message.objects.exists()  # nothing sent before "Senden"
    hidden = {i["name"]: i["value"] for i in BeautifulSoup(confirm.content, "html.parser").select("input[type=hidden]")}
    assert hidden["familien"] == "2" and hidden["betreff"] == "Elternabend"
    sent = client.post(URL, {**hidden, "senden": "1"}, **HOST, follow=True)
    assert sent.redirect_chain[-1][0] == reverse("workpro_chat:inbox")
    assert "Rundnachricht an 2 Familien gesendet" in sent.content.decode()
    assert Message.objects.filter(body="Elternabend\n\nAm Montag um 18 Uhr.").count() == 2


def test_changed_group_is_confirmed_again(krippe, client):
    client.force_login(krippe.caseworker)
    response = client.post(URL, {**_form(angebot=krippe.offer.pk), "familien": "5", "senden": "1"}, **HOST)
    assert response.status_code == 200
    assert "hat sich geändert" in response.content.decode() and "geht an 2 Familien" in response.content.decode()
    assert not Message.objects.exists()


def test_errors_stand_at_the_field_and_keep_the_input(krippe, client):
    client.force_login(krippe.caseworker)
    response = client.post(URL, _form(angebot=krippe.offer.pk, betreff="", text="", weiter="1"), **HOST)
    assert response.status_code == 400
    assert "Bitte schreiben Sie eine Nachricht" in response.content.decode()
    foreign = client.post(URL, _form(angebot=krippe.foreign_offer.pk, weiter="1"), **HOST)
    assert foreign.status_code == 400
    soup = BeautifulSoup(foreign.content, "html.parser")
    assert soup.select_one("input[name=betreff]")["value"] == "Elternabend"
    empty = client.post(URL, _form(angebot=krippe.offer.pk, status="ratifiziert", weiter="1"), **HOST)
    assert empty.status_code == 400 and "keine Familie" in empty.content.decode()


def test_canned_reply_is_appended(krippe, client):
    reply = CannedReply.objects.create(institution=krippe.kita, title="Gruß", body="Viele Grüße, {einrichtung}")
    foreign = CannedReply.objects.create(institution=krippe.other, title="Fremd", body="x")
    client.force_login(krippe.caseworker)
    page = client.get(URL, **HOST)
    choices = dict(page.context["form"].fields["textbaustein"].choices)
    assert reply.pk in choices and foreign.pk not in choices
    confirm = client.post(URL, _form(angebot=krippe.offer.pk, textbaustein=reply.pk, weiter="1"), **HOST)
    hidden = {i["name"]: i["value"] for i in BeautifulSoup(confirm.content, "html.parser").select("input[type=hidden]")}
    client.post(URL, {**hidden, "senden": "1"}, **HOST)
    assert Message.objects.filter(body__endswith=f"Viele Grüße, {krippe.kita.name}").count() == 2


@pytest.mark.parametrize(("who", "status"), [("holder", 302), ("other_staff", 200)])
def test_permission(krippe, client, who, status):
    client.force_login(getattr(krippe, who))
    assert client.get(URL, **HOST).status_code == status
    response = client.post(URL, {**_form(angebot=krippe.offer.pk), "familien": "2", "senden": "1"}, **HOST)
    assert response.status_code in (302, 400)
    assert not Message.objects.exists()


def test_confirmation_query_count_does_not_grow_with_the_group(krippe, client):
    client.force_login(krippe.caseworker)

    def confirm(count):
        offer = families_in_offer(krippe.kita, f"Gruppe {count}", count, "c")
        with CaptureQueriesContext(connection) as queries:
            response = client.post(URL, _form(angebot=offer.pk, weiter="1"), **HOST)
        assert f"geht an {count} Famili" in response.content.decode()
        return len(queries)

    confirm(1)
    assert confirm(2) == confirm(8)
