"""Chat presentation both faces use: labelling a thread's messages for the viewer, the polling response.

The portal's thread (portal/views/chat.py) and the admin's (backoffice/views/chat.py) render the same
message list; what differs is passed in (staff_view, can_write).
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import conf
from ..models import Conversation, Message
from ..selectors.chat import messages_since, read_markers
from ..services import chat as svc
from .forms import EditMessageForm


def poll_seconds() -> int:
    """How often an open thread asks for new messages (WORKPRO_CHAT_POLL_SECONDS, default 10)."""

    return int(conf.get("CHAT_POLL_SECONDS"))


def _int(value) -> int:
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return 0


def _parse_since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if timezone.is_aware(moment) else None


def present(items: list[Message], *, conversation: Conversation, viewer, staff_view: bool, can_write: bool,
            reads=None, previous_marker: int | None = None) -> list[Message]:
    """Labels for display: who wrote it (as the viewer should see it), new, read by the other side, editable."""
    reads = reads if reads is not None else read_markers(conversation)
    other_read = max((r.last_read_id for r in reads if r.staff_side != staff_view and r.user_id != viewer.pk),
                     default=0)
    enrollment = conversation.enrollment if conversation.enrollment_id else None
    now = timezone.now()
    for message in items:
        author = message.author
        message.mine = message.author_id == viewer.pk
        message.own_side = message.from_staff == staff_view
        message.role_label = ""
        if message.mine:
            message.author_label = _("Sie")
        elif message.from_staff:
            name = author.get_full_name() if author else ""
            message.author_label = name or conversation.institution.name
            if name and not staff_view:
                message.role_label = conversation.institution.name
        else:
            person = getattr(author, "workpro_person", None) if author else None
            message.author_label = person.full_name if person else (author.email if author else _("Unbekannt"))
        if staff_view and not message.from_staff:
            if conversation.kind == Conversation.Kind.OFFER:
                message.role_label = _("Interessent")
            elif enrollment is not None and message.author_id == enrollment.account_holder_id:
                message.role_label = _("Kontoinhaber")
            else:
                message.role_label = _("Teilnehmer")
        message.is_new = previous_marker is not None and message.pk > previous_marker and not message.mine
        message.read_by_other = message.own_side and message.pk <= other_read
        message.can_edit = can_write and message.editable_by(viewer, now)
    return items


def poll_response(request, conversation: Conversation, *, staff_view: bool, can_write: bool) -> HttpResponse:
    """New messages after ?nach=<id>, and those changed since ?seit=<time>, as list items; 204 if none."""
    now = timezone.now()
    items = messages_since(conversation, after_id=_int(request.GET.get("nach")),
                           changed_since=_parse_since(request.GET.get("seit")))
    if not items:
        response = HttpResponse(status=204)
    else:
        present(items, conversation=conversation, viewer=request.user, staff_view=staff_view, can_write=can_write)
        newest = max(message.pk for message in items)
        svc.conversation_mark_read(conversation=conversation, user=request.user, upto_id=newest,
                                   staff_side=staff_view)
        response = HttpResponse(render_to_string("workpro_plugin/chat/_messages.html", {
            "items": items, "conversation": conversation, "staff_view": staff_view}, request=request))
    response["X-Chat-Since"] = now.isoformat()
    response["Cache-Control"] = "no-store"
    return response


def edit_message(request, message: Message, *, may_write: bool, saved_text: str):
    """Correct one's own message within five minutes, for both faces.

    Returns (form, done): `done` is True when the thread should be shown again (the window has
    passed, with an error message, or the change is saved, with `saved_text`); else render `form`.
    """
    if not may_write or not message.editable_by(request.user):
        messages.error(request, _("Nachrichten können nur in den ersten 5 Minuten bearbeitet werden."))
        return None, True
    form = EditMessageForm(request.POST or None, initial={"body": message.body})
    if request.method == "POST" and form.is_valid():
        try:
            svc.message_edit(message=message, by=request.user, body=form.cleaned_data["body"])
        except svc.ChatError as exc:
            form.add_error("body", str(exc))
        else:
            messages.success(request, saved_text)
            return form, True
    return form, False
