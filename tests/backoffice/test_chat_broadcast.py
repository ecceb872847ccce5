"""Rundnachricht (#21): one message to the families of an offer or status, into each family's chat."""

from __future__ import annotations

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import enrollment_in, make_child, make_user
from tests.helpers import HOST
from workpro_plugin.models import Conversation, Enrollment, Message, OutboxMessage
from workpro_plugin.selectors.chat import broadcast_enrollments
from workpro_plugin.services import chat as svc

pytestmark = pytest.mark.django_db
S = Enrollment.Status
URL = "/admin/workpro/nachrichten/rundnachricht/"


@pytest.fixture
def krippe(world, make_offer):
    """At the KiTa's Krippe: the holder with two children (Bewerber), the stranger's child (Bewerber), a third
    family (Kandidat) and a withdrawn one; at the other institution one Bewerber."""
    world.lena = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder,
                               participant=make_child(world.holder, first_name="Lena"))
    world.tom = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder,
                              participant=make_child(world.holder, first_name="Tom"))
    world.fremd = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.stranger,
                                participant=make_child(world.stranger, first_name="Mia"))
    third = make_user("dritte@example.org")
    world.kandidat = enrollment_in(S.KANDIDAT, offer=world.offer, institution=world.kita, holder=third,
                                   participant=make_child(third, first_name="Ole"))
    gone = make_user("weg@example.org")
    enrollment_in(S.ZURUECKGEZOGEN, offer=world.offer, institution=world.kita, holder=gone,
                  participant=make_child(gone, first_name="Ida"))
    world.foreign_offer = make_offer(world.other, "Ausbildung")
    other = make_user("azubi@example.org")
    world.foreign = enrollment_in(S.BEWERBER, offer=world.foreign_offer, institution=world.other, holder=other)
    return world


def families(user, offer, status=""):
    return sorted(e.account_holder.email for e in broadcast_enrollments(user, offer=offer, status=status))


# --- recipients --------------------------------------------------------------------------------------

def test_one_message_per_family_of_the_status(krippe):
    assert families(krippe.caseworker, krippe.offer, "bewerber") == ["eltern@example.org", "fremd@example.org"]
    assert families(krippe.caseworker, krippe.offer) == ["dritte@example.org", "eltern@example.org",
                                                         "fremd@example.org"]  # never the withdrawn one


def test_only_own_institution(krippe):
    assert families(krippe.caseworker, krippe.foreign_offer) == []
    assert families(krippe.other_staff, krippe.offer) == []
    assert families(krippe.other_staff, krippe.foreign_offer) == ["azubi@example.org"]


# --- delivery ------------------------------------------------------------------------------------------

def test_delivered_into_each_family_chat_and_mailed_once(krippe, run_on_commit):
    with run_on_commit():
        result = svc.broadcast_send(enrollments=broadcast_enrollments(krippe.caseworker, offer=krippe.offer,
                                                                      status="bewerber"),
                                    by=krippe.caseworker, body="Hallo {vorname}, Elternabend am Montag.")
    assert (result.families, result.mailed, result.batched) == (2, 2, 0)
    messages = Message.objects.filter(from_staff=True).select_related("conversation__enrollment")
    assert sorted(m.conversation.enrollment_id for m in messages) == [krippe.lena.pk, krippe.fremd.pk]
    bodies = {m.conversation.enrollment.account_holder.email: m.body for m in messages}
    assert bodies["eltern@example.org"].startswith("Hallo Eltern,")  # placeholders per family
    mails = OutboxMessage.objects.filter(template="chat_message")
    assert sorted(m.recipient for m in mails) == ["eltern@example.org", "fremd@example.org"]
    assert all("Elternabend" not in str(m.context) for m in mails)  # mails carry a link, never the text
    conversation = Conversation.objects.get(enrollment=krippe.lena)
    assert conversation.last_message_from_staff and conversation.member_notified_at is not None


def test_recently_mailed_family_waits_for_the_batch(krippe, run_on_commit):
    conversation = svc.conversation_for_enrollment(enrollment=krippe.fremd, by=krippe.stranger)
    svc.message_post(conversation=conversation, by=krippe.caseworker, body="Erste Antwort", as_staff=True)
    OutboxMessage.objects.all().delete()
    result = svc.broadcast_send(enrollments=broadcast_enrollments(krippe.caseworker, offer=krippe.offer,
                                                                  status="bewerber"),
                                by=krippe.caseworker, body="Elternabend")
    assert (result.mailed, result.batched) == (1, 1)
    assert list(OutboxMessage.objects.values_list("recipient", flat=True)) == ["eltern@example.org"]
    conversation.refresh_from_db()
    assert conversation.member_notify_pending
    sent = svc.send_pending_notifications(now=timezone.now() + timedelta(minutes=16))
    assert sent == 1
    assert OutboxMessage.objects.filter(recipient="fremd@example.org", template="chat_message").count() == 1


def test_reply_comes_back_as_an_ordinary_conversation(krippe, client):
    svc.broadcast_send(enrollments=broadcast_enrollments(krippe.caseworker, offer=krippe.offer),
                       by=krippe.caseworker, body="Elternabend")
    conversation = Conversation.objects.get(enrollment=krippe.lena)
    svc.message_post(conversation=conversation, by=krippe.holder, body="Wir kommen.", as_staff=False)
    conversation.refresh_from_db()
    assert not conversation.last_message_from_staff  # "unbeantwortet" in the inbox
    client.force_login(krippe.caseworker)
    inbox = client.get(reverse("workpro_chat:inbox") + "?status=unbeantwortet", **HOST)
    assert conversation in list(inbox.context["conversations"])


def test_query_count_does_not_grow_with_the_group(krippe, make_offer):
    def send(count):
        offer = make_offer(krippe.kita, f"Gruppe {count}")
        for i in range(count):
            user = make_user(f"f{count}-{i}@example.org")
            enrollment_in(S.BEWERBER, offer=offer, institution=krippe.kita, holder=user,
                          participant=make_child(user, first_name=f"K{i}"))
        with CaptureQueriesContext(connection) as queries:
            svc.broadcast_send(enrollments=broadcast_enrollments(krippe.caseworker, offer=offer),
                               by=krippe.caseworker, body="Hallo {vorname}")
        return len(queries)

    send(1)  # warm-up: caches filled once per process (content types, site root paths)
    small, large = send(2), send(8)
    assert small == large, (small, large)


def test_refused_for_staff_of_another_institution(krippe):
    with pytest.raises(svc.ChatError):
        svc.broadcast_send(enrollments=[krippe.lena], by=krippe.other_staff, body="Hallo")
    assert not Message.objects.exists()


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
    from workpro_plugin.models import CannedReply

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


def test_confirmation_query_count_does_not_grow_with_the_group(krippe, client, make_offer):
    client.force_login(krippe.caseworker)

    def confirm(count):
        offer = make_offer(krippe.kita, f"Gruppe {count}")
        for i in range(count):
            user = make_user(f"c{count}-{i}@example.org")
            enrollment_in(S.BEWERBER, offer=offer, institution=krippe.kita, holder=user,
                          participant=make_child(user, first_name=f"K{i}"))
        with CaptureQueriesContext(connection) as queries:
            response = client.post(URL, _form(angebot=offer.pk, weiter="1"), **HOST)
        assert f"geht an {count} Famili" in response.content.decode()
        return len(queries)

    confirm(1)
    assert confirm(2) == confirm(8)
