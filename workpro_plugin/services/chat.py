"""Chat services: start a conversation, post, correct, hide, assign, mark read, notify.

Each write runs in one transaction with the conversation (or message) row locked,
checks who may do it (selectors.chat), and queues mail through the outbox so it
leaves only after commit. Mails never carry the text of a message, only a link.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ..access import Access, enrollment_member_access, is_chat_staff, member_access
from ..models import (
    Conversation,
    ConversationEvent,
    ConversationRead,
    Document,
    Enrollment,
    Message,
    OfferPage,
)
from ..models.chat import MAX_BODY_LENGTH, NOTIFY_INTERVAL
from ..selectors.chat import fill_placeholders, institution_staff, placeholder_values, unread_count
from . import privacy
from .documents import CheckedFile, check_upload, deposit, merge_to_pdf
from .errors import ServiceError
from .images import clean_image
from .notify import queue_mail, queue_mails

MEMBER, STAFF = "member", "staff"


class ChatError(ServiceError):
    """A refused chat action; the message is shown to the user."""


# --- starting ---------------------------------------------------------------------------------

def conversation_start_for_offer(*, offer: OfferPage, by, body: str, upload=None) -> Message:
    """Frage zum Angebot stellen: one conversation per person and offer, continued if it exists."""
    institution = offer.get_institution()
    if institution is None:
        raise ChatError(_("Zu diesem Angebot ist keine Einrichtung hinterlegt."))
    checked = _validated(body, upload)
    with transaction.atomic():
        conversation, _created = Conversation.objects.get_or_create(
            kind=Conversation.Kind.OFFER, offer=offer, started_by=by, defaults={"institution": institution})
        return _post(conversation.pk, by=by, body=body, checked=checked, as_staff=False)


def conversation_for_enrollment(*, enrollment: Enrollment, by) -> Conversation:
    """The enrollment's conversation, created on first use (by a member with write access or staff)."""
    if enrollment_member_access(by, enrollment) != Access.WRITE and not is_chat_staff(by, enrollment.institution):
        raise ChatError(_("Sie können in dieser Unterhaltung nicht schreiben."))
    conversation, _created = Conversation.objects.get_or_create(
        enrollment=enrollment, defaults={"kind": Conversation.Kind.ENROLLMENT, "institution_id": enrollment.institution_id,
                                         "offer_id": enrollment.offer_id, "started_by": by})
    return conversation


# --- posting ----------------------------------------------------------------------------------

def message_post(*, conversation: Conversation | int, by, body: str, upload=None, as_staff: bool) -> Message:
    """A new message from a member with write access (`as_staff=False`) or from the institution's staff.

    The other side is mailed at once if it was not mailed in the last 15 minutes;
    otherwise the message waits for the next batch (send_pending_notifications).
    """
    checked = _validated(body, upload)
    pk = conversation.pk if isinstance(conversation, Conversation) else conversation
    with transaction.atomic():
        return _post(pk, by=by, body=body, checked=checked, as_staff=as_staff)


def _text(body: str | None) -> str:
    """The stored form of a message: browsers send CRLF line breaks, the database keeps LF."""
    return (body or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _validated(body: str, upload) -> CheckedFile | None:
    """Text and attachment are checked before anything is stored (UploadError has the German reason)."""
    body = _text(body)
    if len(body) > MAX_BODY_LENGTH:
        raise ChatError(_("Eine Nachricht darf höchstens %(max)s Zeichen lang sein.") % {"max": MAX_BODY_LENGTH})
    checked = check_upload(upload) if upload else None
    if not body and checked is None:
        raise ChatError(_("Bitte schreiben Sie eine Nachricht oder wählen Sie einen Anhang."))
    return checked


def _locked(pk: int) -> Conversation:
    return (Conversation.objects.select_for_update(of=("self",))
            .select_related("institution__site", "offer", "enrollment__participant__user",
                            "enrollment__account_holder__workpro_person", "started_by__workpro_person",
                            "assigned_to__workpro_person")
            .get(pk=pk))


def _check_write(conversation: Conversation, by, *, as_staff: bool) -> None:
    allowed = (is_chat_staff(by, conversation.institution) if as_staff
               else member_access(by, conversation) == Access.WRITE)
    if not allowed:
        raise ChatError(_("Sie können in dieser Unterhaltung nicht schreiben."))


def _post(pk: int, *, by, body: str, checked: CheckedFile | None, as_staff: bool) -> Message:
    conversation = _locked(pk)
    _check_write(conversation, by, as_staff=as_staff)
    now = timezone.now()
    attachment = _deposit_attachment(conversation, checked, by) if checked else None
    message = Message.objects.create(conversation=conversation, author=by, from_staff=as_staff,
                                     body=_text(body), attachment=attachment, created_at=now)
    conversation.last_message_at = now
    conversation.last_message_from_staff = as_staff
    _notify_other_side(conversation, side=MEMBER if as_staff else STAFF, now=now, author=by)
    conversation.save(update_fields=["last_message_at", "last_message_from_staff", "member_notified_at",
                                     "member_notify_pending", "staff_notified_at", "staff_notify_pending"])
    _advance_read(conversation, by, message.pk, staff_side=as_staff)
    return message


def _deposit_attachment(conversation: Conversation, checked: CheckedFile, by) -> Document:
    """The attachment is deposited like any document ("zugestellt"); photos lose their metadata."""
    content, content_type = _without_metadata(checked)
    owner = None
    if conversation.enrollment_id is None and conversation.started_by_id:
        owner = getattr(conversation.started_by, "workpro_person", None)
    name = os.path.basename(checked.name)[:150] or "datei"
    return deposit(kind=Document.Kind.CHAT_ATTACHMENT, title=_("Anhang: %(name)s") % {"name": name},
                   content=content, enrollment=conversation.enrollment, owner=owner, by=by,
                   content_type=content_type)


def _without_metadata(checked: CheckedFile) -> tuple[bytes, str]:
    if checked.kind == "pdf":
        # Written anew: bytes after %%EOF (a ZIP, HTML), unreferenced objects and comments are gone.
        return merge_to_pdf([checked]), "application/pdf"
    if checked.kind == "jpeg":
        return clean_image(checked.content, output="JPEG", name=checked.name), "image/jpeg"
    return clean_image(checked.content, output="PNG", name=checked.name), "image/png"


# --- correcting, hiding -----------------------------------------------------------------------

def _locked_message(message: Message | int) -> Message:
    pk = message.pk if isinstance(message, Message) else message
    return (Message.objects.select_for_update(of=("self",))
            .select_related("conversation__institution", "conversation__enrollment__participant", "attachment")
            .get(pk=pk))


def message_edit(*, message: Message | int, by, body: str) -> Message:
    """Authors may correct their text within five minutes; earlier wordings are kept for staff."""
    body = _text(body)
    with transaction.atomic():
        locked = _locked_message(message)
        if not locked.editable_by(by):
            raise ChatError(_("Nachrichten können nur in den ersten 5 Minuten bearbeitet werden."))
        _check_write(locked.conversation, by, as_staff=locked.from_staff)
        if not body and locked.attachment_id is None:
            raise ChatError(_("Bitte schreiben Sie eine Nachricht oder wählen Sie einen Anhang."))
        if len(body) > MAX_BODY_LENGTH:
            raise ChatError(_("Eine Nachricht darf höchstens %(max)s Zeichen lang sein.") % {"max": MAX_BODY_LENGTH})
        if body == locked.body:
            return locked
        locked.previous_bodies = [*locked.previous_bodies,
                                  {"at": (locked.edited_at or locked.created_at).isoformat(), "body": locked.body}]
        locked.body, locked.edited_at = body, timezone.now()
        locked.save(update_fields=["body", "edited_at", "previous_bodies", "changed_at"])
    return locked


def message_hide(*, message: Message | int, by, reason: str) -> Message:
    """Nachricht ausblenden: staff hide an abusive message; who, when and why are recorded."""
    reason = (reason or "").strip()
    if not reason:
        raise ChatError(_("Bitte geben Sie einen Grund an."))
    with transaction.atomic():
        locked = _locked_message(message)
        conversation = locked.conversation
        if not is_chat_staff(by, conversation.institution):
            raise ChatError(_("Diese Aktion ist Ihnen nicht erlaubt."))
        if locked.is_hidden:
            raise ChatError(_("Diese Nachricht ist bereits ausgeblendet."))
        locked.hidden_at, locked.hidden_by, locked.hidden_reason = timezone.now(), by, reason
        locked.save(update_fields=["hidden_at", "hidden_by", "hidden_reason", "changed_at"])
        if locked.attachment_id:
            Document.objects.filter(pk=locked.attachment_id).update(superseded=True)
        ConversationEvent.objects.create(conversation=conversation, action="workpro.chat.message_hidden",
                                         message=locked, by=by, note=reason)
        _refresh_last_message(conversation)
    return locked


def message_unhide(*, message: Message | int, by) -> Message:
    with transaction.atomic():
        locked = _locked_message(message)
        conversation = locked.conversation
        if not is_chat_staff(by, conversation.institution):
            raise ChatError(_("Diese Aktion ist Ihnen nicht erlaubt."))
        if not locked.is_hidden:
            return locked
        locked.hidden_at, locked.hidden_by, locked.hidden_reason = None, None, ""
        locked.save(update_fields=["hidden_at", "hidden_by", "hidden_reason", "changed_at"])
        if locked.attachment_id:
            Document.objects.filter(pk=locked.attachment_id).update(superseded=False)
        ConversationEvent.objects.create(conversation=conversation, action="workpro.chat.message_shown",
                                         message=locked, by=by)
        _refresh_last_message(conversation)
    return locked


def _refresh_last_message(conversation: Conversation) -> None:
    """A hidden message does not leave a thread "unbeantwortet"."""
    last = conversation.messages.filter(hidden_at__isnull=True).order_by("-pk").first()
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message_from_staff=True if last is None else last.from_staff)


# --- assignment -------------------------------------------------------------------------------

def conversation_assign(*, conversation: Conversation | int, by, assignee) -> Conversation:
    """Assign to a colleague of the same institution (or nobody); the new assignee is told by mail."""
    pk = conversation.pk if isinstance(conversation, Conversation) else conversation
    with transaction.atomic():
        locked = _locked(pk)
        if not is_chat_staff(by, locked.institution):
            raise ChatError(_("Diese Aktion ist Ihnen nicht erlaubt."))
        if assignee is not None and not (is_chat_staff(assignee, locked.institution)
                                         and (assignee.pk == by.pk
                                              or institution_staff(locked.institution).filter(pk=assignee.pk)
                                              .exists())):
            raise ChatError(_("Diese Person gehört nicht zu den Mitarbeitern der Einrichtung."))
        if locked.assigned_to_id == (assignee.pk if assignee else None):
            return locked
        locked.assigned_to = assignee
        locked.save(update_fields=["assigned_to"])
        if assignee is None:
            ConversationEvent.objects.create(conversation=locked, action="workpro.chat.unassigned", by=by)
        else:
            name = assignee.get_full_name() or assignee.email
            ConversationEvent.objects.create(conversation=locked, action="workpro.chat.assigned", by=by, note=name)
            if assignee.pk != by.pk and assignee.email:
                person = getattr(assignee, "workpro_person", None)
                queue_mail(to=assignee.email, template="chat_assigned", context=_mail_context(locked, STAFF),
                           language=_language(assignee), institution=locked.institution, person=person)
    return locked


# --- reading ----------------------------------------------------------------------------------

def conversation_mark_read(*, conversation: Conversation, user, upto_id: int, staff_side: bool) -> None:
    """Move the user's read marker forward (never back)."""
    if user is None or not user.is_authenticated or not upto_id:
        return
    _advance_read(conversation, user, upto_id, staff_side=staff_side)


def _advance_read(conversation: Conversation, user, upto_id: int, *, staff_side: bool) -> None:
    now = timezone.now()
    updated = ConversationRead.objects.filter(conversation=conversation, user=user, last_read_id__lt=upto_id).update(
        last_read_id=upto_id, read_at=now, staff_side=staff_side)
    if not updated:
        ConversationRead.objects.get_or_create(conversation=conversation, user=user, defaults={
            "last_read_id": upto_id, "read_at": now, "staff_side": staff_side})


# --- notifications ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Recipient:
    email: str
    user: object | None
    person: object | None
    language: str


def _language(user) -> str:
    person = getattr(user, "workpro_person", None) if user is not None else None
    return person.language if person is not None else settings.LANGUAGE_CODE


def _recipient(user) -> Recipient | None:
    if user is None or not user.is_active or not user.email:
        return None
    return Recipient(user.email, user, getattr(user, "workpro_person", None), _language(user))


def recipients(conversation: Conversation, side: str) -> list[Recipient]:
    """Who is mailed for `side`: the members with write access, or the assignee / the institution's staff."""
    if side == MEMBER:
        if conversation.kind == Conversation.Kind.OFFER:
            users = [conversation.started_by]
        else:
            enrollment = conversation.enrollment
            participant = enrollment.participant
            users = [enrollment.account_holder, participant.user if participant is not None else None]
        found = [r for r in map(_recipient, users) if r is not None]
        return list({r.user.pk: r for r in found if member_access(r.user, conversation) == Access.WRITE}.values())
    institution = conversation.institution
    assignee = conversation.assigned_to
    if assignee is not None and is_chat_staff(assignee, institution):
        found = _recipient(assignee)
        return [found] if found else []
    staff = [r for r in map(_recipient, institution_staff(institution).select_related("workpro_person"))
             if r is not None]
    if not staff and institution.email:
        return [Recipient(institution.email, None, None, settings.LANGUAGE_CODE)]
    return staff


def _mail_context(conversation: Conversation, side: str, count: int = 1) -> dict:
    if side == MEMBER:
        url = conversation.institution.site.root_url + reverse("workpro:chat_thread", args=[conversation.pk])
    else:
        url = settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse("workpro_chat:thread", args=[conversation.pk])
    return {
        "conversation_id": conversation.pk,
        "offer": conversation.offer.title if conversation.offer_id else "",
        "is_question": conversation.kind == Conversation.Kind.OFFER,
        "for_staff": side == STAFF,
        "count": count,
        "url": url,
    }


def _queue_side(conversation: Conversation, side: str, *, author=None, only_unread: bool) -> int:
    """Queue one mail per recipient of `side`; with `only_unread`, skip those who have read everything."""

    sent = 0
    for recipient in recipients(conversation, side):
        if author is not None and recipient.user is not None and recipient.user.pk == author.pk:
            continue
        count = unread_count(conversation, recipient.user) if recipient.user is not None else 1
        if only_unread and count == 0:
            continue
        queue_mail(to=recipient.email, template="chat_message", context=_mail_context(conversation, side, count),
                   language=recipient.language, institution=conversation.institution, person=recipient.person)
        sent += 1
    return sent


def _notify_other_side(conversation: Conversation, *, side: str, now: datetime, author) -> None:
    notified_at = getattr(conversation, f"{side}_notified_at")
    if notified_at is None or now - notified_at >= NOTIFY_INTERVAL:
        if _queue_side(conversation, side, author=author, only_unread=False):
            setattr(conversation, f"{side}_notified_at", now)
        setattr(conversation, f"{side}_notify_pending", False)
    else:
        setattr(conversation, f"{side}_notify_pending", True)


def send_pending_notifications(*, now: datetime | None = None) -> int:
    """The batch: one mail per side and conversation for messages that arrived within 15 minutes of the last.

    Run every minute by a django-q2 schedule; safe to run twice (re-checked under the row lock).
    """
    now = now or timezone.now()
    due = now - NOTIFY_INTERVAL
    candidates = Conversation.objects.filter(
        Q(member_notify_pending=True, member_notified_at__lte=due)
        | Q(staff_notify_pending=True, staff_notified_at__lte=due)).values_list("pk", flat=True)
    sent = 0
    for pk in list(candidates):
        with transaction.atomic():
            conversation = _locked(pk)
            changed = []
            for side in (MEMBER, STAFF):
                notified_at = getattr(conversation, f"{side}_notified_at")
                if not getattr(conversation, f"{side}_notify_pending") or notified_at is None or notified_at > due:
                    continue
                count = _queue_side(conversation, side, only_unread=True)
                if count:
                    setattr(conversation, f"{side}_notified_at", now)
                setattr(conversation, f"{side}_notify_pending", False)
                changed += [f"{side}_notified_at", f"{side}_notify_pending"]
                sent += count
            if changed:
                conversation.save(update_fields=changed)
    return sent


# --- Rundnachricht: one message to a group ----------------------------------------------------

@dataclass(frozen=True)
class BroadcastResult:
    families: int
    mailed: int      # mails queued now
    batched: int     # conversations whose mail waits for the next batch (mailed within the last 15 minutes)


def broadcast_send(*, enrollments, by, body: str) -> BroadcastResult:
    """One staff message into the conversation of each enrollment given (one per family, see
    selectors.chat.broadcast_enrollments), created where missing; the families are mailed as after any
    staff message: at once, or with the next batch if they were mailed within the last 15 minutes.
    Replies come back into those conversations. A constant number of queries for any group size."""
    _validated(body, None)  # the text's rules; a message to a group has no attachment
    text = _text(body)
    enrollments = list(enrollments)
    if not enrollments:
        raise ChatError(_("Diese Auswahl erreicht keine Familie."))
    if any(not is_chat_staff(by, e.institution) for e in {e.institution_id: e for e in enrollments}.values()):
        raise ChatError(_("Diese Aktion ist Ihnen nicht erlaubt."))
    now = timezone.now()
    with transaction.atomic():
        missing = [e for e in enrollments if not _has_conversation(e)]
        Conversation.objects.bulk_create([
            Conversation(enrollment=e, kind=Conversation.Kind.ENROLLMENT, institution_id=e.institution_id,
                         offer_id=e.offer_id, started_by=by) for e in missing], ignore_conflicts=True)
        conversations = list(Conversation.objects.select_for_update(of=("self",)).filter(
            enrollment__in=[e.pk for e in enrollments]).select_related(
            "institution__site", "offer", "enrollment__participant__user", "enrollment__account_holder__workpro_person"))
        values = {c.pk: placeholder_values(institution=c.institution, offer=c.offer,
                                           contact=c.enrollment.account_holder) for c in conversations}
        Message.objects.bulk_create([
            Message(conversation=c, author=by, from_staff=True, body=fill_placeholders(text, values[c.pk]),
                    created_at=now) for c in conversations])
        due = [c for c in conversations if c.member_notified_at is None or now - c.member_notified_at >= NOTIFY_INTERVAL]
        waiting = [c.pk for c in conversations if c not in due]
        rows = [{"to": r.email, "template": "chat_message", "context": _mail_context(c, MEMBER),
                 "language": r.language, "institution": c.institution, "person": r.person}
                for c in due for r in recipients(c, MEMBER)]
        queue_mails(rows)
        ids = [c.pk for c in conversations]
        Conversation.objects.filter(pk__in=ids).update(last_message_at=now, last_message_from_staff=True)
        Conversation.objects.filter(pk__in=[c.pk for c in due]).update(member_notified_at=now,
                                                                       member_notify_pending=False)
        Conversation.objects.filter(pk__in=waiting).update(member_notify_pending=True)
    return BroadcastResult(families=len(conversations), mailed=len(rows), batched=len(waiting))


def _has_conversation(enrollment: Enrollment) -> bool:
    try:
        return enrollment.conversation is not None
    except Conversation.DoesNotExist:
        return False


# --- data protection: export and erasure -------------------------------------------------------

# Stored in place of an erased text (data, not UI: like privacy.ANONYMISED_NAME it stays German).
ERASED_BODY = "[gelöscht]"


def _conversations_where(person) -> Q:
    """The person's threads: about their contracts (as participant or holder), their offer questions,
    and any thread they wrote in."""
    where = Q(enrollment__in=privacy.enrollments_of(person).values("pk"))
    if person.user_id:
        where |= Q(kind=Conversation.Kind.OFFER, started_by_id=person.user_id)
        where |= Q(pk__in=Message.objects.filter(author_id=person.user_id).values("conversation_id"))
    return where


def _message_entry(message: Message, conversation: Conversation, user_id: int | None) -> dict:
    own = user_id is not None and message.author_id == user_id
    # A hidden message of someone else was never shown to the person: its text stays out.
    shown = own or not message.is_hidden
    if message.author_id:
        author = privacy.actor_name(message.author)
    else:
        author = conversation.institution.name if message.from_staff else None
    return {
        "id": message.pk, "at": message.created_at, "from_staff": message.from_staff, "author": author,
        "own": own, "text": message.body if shown else None, "edited_at": message.edited_at,
        "previous_texts": message.previous_bodies if own else [],
        "hidden": message.is_hidden, "hidden_at": message.hidden_at,
        "hidden_reason": message.hidden_reason if own else "",
        "attachment": privacy.document_path(message.attachment) if message.attachment_id and shown else None,
    }


def chat_export(person, institutions=None) -> list[dict]:
    """The export section: each of the person's conversations with its messages (attachments are
    among the exported documents, referred to by their path in the ZIP); only the conversations
    with `institutions` when given."""

    messages = Message.objects.select_related("author", "attachment").order_by("pk")
    conversations = Conversation.objects.filter(_conversations_where(person))
    if institutions is not None:
        conversations = conversations.filter(institution_id__in=institutions)
    conversations = (conversations.select_related("institution", "offer", "enrollment__participant")
                     .prefetch_related(Prefetch("messages", queryset=messages)).order_by("created_at", "pk"))
    return [{
        "id": c.pk, "kind": c.kind, "kind_label": str(c.get_kind_display()), "title": str(c.title),
        "institution": c.institution.name, "offer": c.offer.title if c.offer_id else None,
        "enrollment": c.enrollment_id, "contract_number": c.enrollment.contract_number if c.enrollment_id else None,
        "created_at": c.created_at, "last_message_at": c.last_message_at,
        "messages": [_message_entry(m, c, person.user_id) for m in c.messages.all()],
    } for c in conversations]


def chat_erase(person) -> int:
    """Messages an anonymised person wrote, and every message in the threads of contracts they took
    part in and of their offer questions, keep their place (who wrote when) but lose their text
    ("[gelöscht]"); earlier wordings and the reasons for hiding go too. Attachments are deleted
    with the person's documents."""
    where = Q(conversation__enrollment__participant=person)
    if person.user_id:
        where |= Q(author_id=person.user_id)
        where |= Q(conversation__kind=Conversation.Kind.OFFER, conversation__started_by_id=person.user_id)
    ids = list(Message.objects.filter(where).values_list("pk", flat=True))
    ConversationEvent.objects.filter(message_id__in=ids).update(note="")
    return Message.objects.filter(pk__in=ids).update(body=ERASED_BODY, previous_bodies=[], hidden_reason="",
                                                     changed_at=timezone.now())


privacy.register_exporter("chat", chat_export, scoped=True)
privacy.register_eraser("chat", chat_erase)
