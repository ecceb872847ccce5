"""Chat: a thread with 1,000 messages (portal and admin, poll) and the staff inbox with 5,000 conversations."""

from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from bench.util import load_average, measure, measure_against, report, report_pair


def run() -> None:
    from workpro_plugin.models import (
        Conversation,
        Enrollment,
        Institution,
        Message,
        OfferPage,
        Person,
    )
    from workpro_plugin.services import chat as svc
    from workpro_site.demo import load_demo

    load_demo(port=8000)
    User = get_user_model()
    kita = Institution.objects.get(slug="kita-sonnenschein")
    offer = OfferPage.objects.get(slug="krippenplatz")
    parent = User.objects.get(username="eltern@example.org")
    lead = User.objects.get(username="leitung@kita-sonnenschein.example")
    caseworker = User.objects.get(username="mitarbeiter@kita-sonnenschein.example")

    # One thread with 1,000 messages, on the demo parent's own enrollment.
    enrollment = Enrollment.objects.filter(account_holder=parent, institution=kita).order_by("pk").first()
    thread = svc.conversation_for_enrollment(enrollment=enrollment, by=parent)
    missing = 1000 - thread.messages.count()
    if missing > 0:
        Message.objects.bulk_create([
            Message(conversation=thread, author=caseworker if i % 2 else parent, from_staff=bool(i % 2),
                    body=f"Nachricht {i}: " + "Bitte bringen Sie den Impfpass mit. " * (1 + i % 4))
            for i in range(missing)], batch_size=1000)
    last = thread.messages.order_by("-pk").first()
    Conversation.objects.filter(pk=thread.pk).update(last_message_at=timezone.now(), last_message_from_staff=False)
    print(f"   thread with {thread.messages.count()} messages")

    # The inbox: 5,000 conversations of 5,000 enrollments, two messages each, every other one assigned.
    existing = Conversation.objects.filter(institution=kita).count()
    if existing < 5000:
        count = 5000 - existing
        people = Person.objects.bulk_create([Person(last_name=f"Chat{i}", first_name="Kind") for i in range(count)])
        enrollments = Enrollment.objects.bulk_create([
            Enrollment(offer=offer, institution=kita, account_holder=parent, participant=person,
                       status=Enrollment.Status.BEWERBER, contract_number=f"CHAT-{i:05d}")
            for i, person in enumerate(people)], batch_size=2000)
        now = timezone.now()
        conversations = Conversation.objects.bulk_create([
            Conversation(kind=Conversation.Kind.ENROLLMENT, institution=kita, offer=offer, enrollment=e,
                         started_by=parent, last_message_at=now - timezone.timedelta(minutes=i),
                         last_message_from_staff=bool(i % 3 == 0), assigned_to=lead if i % 2 else None)
            for i, e in enumerate(enrollments)], batch_size=2000)
        Message.objects.bulk_create([
            Message(conversation=c, author=author, from_staff=staff, body="Frage oder Antwort")
            for c in conversations for author, staff in ((parent, False), (caseworker, True))], batch_size=5000)
    print(f"   {Conversation.objects.filter(institution=kita).count()} conversations, "
          f"{Message.objects.count()} messages")

    portal = Client(HTTP_HOST="127.0.0.1:8000", SERVER_PORT="8000")
    portal.force_login(parent)
    admin = Client(HTTP_HOST="127.0.0.1:8000", SERVER_PORT="8000")
    admin.force_login(lead)
    print(f"   {load_average()}")
    bare = "bare admin page (/admin/account/)"
    # The overview page lists every contract of the holder (here 5,000), so the unread count is timed alone.
    from workpro_plugin.selectors.chat import portal_unread_total

    report("unread total for Mein Konto (5,000 conversations)", measure(lambda: portal_unread_total(parent),
                                                                         repeat=30))
    cases = [
        (portal, "portal thread, 1,000 messages (latest 50)", f"/workpro/konto/nachrichten/{thread.pk}/"),
        (portal, "portal poll, nothing new (204)", f"/workpro/konto/nachrichten/{thread.pk}/neu/?nach={last.pk}"),
        (portal, "portal conversation list (5,000, page 1)", "/workpro/konto/nachrichten/"),
        (admin, "admin thread, 1,000 messages (latest 50)", f"/admin/workpro/nachrichten/{thread.pk}/"),
        (admin, "admin inbox, 5,000 conversations", "/admin/workpro/nachrichten/"),
        (admin, "admin inbox, unanswered", "/admin/workpro/nachrichten/?status=unbeantwortet"),
        (admin, "admin inbox, assigned to me", "/admin/workpro/nachrichten/?zugewiesen=mir"),
        (admin, "admin inbox, only unread", "/admin/workpro/nachrichten/?ungelesen=on"),
        (admin, "admin inbox, page 50", "/admin/workpro/nachrichten/?p=50"),
    ]
    for client, label, url in cases:
        assert client.get(url).status_code in (200, 204), url
        report_pair(label, bare, measure_against(lambda: admin.get("/admin/account/"),
                                                 lambda c=client, u=url: c.get(u), repeat=30))
