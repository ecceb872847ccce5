"""Staff chat in the Wagtail admin: inbox, thread with reply, assignment, hiding, replies from an enrollment.

The reply form offers the institution's Textbausteine: with JavaScript (chat-canned.js) the chosen
text goes into the message at the cursor; without it, "Einfügen" posts the form, which comes back
with the text appended to what was typed, and nothing is sent.

Conversations are scoped to the user's institutions (404 otherwise); acting needs
Sachbearbeitung or Leitung of the conversation's institution (403).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ...access import is_chat_staff
from ...models import Conversation, OfferPage
from ...selectors.chat import (
    broadcast_enrollments,
    canned_choices_for_conversation,
    canned_choices_for_enrollment,
    chat_staff_institutions,
    institution_staff,
    read_markers,
    staff_canned_replies,
    staff_conversations,
    thread_page,
    with_unread,
)
from ...selectors.institutions import staff_institutions
from ...services import chat as svc
from ...services.documents import UploadError
from ...shared.chat import _int, edit_message, poll_response, poll_seconds, present
from ...shared.forms import CannedReplyPickForm, MessageForm, canned_pick_form
from ..forms import AssignForm, BroadcastForm, HideMessageForm, InboxFilterForm
from ..helpers import refuse_undeclared
from ..shortcuts import staff_conversation_or_404, staff_enrollment_or_404

INBOX_PAGE_SIZE = 50
BROADCAST_PREVIEW = 50  # names shown on the confirmation
INSERT = "einfuegen"  # the name of the "Einfügen" button of the reply form


def _staff_conversation(request, pk: int) -> Conversation:
    """A conversation of the user's institutions (else 404) the user may answer (else 403)."""
    conversation = staff_conversation_or_404(request.user, pk)
    if not is_chat_staff(request.user, conversation.institution):
        raise PermissionDenied
    return conversation


def thread_url(conversation: Conversation, message=None) -> str:
    url = reverse("workpro_chat:thread", args=[conversation.pk])
    return f"{url}#m-{message.pk}" if message is not None else url


def inbox(request):
    """Nachrichten: the conversations of the user's institutions, filterable, newest first."""
    institutions = staff_institutions(request.user)
    offer_ids = (Conversation.objects.filter(institution__in=institutions, offer__isnull=False)
                 .order_by().values("offer_id").distinct())
    offers = list(OfferPage.objects.filter(pk__in=offer_ids).order_by("title").values_list("pk", "title"))
    form = InboxFilterForm(request.GET or None, offers=offers)
    if refused := refuse_undeclared(request, {"p"}, form):
        return refused
    conversations = with_unread(staff_conversations(request.user), request.user)
    if form.is_valid():
        data = form.cleaned_data
        if data["angebot"]:
            conversations = conversations.filter(offer_id=data["angebot"])
        if data["status"] == "unbeantwortet":
            conversations = conversations.filter(last_message_from_staff=False)
        elif data["status"] == "beantwortet":
            conversations = conversations.filter(last_message_from_staff=True)
        if data["zugewiesen"] == "mir":
            conversations = conversations.filter(assigned_to=request.user)
        elif data["zugewiesen"] == "niemand":
            conversations = conversations.filter(assigned_to__isnull=True)
        if data["ungelesen"]:
            conversations = conversations.filter(unread__gt=0)
    paginator = Paginator(conversations, INBOX_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("p"))
    query = request.GET.copy()
    query.pop("p", None)
    return TemplateResponse(request, "workpro_plugin/admin/chat_inbox.html", {
        "form": form, "page": page, "conversations": page.object_list, "query": query.urlencode(),
        "header_title": _("Nachrichten"), "may_broadcast": chat_staff_institutions(request.user).exists(),
    })


def _insert_canned(request, choices) -> tuple[MessageForm, CannedReplyPickForm]:
    """Einfügen without JavaScript: the composer again with the chosen text appended to the typed one
    (or, for a choice that is not available, the typed text and the error)."""
    pick = CannedReplyPickForm(request.POST, choices=choices)
    typed = request.POST.get("body", "")
    if pick.is_valid():
        typed, pick = pick.appended_to(typed), CannedReplyPickForm(choices=choices)
    if request.FILES.get("attachment"):  # a browser cannot be handed a file back
        messages.warning(request, _("Der Anhang wurde nicht übernommen. Bitte wählen Sie ihn vor dem Senden "
                                    "erneut aus."))
    return MessageForm(initial={"body": typed}), pick


def _thread_context(request, conversation: Conversation, *, form=None, assign_form=None, pick=None) -> dict:
    before = _int(request.GET.get("vor")) or None
    page = thread_page(conversation, before=before)
    reads = read_markers(conversation)
    mine = next((r for r in reads if r.user_id == request.user.pk), None)
    present(page.messages, conversation=conversation, viewer=request.user, staff_view=True, can_write=True,
            reads=reads, previous_marker=mine.last_read_id if mine else 0)
    if page.is_latest and page.messages and request.method == "GET":
        svc.conversation_mark_read(conversation=conversation, user=request.user, upto_id=page.messages[-1].pk,
                                   staff_side=True)
    staff = institution_staff(conversation.institution)
    members = [r for r in reads if not r.staff_side]
    return {
        "conversation": conversation, "page": page, "items": page.messages, "now": timezone.now(),
        "form": form or MessageForm(), "poll_seconds": poll_seconds(),
        "canned_form": pick if pick is not None
        else canned_pick_form(canned_choices_for_conversation(conversation)),
        "assign_form": assign_form or AssignForm(staff=staff, initial={"assignee": conversation.assigned_to_id}),
        "events": conversation.events.select_related("by", "message"),
        "member_reads": members,
        "inspect_url": reverse("workpro_plugin_enrollment_modeladmin_inspect", args=[conversation.enrollment_id])
        if conversation.enrollment_id else None,
        "header_title": conversation.title,
    }


def thread(request, pk: int):
    """One conversation: the messages (hidden ones marked), reply, assignment, the events."""
    conversation = _staff_conversation(request, pk)
    if request.method == "POST" and INSERT in request.POST:
        form, pick = _insert_canned(request, canned_choices_for_conversation(conversation))
        return TemplateResponse(request, "workpro_plugin/admin/chat_thread.html",
                                _thread_context(request, conversation, form=form, pick=pick),
                                status=400 if pick.errors else 200)
    form = MessageForm(request.POST, request.FILES) if request.method == "POST" else None
    if form is not None:
        result = _reply(request, form, conversation)
        if result is not None:
            messages.success(request, _("Ihre Antwort wurde gesendet."))
            return redirect(thread_url(conversation, result))
    return TemplateResponse(request, "workpro_plugin/admin/chat_thread.html",
                            _thread_context(request, conversation, form=form),
                            status=400 if form is not None and form.errors else 200)


def _reply(request, form, conversation: Conversation):
    if not form.is_valid():
        return None
    try:
        return svc.message_post(conversation=conversation, by=request.user, body=form.cleaned_data["body"],
                                upload=form.cleaned_data["attachment"], as_staff=True)
    except UploadError as exc:
        form.add_error("attachment", str(exc))
    except svc.ChatError as exc:
        form.add_error("body", str(exc))
    return None


@require_GET
def poll(request, pk: int):
    conversation = _staff_conversation(request, pk)
    return poll_response(request, conversation, staff_view=True, can_write=True)


@require_POST
def assign(request, pk: int):
    """Zuweisen: to a colleague of the institution, to oneself ("Mir zuweisen") or to nobody."""
    conversation = _staff_conversation(request, pk)
    if request.POST.get("mir"):
        assignee = request.user
    else:
        form = AssignForm(request.POST, staff=institution_staff(conversation.institution))
        if not form.is_valid():
            return TemplateResponse(request, "workpro_plugin/admin/chat_thread.html",
                                    _thread_context(request, conversation, assign_form=form), status=400)
        assignee = form.cleaned_data["assignee"]
    try:
        svc.conversation_assign(conversation=conversation, by=request.user, assignee=assignee)
    except svc.ChatError as exc:
        messages.error(request, str(exc))
    else:
        if assignee is None:
            messages.success(request, _("Die Zuweisung wurde aufgehoben."))
        else:
            messages.success(request, _("Zugewiesen an %(name)s.") % {"name": assignee.get_full_name() or assignee.email})
    return redirect(thread_url(conversation))


def hide(request, pk: int, message_pk: int):
    """Nachricht ausblenden: with a reason, recorded; members then see only that it was hidden."""
    conversation = _staff_conversation(request, pk)
    message = get_object_or_404(conversation.messages.select_related("author"), pk=message_pk)
    form = HideMessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            svc.message_hide(message=message, by=request.user, reason=form.cleaned_data["reason"])
        except svc.ChatError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Die Nachricht wurde ausgeblendet."))
            return redirect(thread_url(conversation, message))
    return TemplateResponse(request, "workpro_plugin/admin/chat_hide.html", {
        "conversation": conversation, "message": message, "form": form, "thread_url": thread_url(conversation),
        "header_title": _("Nachricht ausblenden"),
    }, status=400 if form.errors else 200)


@require_POST
def unhide(request, pk: int, message_pk: int):
    conversation = _staff_conversation(request, pk)
    message = get_object_or_404(conversation.messages, pk=message_pk)
    try:
        svc.message_unhide(message=message, by=request.user)
    except svc.ChatError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Die Nachricht wird wieder angezeigt."))
    return redirect(thread_url(conversation, message))


def edit(request, pk: int, message_pk: int):
    """Staff, too, may correct their own message only within five minutes."""
    conversation = _staff_conversation(request, pk)
    message = get_object_or_404(conversation.messages, pk=message_pk, author=request.user)
    form, done = edit_message(request, message, may_write=True, saved_text=_("Die Nachricht wurde geändert."))
    if done:
        return redirect(thread_url(conversation, message))
    return TemplateResponse(request, "workpro_plugin/admin/chat_edit.html", {
        "conversation": conversation, "message": message, "form": form, "thread_url": thread_url(conversation),
        "header_title": _("Nachricht bearbeiten"),
    }, status=400 if form.errors else 200)


def enrollment_reply(request, pk: int):
    """Reply from the enrollment's inspect view; starts the enrollment's conversation if there is none."""
    enrollment = staff_enrollment_or_404(request.user, pk)
    if not is_chat_staff(request.user, enrollment.institution):
        raise PermissionDenied
    inspect = reverse("workpro_plugin_enrollment_modeladmin_inspect", args=[enrollment.pk]) + "#nachrichten"
    existing = Conversation.objects.filter(enrollment=enrollment).first()
    if request.method != "POST":
        return redirect(thread_url(existing) if existing and existing.last_message_at else inspect)
    if INSERT in request.POST:
        form, pick = _insert_canned(request, canned_choices_for_enrollment(enrollment))
        return TemplateResponse(request, "workpro_plugin/admin/chat_reply.html", {
            "enrollment": enrollment, "form": form, "canned_form": pick,
            "inspect_url": inspect, "header_title": _("Nachricht schreiben"),
        }, status=400 if pick.errors else 200)
    form = MessageForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            with transaction.atomic():  # a refused first message leaves no empty conversation behind
                conversation = existing or svc.conversation_for_enrollment(enrollment=enrollment, by=request.user)
                svc.message_post(conversation=conversation, by=request.user, body=form.cleaned_data["body"],
                                 upload=form.cleaned_data["attachment"], as_staff=True)
        except UploadError as exc:
            form.add_error("attachment", str(exc))
        except svc.ChatError as exc:
            form.add_error("body", str(exc))
        else:
            messages.success(request, _("Ihre Antwort wurde gesendet."))
            return redirect(inspect)
    return TemplateResponse(request, "workpro_plugin/admin/chat_reply.html", {
        "enrollment": enrollment, "form": form, "inspect_url": inspect, "header_title": _("Nachricht schreiben"),
        "canned_form": canned_pick_form(canned_choices_for_enrollment(enrollment)),
    }, status=400)


def broadcast(request):
    """Rundnachricht: the form, then a confirmation with the number of families, then the summary.

    "Weiter" shows whom the message reaches ("geht an 12 Familien") and carries the form along; "Senden"
    sends it, unless the group changed meanwhile (then the confirmation comes again with the new number);
    "Ändern" goes back to the form with everything typed.
    """
    institutions = chat_staff_institutions(request.user)
    if not institutions.exists():
        raise PermissionDenied
    canned = staff_canned_replies(request.user).filter(is_active=True).order_by("title", "pk")
    form = BroadcastForm(request.POST if request.method == "POST" else None, user=request.user, canned=canned)
    context = {"form": form, "header_title": _("Rundnachricht")}
    if request.method != "POST" or "aendern" in request.POST or not form.is_valid():
        return TemplateResponse(request, "workpro_plugin/admin/chat_broadcast.html", context,
                                status=400 if form.errors else 200)
    data = form.cleaned_data
    enrollments = broadcast_enrollments(request.user, offer=data["angebot"], status=data["status"],
                                        group=data.get("gruppe") or "")
    families = enrollments.count()
    confirmed = request.POST.get("familien", "")
    if "senden" in request.POST and confirmed == str(families) and families:
        try:
            result = svc.broadcast_send(enrollments=enrollments, by=request.user, body=data["body"])
        except svc.ChatError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Rundnachricht an %(families)s Familien gesendet: %(mailed)s Mails sofort, "
                                        "%(batched)s mit der nächsten Sammelmail. Antworten erscheinen in den "
                                        "Unterhaltungen.") % {"families": result.families, "mailed": result.mailed,
                                                              "batched": result.batched})
            return redirect("workpro_chat:inbox")
    elif "senden" in request.POST and families:
        form.add_error(None, _("Die Zahl der Empfänger hat sich geändert. Bitte prüfen Sie sie erneut."))
    if not families:
        form.add_error("angebot", _("Diese Auswahl erreicht keine Familie."))
        return TemplateResponse(request, "workpro_plugin/admin/chat_broadcast.html", context, status=400)
    names = [e.account_holder.workpro_person.full_name if hasattr(e.account_holder, "workpro_person")
             else e.account_holder.email for e in enrollments[:BROADCAST_PREVIEW]]
    context.update(families=families, names=names, more=max(families - len(names), 0), body=data["body"])
    return TemplateResponse(request, "workpro_plugin/admin/chat_broadcast_confirm.html", context)


urls = [
    path("", inbox, name="inbox"),
    path("rundnachricht/", broadcast, name="broadcast"),
    path("<int:pk>/", thread, name="thread"),
    path("<int:pk>/neu/", poll, name="poll"),
    path("<int:pk>/zuweisen/", assign, name="assign"),
    path("<int:pk>/nachricht/<int:message_pk>/ausblenden/", hide, name="hide"),
    path("<int:pk>/nachricht/<int:message_pk>/einblenden/", unhide, name="unhide"),
    path("<int:pk>/nachricht/<int:message_pk>/bearbeiten/", edit, name="edit"),
    path("anmeldung/<int:pk>/", enrollment_reply, name="enrollment_reply"),
]
