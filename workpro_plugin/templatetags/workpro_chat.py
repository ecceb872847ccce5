"""Chat counts and panels for templates that are not the chat's own (Mein Konto, enrollment inspect)."""

from django import template

from ..access import is_chat_staff
from ..models import Conversation
from ..selectors.chat import (
    canned_choices_for_enrollment,
    portal_unread_total,
    thread_page,
    unread_count,
)
from ..shared.chat import present
from ..shared.forms import MessageForm, canned_pick_form

register = template.Library()


@register.simple_tag(takes_context=True)
def chat_unread_total(context) -> int:
    """Unread messages of the logged-in user over all conversations: `{% chat_unread_total as n %}`."""
    request = context.get("request")
    return portal_unread_total(request.user) if request is not None else 0


@register.simple_tag(takes_context=True)
def chat_enrollment_unread(context, enrollment) -> int:
    request = context.get("request")
    if request is None:
        return 0
    return unread_count(Conversation.objects.filter(enrollment=enrollment).first(), request.user)


@register.inclusion_tag("workpro_plugin/admin/chat_inspect_panel.html", takes_context=True)
def chat_inspect_panel(context, enrollment, count: int = 5):
    """The latest messages of an enrollment and a reply form (with the Textbausteine), for the enrollment's
    inspect view."""
    request = context["request"]
    allowed = is_chat_staff(request.user, enrollment.institution)
    conversation = (Conversation.objects.select_related("institution", "enrollment").filter(enrollment=enrollment)
                    .first() if allowed else None)
    items = []
    if conversation is not None:
        items = present(thread_page(conversation, size=count).messages, conversation=conversation,
                        viewer=request.user, staff_view=True, can_write=True)
    return {
        "request": request, "allowed": allowed, "enrollment": enrollment, "conversation": conversation,
        "items": items, "form": MessageForm(), "staff_view": True,
        "canned_form": canned_pick_form(canned_choices_for_enrollment(enrollment)) if allowed else None,
        "unread": unread_count(conversation, request.user) if conversation else 0,
        "csrf_token": context.get("csrf_token"),
    }
