"""Portal chat ("Nachrichten" in Mein Konto): list, thread, polling, corrections, attachments.

Every thread works without JavaScript: the composer posts and redirects, "Aktualisieren"
reloads. chat.js only fetches new messages into an open thread.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ...access import (
    Access,
    is_chat_staff,
    member_access,
    needs_second_factor,
    role_access,
)
from ...models import Conversation, Message, OfferPage
from ...selectors.chat import portal_conversations, read_markers, thread_page
from ...services import chat as svc
from ...services.documents import UploadError
from ...shared.chat import _int, edit_message, poll_response, poll_seconds, present
from ...shared.files import document_response
from ...shared.forms import MessageForm
from ..shortcuts import LOGIN_URL, conversation_or_404, enrollment_or_404

# --- portal --------------------------------------------------------------------------------------

def thread_url(conversation: Conversation, message: Message | None = None) -> str:
    url = reverse("workpro:chat_thread", args=[conversation.pk])
    return f"{url}#m-{message.pk}" if message is not None else url


@login_required(login_url=LOGIN_URL)
def chat_list(request):
    """Nachrichten: every conversation of the user, newest first, with unread counts."""
    paginator = Paginator(portal_conversations(request.user), 30)
    page = paginator.get_page(request.GET.get("seite"))
    return render(request, "workpro_plugin/account/chat_list.html", {"page": page, "conversations": page.object_list})


def _render_thread(request, *, conversation, access, form, title, post_url, status=200, offer=None,
                   enrollment=None):
    context = {"conversation": conversation, "title": title, "form": form, "can_write": access == Access.WRITE,
               "post_url": post_url, "offer": offer, "enrollment": enrollment, "poll_seconds": poll_seconds()}
    if conversation is not None:
        before = _int(request.GET.get("vor")) or None
        page = thread_page(conversation, before=before)
        reads = read_markers(conversation)
        mine = next((r for r in reads if r.user_id == request.user.pk), None)
        previous = mine.last_read_id if mine else 0
        present(page.messages, conversation=conversation, viewer=request.user, staff_view=False,
                can_write=access == Access.WRITE, reads=reads, previous_marker=previous)
        if page.is_latest and page.messages and request.method == "GET":
            svc.conversation_mark_read(conversation=conversation, user=request.user,
                                       upto_id=page.messages[-1].pk, staff_side=False)
        context.update(page=page, items=page.messages, now=timezone.now())
    return render(request, "workpro_plugin/account/chat_thread.html", context, status=status)


def _post_message(request, form, run):
    """Validate, call the service, redirect to the new message; errors stay next to the field (400)."""
    if form.is_valid():
        try:
            message = run(form.cleaned_data["body"], form.cleaned_data["attachment"])
        except UploadError as exc:
            form.add_error("attachment", str(exc))
        except svc.ChatError as exc:
            form.add_error("body", str(exc))
        else:
            messages.success(request, _("Ihre Nachricht wurde gesendet."))
            return redirect(thread_url(message.conversation, message))
    return None


@never_cache
@login_required(login_url=LOGIN_URL)
def chat_thread(request, pk: int):
    conversation, access = conversation_or_404(request, pk)
    form = MessageForm(request.POST, request.FILES) if request.method == "POST" else MessageForm()
    if request.method == "POST":
        if access != Access.WRITE:
            raise PermissionDenied
        done = _post_message(request, form, lambda body, upload: svc.message_post(
            conversation=conversation, by=request.user, body=body, upload=upload, as_staff=False))
        if done:
            return done
    return _render_thread(request, conversation=conversation, access=access, form=form, title=conversation.title,
                          post_url=thread_url(conversation), status=400 if form.errors else 200,
                          enrollment=conversation.enrollment)


@login_required(login_url=LOGIN_URL)
@require_GET
def chat_poll(request, pk: int):
    conversation, access = conversation_or_404(request, pk)
    return poll_response(request, conversation, staff_view=False, can_write=access == Access.WRITE)


@login_required(login_url=LOGIN_URL)
def chat_offer(request, offer_id: int):
    """Frage zum Angebot stellen: opens the user's conversation about the offer, or starts it."""
    offer = get_object_or_404(OfferPage.objects.live(), pk=offer_id)
    existing = Conversation.objects.filter(kind=Conversation.Kind.OFFER, offer=offer, started_by=request.user,
                                           last_message_at__isnull=False).first()
    if existing is not None:
        return redirect(thread_url(existing))
    form = MessageForm(request.POST, request.FILES) if request.method == "POST" else MessageForm()
    if request.method == "POST":
        done = _post_message(request, form, lambda body, upload: svc.conversation_start_for_offer(
            offer=offer, by=request.user, body=body, upload=upload))
        if done:
            return done
    return _render_thread(request, conversation=None, access=Access.WRITE, form=form,
                          title=_("Frage zum Angebot „%(offer)s“") % {"offer": offer.title},
                          post_url=request.path, status=400 if form.errors else 200, offer=offer)


@login_required(login_url=LOGIN_URL)
def chat_enrollment(request, pk: int):
    """Nachrichten of an enrollment: opens its conversation, or lets a member start it."""
    enrollment, role = enrollment_or_404(request, pk)
    access = role_access(role)
    existing = Conversation.objects.filter(enrollment=enrollment, last_message_at__isnull=False).first()
    if existing is not None:
        return redirect(thread_url(existing))
    form = MessageForm(request.POST, request.FILES) if request.method == "POST" else MessageForm()
    if request.method == "POST":
        if access != Access.WRITE:
            raise PermissionDenied

        def start(body, upload):
            with transaction.atomic():  # a refused first message leaves no empty conversation behind
                conversation = svc.conversation_for_enrollment(enrollment=enrollment, by=request.user)
                return svc.message_post(conversation=conversation, by=request.user, body=body, upload=upload,
                                        as_staff=False)

        done = _post_message(request, form, start)
        if done:
            return done
    title = enrollment.offer.title
    if enrollment.participant_id:
        title = f"{title} – {enrollment.participant.full_name}"
    return _render_thread(request, conversation=None, access=access, form=form, title=title, post_url=request.path,
                          status=400 if form.errors else 200, enrollment=enrollment)


@login_required(login_url=LOGIN_URL)
def chat_edit(request, pk: int, message_pk: int):
    """Correct one's own message within five minutes."""
    conversation, access = conversation_or_404(request, pk)
    message = get_object_or_404(conversation.messages, pk=message_pk, author=request.user)
    form, done = edit_message(request, message, may_write=access == Access.WRITE,
                              saved_text=_("Ihre Nachricht wurde geändert."))
    if done:
        return redirect(thread_url(conversation, message))
    return render(request, "workpro_plugin/account/chat_edit.html",
                  {"conversation": conversation, "message": message, "form": form},
                  status=400 if form.errors else 200)


@login_required(login_url=LOGIN_URL)
def chat_attachment(request, pk: int, message_pk: int):
    """An attachment, for the conversation's members and the institution's staff (hidden ones: staff
    only; staff with the second factor where required, as for documents)."""

    conversation = get_object_or_404(Conversation.objects.select_related("institution", "enrollment__participant"),
                                     pk=pk)
    staff = is_chat_staff(request.user, conversation.institution) and not needs_second_factor(request.user)
    if not staff and member_access(request.user, conversation) is None:
        raise Http404
    message = get_object_or_404(conversation.messages.select_related("attachment"), pk=message_pk,
                                attachment__isnull=False)
    if message.is_hidden and not staff:
        raise Http404
    return document_response(request, message.attachment, recipient_opens=message.author_id != request.user.pk)
