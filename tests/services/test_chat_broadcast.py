"""Rundnachricht (#21): whom a message to a group reaches, and its delivery into each family's chat."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import families_in_offer, krippe_families
from tests.helpers import HOST
from workpro_plugin.models import Conversation, Message, OutboxMessage
from workpro_plugin.selectors.chat import broadcast_enrollments
from workpro_plugin.services import chat as svc

pytestmark = pytest.mark.django_db


@pytest.fixture
def krippe(world):
    return krippe_families(world)


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


def test_query_count_does_not_grow_with_the_group(krippe):
    def send(count):
        offer = families_in_offer(krippe.kita, f"Gruppe {count}", count, "f")
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
