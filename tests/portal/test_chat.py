"""Chat: access matrix, unread counts, batched notifications, attachments, corrections, hiding, inbox, queries."""

from datetime import timedelta

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import enrollment_in, pdf_bytes
from tests.factories.chat import chat_world, start_enrollment_thread
from tests.helpers import HOST
from workpro_plugin.models import (
    Conversation,
    ConversationEvent,
    Document,
    Enrollment,
    Message,
    OutboxMessage,
    Person,
)
from workpro_plugin.services import chat as svc
from workpro_plugin.services.documents import UploadError

pytestmark = pytest.mark.django_db
S = Enrollment.Status


def thread_url(conversation):
    return reverse("workpro:chat_thread", args=[conversation.pk])


def admin_thread_url(conversation):
    return reverse("workpro_chat:thread", args=[conversation.pk])


def chat_mails(**filters):
    return OutboxMessage.objects.filter(template="chat_message", **filters)


@pytest.fixture
def chat(world):
    return chat_world(world)


# --- access -------------------------------------------------------------------------------------

PORTAL_MATRIX = [
    # who, GET thread, POST a message
    ("holder", 200, 302),
    ("participant_user", 200, 302),
    ("former_psb1", 200, 403),       # reads only during the 30-day handover
    ("expired_guardian", 404, 404),
    ("stranger", 404, 404),
    ("staff", 404, 404),             # staff answer in the admin, not as a member
    ("other_staff", 404, 404),
]


@pytest.mark.parametrize(("who", "get_status", "post_status"), PORTAL_MATRIX)
def test_portal_access_matrix_for_an_enrollment_thread(chat, client, who, get_status, post_status):
    conversation = start_enrollment_thread(chat)
    client.force_login(getattr(chat, who))
    assert client.get(thread_url(conversation), **HOST).status_code == get_status
    before = Message.objects.count()
    response = client.post(thread_url(conversation), {"body": "Hallo"}, **HOST)
    assert response.status_code == post_status
    assert Message.objects.count() == before + (1 if post_status == 302 else 0)
    poll = client.get(reverse("workpro:chat_poll", args=[conversation.pk]), {"nach": 0}, **HOST)
    assert poll.status_code == (200 if get_status == 200 else 404)
    start = client.get(reverse("workpro:chat_enrollment", args=[chat.enrollment.pk]), **HOST)
    assert start.status_code == (302 if get_status == 200 else 404)


ADMIN_MATRIX = [
    # who, thread, reply, hide
    ("staff", 200, 302, 302),          # Leitung
    ("caseworker", 200, 302, 302),     # Sachbearbeitung
    ("superuser", 200, 302, 302),
    ("other_staff", 404, 404, 404),    # staff of another institution: never
    ("editor", 404, 404, 404),         # admin access, no institution
    ("holder", 302, 302, 302),         # no admin access at all: sent to the admin login
]


@pytest.mark.parametrize(("who", "thread_status", "reply_status", "hide_status"), ADMIN_MATRIX)
def test_admin_access_matrix(chat, client, who, thread_status, reply_status, hide_status):
    conversation = start_enrollment_thread(chat)
    message = conversation.messages.get()
    client.force_login(getattr(chat, who))
    assert client.get(admin_thread_url(conversation)).status_code == thread_status
    before = Message.objects.count()
    reply = client.post(admin_thread_url(conversation), {"body": "Antwort"})
    assert reply.status_code == reply_status
    assert Message.objects.filter(from_staff=True).count() == (1 if thread_status == 200 else 0)
    assert Message.objects.count() == before + (1 if thread_status == 200 else 0)
    hide = client.post(reverse("workpro_chat:hide", args=[conversation.pk, message.pk]), {"reason": "beleidigend"})
    assert hide.status_code == hide_status
    message.refresh_from_db()
    assert message.is_hidden == (thread_status == 200)
    inbox = client.get(reverse("workpro_chat:inbox"))
    if thread_status == 200:
        assert conversation in inbox.context["conversations"]
    else:
        assert inbox.status_code == 302 or conversation not in inbox.context["conversations"]
    reply_page = client.get(reverse("workpro_chat:enrollment_reply", args=[chat.enrollment.pk]))
    assert reply_page.status_code == (404 if who in ("other_staff", "editor") else 302)


def test_offer_question_belongs_to_the_asker_and_the_offers_institution(chat, client):
    message = svc.conversation_start_for_offer(offer=chat.offer, by=chat.stranger, body="Gibt es noch Plätze?")
    conversation = message.conversation
    assert conversation.kind == "angebot" and conversation.institution == chat.kita
    for who, status in [("stranger", 200), ("holder", 404), ("staff", 404)]:
        client.force_login(getattr(chat, who))
        assert client.get(thread_url(conversation), **HOST).status_code == status, who
    for who, status in [("caseworker", 200), ("other_staff", 404), ("superuser", 200)]:
        client.force_login(getattr(chat, who))
        assert client.get(admin_thread_url(conversation)).status_code == status, who
    with pytest.raises(svc.ChatError):
        svc.message_post(conversation=conversation, by=chat.other_staff, body="x", as_staff=True)
    with pytest.raises(svc.ChatError):
        svc.message_post(conversation=conversation, by=chat.holder, body="x", as_staff=False)


def test_offer_page_links_to_the_question_and_anonymous_users_log_in_first(chat, client):
    page = client.get(chat.offer.url, **HOST)
    link = BeautifulSoup(page.content, "html.parser").find("a", string="Frage zum Angebot stellen")
    assert link is not None and link["href"] == reverse("workpro:chat_offer", args=[chat.offer.pk])
    response = client.get(link["href"], **HOST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("workpro:login")) and "next=" in response["Location"]


def test_asking_about_an_offer_without_javascript(chat, client):
    client.force_login(chat.stranger)
    url = reverse("workpro:chat_offer", args=[chat.offer.pk])
    assert client.get(url, **HOST).status_code == 200
    response = client.post(url, {"body": "Gibt es ein Mittagessen?"}, **HOST)
    conversation = Conversation.objects.get(offer=chat.offer, started_by=chat.stranger)
    assert response.status_code == 302 and response["Location"].startswith(thread_url(conversation))
    page = client.get(thread_url(conversation), **HOST)
    soup = BeautifulSoup(page.content, "html.parser")
    assert "Gibt es ein Mittagessen?" in soup.select_one("#chat-messages").get_text()
    assert soup.find("a", string="Aktualisieren")["href"] == thread_url(conversation)
    # A second "Frage zum Angebot stellen" continues the same conversation.
    assert client.get(url, **HOST)["Location"] == thread_url(conversation)
    client.post(url, {"body": "Noch eine Frage"}, **HOST)
    assert Conversation.objects.filter(offer=chat.offer, started_by=chat.stranger).count() == 1


def test_empty_message_is_refused_next_to_the_field(chat, client):
    client.force_login(chat.holder)
    url = reverse("workpro:chat_enrollment", args=[chat.enrollment.pk])
    response = client.post(url, {"body": "   "}, **HOST)
    assert response.status_code == 400
    assert "Bitte schreiben Sie eine Nachricht oder wählen Sie einen Anhang." in response.content.decode()
    assert not Conversation.objects.exists()


def test_enrollment_detail_and_overview_link_to_messages(chat, client):
    conversation = start_enrollment_thread(chat)
    svc.message_post(conversation=conversation, by=chat.caseworker, body="Antwort", as_staff=True)
    client.force_login(chat.holder)
    detail = BeautifulSoup(client.get(reverse("workpro:enrollment_detail", args=[chat.enrollment.pk]),
                                      **HOST).content, "html.parser")
    link = detail.find("a", href=reverse("workpro:chat_enrollment", args=[chat.enrollment.pk]))
    assert link is not None and "1 ungelesen" in link.get_text()
    overview = BeautifulSoup(client.get(reverse("workpro:account"), **HOST).content, "html.parser")
    link = overview.find("a", href=reverse("workpro:chat_list"))
    assert "Nachrichten" in link.get_text() and "1 ungelesen" in link.get_text()


# --- unread counts and read status ----------------------------------------------------------------

def unread_in_list(client, conversation):
    response = client.get(reverse("workpro:chat_list"), **HOST)
    return {c.pk: c.unread for c in response.context["conversations"]}.get(conversation.pk)


def test_unread_counts_per_participant(chat, client):
    from workpro_plugin.selectors.chat import portal_unread_total, unread_count

    conversation = start_enrollment_thread(chat)
    assert unread_count(conversation, chat.holder) == 0  # one's own message is read
    assert unread_count(conversation, chat.participant_user) == 1
    assert unread_count(conversation, chat.caseworker) == 1 and unread_count(conversation, chat.staff) == 1
    client.force_login(chat.caseworker)
    client.get(admin_thread_url(conversation))
    assert unread_count(conversation, chat.caseworker) == 0 and unread_count(conversation, chat.staff) == 1
    for body in ("Termin am Montag", "Bitte Ausweis mitbringen"):
        svc.message_post(conversation=conversation, by=chat.caseworker, body=body, as_staff=True)
    client.force_login(chat.holder)
    assert unread_in_list(client, conversation) == 2
    assert portal_unread_total(chat.participant_user) == 3
    hidden = conversation.messages.filter(body="Termin am Montag").get()
    svc.message_hide(message=hidden, by=chat.staff, reason="falscher Termin")
    assert unread_in_list(client, conversation) == 1  # hidden messages are not counted
    page = client.get(thread_url(conversation), **HOST)
    assert "neu" in BeautifulSoup(page.content, "html.parser").select_one(".wp-chat__new").get_text()
    assert unread_in_list(client, conversation) == 0
    assert unread_count(conversation, chat.participant_user) == 2  # the participant has not read yet


def test_read_status_is_shown_to_the_writer(chat, client):
    conversation = start_enrollment_thread(chat)
    client.force_login(chat.holder)
    own = BeautifulSoup(client.get(thread_url(conversation), **HOST).content, "html.parser")
    assert "noch nicht gelesen" in own.select_one(".wp-chat__message--own").get_text()
    client.force_login(chat.caseworker)
    client.get(admin_thread_url(conversation))
    client.force_login(chat.holder)
    own = BeautifulSoup(client.get(thread_url(conversation), **HOST).content, "html.parser")
    state = own.select_one(".wp-chat__message--own .wp-chat__state").get_text()
    assert "gelesen" in state and "noch nicht" not in state


def test_polling_returns_new_and_changed_messages_and_marks_them_read(chat, client):
    from workpro_plugin.selectors.chat import unread_count

    conversation = start_enrollment_thread(chat)
    first = conversation.messages.get()
    client.force_login(chat.holder)
    poll = reverse("workpro:chat_poll", args=[conversation.pk])
    quiet = client.get(poll, {"nach": first.pk}, **HOST)
    assert quiet.status_code == 204 and quiet["X-Chat-Since"]
    since = quiet["X-Chat-Since"]
    reply = svc.message_post(conversation=conversation, by=chat.caseworker, body="Montag, 9 Uhr", as_staff=True)
    fresh = client.get(poll, {"nach": first.pk, "seit": since}, **HOST)
    items = BeautifulSoup(fresh.content, "html.parser").select("li[data-message-id]")
    assert [int(li["data-message-id"]) for li in items] == [reply.pk]
    assert unread_count(conversation, chat.holder) == 0
    svc.message_hide(message=first, by=chat.staff, reason="Test")
    changed = client.get(poll, {"nach": reply.pk, "seit": fresh["X-Chat-Since"]}, **HOST)
    text = BeautifulSoup(changed.content, "html.parser").get_text()
    assert "Diese Nachricht wurde ausgeblendet." in text and "Wann ist das Gespräch?" not in text


# --- notifications ---------------------------------------------------------------------------------

def test_first_message_mails_at_once_then_batches_per_15_minutes(chat, run_on_commit):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        with run_on_commit():
            conversation = start_enrollment_thread(chat, body="Vertrauliche Frage zu meinem Kind")
        staff_mails = chat_mails(recipient__in=[chat.staff.email, chat.caseworker.email])
        assert staff_mails.count() == 2  # unassigned: Leitung and Sachbearbeitung
        assert not chat_mails(recipient=chat.other_staff.email).exists()
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        svc.message_post(conversation=conversation, by=chat.participant_user, body="Noch etwas", as_staff=False)
        svc.message_post(conversation=conversation, by=chat.holder, body="Und noch etwas", as_staff=False)
        assert staff_mails.count() == 2
        conversation.refresh_from_db()
        assert conversation.staff_notify_pending
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        assert svc.send_pending_notifications() == 0
    with time_machine.travel(start + timedelta(minutes=12), tick=False):
        svc.conversation_mark_read(conversation=conversation, user=chat.staff, upto_id=conversation.messages.last().pk,
                               staff_side=True)
    with time_machine.travel(start + timedelta(minutes=15, seconds=30), tick=False):
        with run_on_commit():
            assert svc.send_pending_notifications() == 1  # only the caseworker has unread messages
        batch = chat_mails(recipient=chat.caseworker.email).order_by("-pk").first()
        assert batch.context["count"] == 3
        assert chat_mails(recipient=chat.staff.email).count() == 1
        assert svc.send_pending_notifications() == 0  # safe to run twice
    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        svc.message_post(conversation=conversation, by=chat.holder, body="Hallo?", as_staff=False)
        assert chat_mails(recipient=chat.caseworker.email).count() == 2  # waits for the next batch
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        assert svc.send_pending_notifications() == 2
    for sent in mail.outbox:
        assert "Vertrauliche Frage" not in sent.subject + sent.body + sent.alternatives[0][0]
        assert "Noch etwas" not in sent.body
    assert any(admin_thread_url(conversation) in sent.body for sent in mail.outbox)


def test_staff_reply_mails_the_members_in_their_language_with_a_link_only(chat, run_on_commit):
    Person.objects.filter(user=chat.participant_user).update(language="en")
    conversation = start_enrollment_thread(chat)
    mail.outbox.clear()
    with run_on_commit():
        svc.message_post(conversation=conversation, by=chat.caseworker, body="Geheimer Termin am Montag",
                         as_staff=True)
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert set(by_recipient) == {chat.holder.email, chat.participant_user.email}  # not the read-only guardian
    english = by_recipient[chat.participant_user.email]
    assert english.subject.startswith("New message") and "Neue Nachricht" in by_recipient[chat.holder.email].subject
    for sent in mail.outbox:
        assert "Geheimer Termin" not in sent.body + sent.alternatives[0][0]
        assert "http://kita.test" + thread_url(conversation) in sent.body


def test_assigned_conversation_mails_only_the_assignee(chat, run_on_commit):
    conversation = start_enrollment_thread(chat)
    with run_on_commit():
        svc.conversation_assign(conversation=conversation, by=chat.staff, assignee=chat.caseworker)
    assert OutboxMessage.objects.filter(template="chat_assigned", recipient=chat.caseworker.email).count() == 1
    assert ConversationEvent.objects.filter(conversation=conversation, action="workpro.chat.assigned",
                                            by=chat.staff).exists()
    with time_machine.travel(timezone.now() + timedelta(minutes=20)):
        before = chat_mails().count()
        svc.message_post(conversation=conversation, by=chat.holder, body="Und?", as_staff=False)
        assert list(chat_mails().order_by("pk")[before:].values_list("recipient", flat=True)) == [
            chat.caseworker.email]
    with pytest.raises(svc.ChatError):
        svc.conversation_assign(conversation=conversation, by=chat.staff, assignee=chat.other_staff)


def test_notification_schedule_is_installed():
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="workpro-chat-notifications")
    assert schedule.func == "workpro_plugin.tasks.send_chat_notifications_task" and schedule.minutes == 1


# --- attachments -------------------------------------------------------------------------------------

def jpeg_with_exif() -> bytes:
    import io

    from PIL import Image

    image = Image.new("RGB", (40, 30), "red")
    exif = Image.Exif()
    exif[0x010F] = "GeheimeKamera"  # Make
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "content", "fragment"), [
    ("brief.pdf", b"kein pdf", "ist keine PDF-, JPEG- oder PNG-Datei"),
    ("leer.pdf", b"", "ist leer"),
    ("aktiv.pdf", pdf_bytes()[:-10] + b"/JavaScript" + pdf_bytes()[-10:], "aktive Inhalte"),
    ("kaputt.png", b"\x89PNG\r\n\x1a\n" + b"0" * 50, "beschädigt"),
])
def test_bad_attachment_is_refused_and_the_text_kept(chat, client, name, content, fragment):
    client.force_login(chat.holder)
    url = reverse("workpro:chat_enrollment", args=[chat.enrollment.pk])
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    response = client.post(url, {"body": "Hier der Nachweis", "attachment": upload}, **HOST)
    assert response.status_code == 400
    soup = BeautifulSoup(response.content, "html.parser")
    error = soup.select_one("#id_attachment_error") or soup.select_one(".errorlist")
    assert fragment in error.get_text()
    assert soup.select_one("#id_body").get_text().strip() == "Hier der Nachweis"
    assert not Message.objects.exists() and not Document.objects.exists()


def test_attachment_is_deposited_and_only_members_and_staff_may_open_it(chat, client):
    client.force_login(chat.holder)
    url = reverse("workpro:chat_enrollment", args=[chat.enrollment.pk])
    client.post(url, {"body": "", "attachment": SimpleUploadedFile("scan.jpg", jpeg_with_exif())}, **HOST)
    message = Message.objects.get()
    document = message.attachment
    assert document.kind == "chat_attachment" and document.enrollment == chat.enrollment
    assert document.content_type == "image/jpeg" and document.deposited_at is not None
    with document.file.open("rb") as handle:
        assert b"GeheimeKamera" not in handle.read()  # metadata dropped
    download = reverse("workpro:chat_attachment", args=[message.conversation_id, message.pk])
    for who, status in [("holder", 200), ("participant_user", 200), ("former_psb1", 200), ("caseworker", 200),
                        ("stranger", 404), ("other_staff", 404)]:
        client.force_login(getattr(chat, who))
        assert client.get(download, **HOST).status_code == status, who
    document.refresh_from_db()
    assert document.first_opened_at is not None
    svc.message_hide(message=message, by=chat.staff, reason="falsche Datei")
    document.refresh_from_db()
    assert document.superseded
    client.force_login(chat.holder)
    assert client.get(download, **HOST).status_code == 404
    # ... not through the general document view either
    assert client.get(reverse("workpro:document", args=[document.pk]), **HOST).status_code == 404
    client.force_login(chat.caseworker)
    assert client.get(download, **HOST).status_code == 200


def test_staff_attachment_in_an_offer_question(chat):
    message = svc.conversation_start_for_offer(offer=chat.offer, by=chat.stranger, body="Gibt es einen Flyer?")
    reply = svc.message_post(conversation=message.conversation, by=chat.caseworker, body="Ja",
                             upload=SimpleUploadedFile("flyer.pdf", pdf_bytes()), as_staff=True)
    assert reply.attachment.owner == chat.stranger.workpro_person and reply.attachment.enrollment is None
    with pytest.raises(UploadError):
        svc.message_post(conversation=message.conversation, by=chat.caseworker, body="",
                         upload=SimpleUploadedFile("x.pdf", b"%PDF-kaputt"), as_staff=True)


# --- corrections and hiding -------------------------------------------------------------------------

def test_author_may_correct_within_five_minutes_never_delete(chat, client):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        conversation = start_enrollment_thread(chat, body="Termin am Dienstga?")
        message = conversation.messages.get()
        edit = reverse("workpro:chat_edit", args=[conversation.pk, message.pk])
        client.force_login(chat.participant_user)
        assert client.get(edit, **HOST).status_code == 404  # not the author
        client.force_login(chat.holder)
        page = BeautifulSoup(client.get(thread_url(conversation), **HOST).content, "html.parser")
        assert page.find("a", href=edit) is not None
        assert client.post(edit, {"body": ""}, **HOST).status_code == 400
    with time_machine.travel(start + timedelta(minutes=4), tick=False):
        assert client.post(edit, {"body": "Termin am Dienstag?"}, **HOST).status_code == 302
        message.refresh_from_db()
        assert message.body == "Termin am Dienstag?" and message.edited_at is not None
        assert message.previous_bodies[0]["body"] == "Termin am Dienstga?"
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        response = client.post(edit, {"body": "Ganz anders"}, **HOST, follow=True)
        assert "nur in den ersten 5 Minuten" in response.content.decode()
        message.refresh_from_db()
        assert message.body == "Termin am Dienstag?"
        page = BeautifulSoup(client.get(thread_url(conversation), **HOST).content, "html.parser")
        assert page.find("a", href=edit) is None
    assert not [name for name in dir(svc) if "delete" in name]


def test_staff_hide_an_abusive_message_with_a_recorded_reason(chat, client):
    conversation = start_enrollment_thread(chat, body="Eine Beleidigung")
    message = conversation.messages.get()
    client.force_login(chat.caseworker)
    hide = reverse("workpro_chat:hide", args=[conversation.pk, message.pk])
    assert client.get(hide).status_code == 200
    empty = client.post(hide, {"reason": ""})
    assert empty.status_code == 400 and "Bitte geben Sie einen Grund an." in empty.content.decode()
    assert client.post(hide, {"reason": "beleidigend"}).status_code == 302
    message.refresh_from_db()
    assert message.hidden_by == chat.caseworker and message.hidden_reason == "beleidigend" and message.hidden_at
    event = ConversationEvent.objects.get(conversation=conversation, action="workpro.chat.message_hidden")
    assert event.by == chat.caseworker and event.note == "beleidigend" and event.message == message
    staff_view = client.get(admin_thread_url(conversation)).content.decode()
    assert "Eine Beleidigung" in staff_view and "beleidigend" in staff_view
    client.force_login(chat.holder)
    member_view = client.get(thread_url(conversation), **HOST).content.decode()
    assert "Diese Nachricht wurde ausgeblendet." in member_view
    assert "Eine Beleidigung" not in member_view and "beleidigend" not in member_view
    client.force_login(chat.caseworker)
    client.post(reverse("workpro_chat:unhide", args=[conversation.pk, message.pk]))
    message.refresh_from_db()
    assert not message.is_hidden
    assert ConversationEvent.objects.filter(action="workpro.chat.message_shown", by=chat.caseworker).exists()


# --- staff inbox, assignment, inspect view ----------------------------------------------------------

def test_inbox_filters_by_offer_unanswered_and_assigned_to_me(chat, client, make_offer):
    second_offer = make_offer(chat.kita, "Hortplatz")
    enrollment_thread = start_enrollment_thread(chat)
    question = svc.conversation_start_for_offer(offer=second_offer, by=chat.stranger, body="Frage").conversation
    answered = svc.conversation_start_for_offer(offer=chat.offer, by=chat.former_psb1, body="Frage").conversation
    svc.message_post(conversation=answered, by=chat.staff, body="Antwort", as_staff=True)
    svc.conversation_assign(conversation=question, by=chat.caseworker, assignee=chat.caseworker)
    client.force_login(chat.caseworker)
    inbox = reverse("workpro_chat:inbox")

    def listed(**params):
        return {c.pk for c in client.get(inbox, params).context["conversations"]}

    assert listed() == {enrollment_thread.pk, question.pk, answered.pk}
    assert listed(angebot=second_offer.pk) == {question.pk}
    assert listed(status="unbeantwortet") == {enrollment_thread.pk, question.pk}
    assert listed(zugewiesen="mir") == {question.pk}
    assert listed(zugewiesen="niemand", status="unbeantwortet") == {enrollment_thread.pk}
    client.get(admin_thread_url(enrollment_thread))
    assert listed(ungelesen="on") == {question.pk, answered.pk}
    bad = client.get(inbox, {"angebot": "keine-zahl"})
    assert bad.status_code == 400  # a value the filter does not offer is refused, not ignored (#15)


def test_assignment_from_the_thread(chat, client):
    conversation = start_enrollment_thread(chat)
    client.force_login(chat.staff)
    assign = reverse("workpro_chat:assign", args=[conversation.pk])
    client.post(assign, {"assignee": chat.caseworker.pk})
    conversation.refresh_from_db()
    assert conversation.assigned_to == chat.caseworker
    refused = client.post(assign, {"assignee": chat.other_staff.pk})
    assert refused.status_code == 400
    conversation.refresh_from_db()
    assert conversation.assigned_to == chat.caseworker
    client.post(assign, {"mir": "1"})
    conversation.refresh_from_db()
    assert conversation.assigned_to == chat.staff
    client.post(assign, {"assignee": ""})
    conversation.refresh_from_db()
    assert conversation.assigned_to is None
    actions = list(conversation.events.values_list("action", flat=True))
    assert actions == ["workpro.chat.assigned", "workpro.chat.assigned", "workpro.chat.unassigned"]


def test_reply_from_the_enrollment_inspect_view(chat, client):
    client.force_login(chat.caseworker)
    inspect = reverse("workpro_plugin_enrollment_modeladmin_inspect", args=[chat.enrollment.pk])
    page = BeautifulSoup(client.get(inspect).content, "html.parser")
    form = page.select_one("#nachrichten form")
    assert form["action"] == reverse("workpro_chat:enrollment_reply", args=[chat.enrollment.pk])
    response = client.post(form["action"], {"body": "Bitte Impfpass mitbringen."})
    assert response.status_code == 302 and response["Location"].endswith("#nachrichten")
    conversation = Conversation.objects.get(enrollment=chat.enrollment)
    assert conversation.messages.get().from_staff
    page = BeautifulSoup(client.get(inspect).content, "html.parser")
    assert "Bitte Impfpass mitbringen." in page.select_one("#nachrichten").get_text()
    invalid = client.post(form["action"], {"body": ""})
    assert invalid.status_code == 400 and "Bitte schreiben Sie" in invalid.content.decode()
    client.force_login(chat.other_staff)
    assert client.post(form["action"], {"body": "x"}).status_code == 404


# --- queries --------------------------------------------------------------------------------------

def bulk_conversations(world, count: int):
    """`count` enrollment conversations of the holder, each with a staff reply and a member message."""
    from workpro_plugin.models import Person

    people = Person.objects.bulk_create([Person(last_name=f"Kind{i}", first_name="Test") for i in range(count)])
    enrollments = Enrollment.objects.bulk_create([
        Enrollment(offer=world.offer, institution=world.kita, account_holder=world.holder, participant=person,
                   status=S.BEWERBER, contract_number=f"Q-{person.pk}") for person in people])
    now = timezone.now()
    conversations = Conversation.objects.bulk_create([
        Conversation(kind="anmeldung", institution=world.kita, offer=world.offer, enrollment=enrollment,
                     started_by=world.holder, last_message_at=now, assigned_to=world.caseworker if i % 2 else None)
        for i, enrollment in enumerate(enrollments)])
    Message.objects.bulk_create([
        Message(conversation=c, author=author, from_staff=staff, body="x", created_at=now)
        for c in conversations for author, staff in ((world.caseworker, True), (world.holder, False))])


@pytest.mark.parametrize("view", ["portal_list", "admin_inbox"])
def test_list_query_count_does_not_grow_with_conversations(chat, client, view):
    counts = []
    for total in (5, 100):
        Message.objects.all().delete()
        Conversation.objects.all().delete()
        bulk_conversations(chat, total)
        if view == "portal_list":
            client.force_login(chat.holder)
            url, extra = reverse("workpro:chat_list"), HOST
        else:
            client.force_login(chat.caseworker)
            url, extra = reverse("workpro_chat:inbox"), {}
        client.get(url, **extra)  # warm caches (site, session)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, **extra)
        assert response.status_code == 200
        shown = response.context["conversations"]
        assert len(shown) == min(total, 30 if view == "portal_list" else 50)
        assert all(c.unread == 1 for c in shown)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_thread_query_count_does_not_grow_with_messages(chat, client):
    conversation = start_enrollment_thread(chat)
    counts = []
    for extra in (3, 120):
        Message.objects.bulk_create([
            Message(conversation=conversation, author=chat.caseworker if i % 2 else chat.holder,
                    from_staff=bool(i % 2), body=f"Nachricht {i}") for i in range(extra)])
        client.force_login(chat.holder)
        client.get(thread_url(conversation), **HOST)
        with CaptureQueriesContext(connection) as queries:
            client.get(thread_url(conversation), **HOST)
        counts.append(len(queries))
        client.force_login(chat.caseworker)
    assert counts[0] == counts[1], counts


def test_line_breaks_are_stored_as_lf_whatever_the_browser_sends(world):
    enrollment = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder)
    conversation = svc.conversation_for_enrollment(enrollment=enrollment, by=world.holder)
    message = svc.message_post(conversation=conversation, by=world.holder, body="Guten Tag,\r\n\r\nwann?\rDanke",
                               as_staff=False)
    assert message.body == "Guten Tag,\n\nwann?\nDanke"
    edited = svc.message_edit(message=message, by=world.holder, body="Guten Tag,\r\nwann genau?\r\n")
    assert edited.body == "Guten Tag,\nwann genau?"


def test_the_message_list_is_paginated_by_the_shared_include(world, client):
    now = timezone.now()
    Conversation.objects.bulk_create([
        Conversation(kind=Conversation.Kind.OFFER, institution=world.kita, started_by=world.holder,
                     last_message_at=now - timedelta(minutes=i)) for i in range(31)])
    client.force_login(world.holder)
    first = BeautifulSoup(client.get(reverse("workpro:chat_list"), **HOST).content, "html.parser")
    nav = first.select_one(".wp-pagination")
    assert "Seite 1 von 2" in nav.get_text()
    assert [(a.get_text(), a["href"]) for a in nav.select("a")] == [("Weiter", "?seite=2")]
    second = BeautifulSoup(client.get(reverse("workpro:chat_list") + "?seite=2", **HOST).content, "html.parser")
    nav = second.select_one(".wp-pagination")
    assert "Seite 2 von 2" in nav.get_text()
    assert [(a.get_text(), a["href"]) for a in nav.select("a")] == [("Zurück", "?seite=1")]
    assert len(second.select("tbody tr")) == 1
