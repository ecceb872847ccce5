"""Dokumente in Mein Konto: the list, and opening one (also for staff of its institution)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from ...selectors.documents import portal_documents
from ...services import audit
from ...shared.files import document_response, refresh_while_pending
from ..shortcuts import LOGIN_URL, document_or_404


@login_required(login_url=LOGIN_URL)
def documents(request):
    """Dokumente: everything deposited for the user, newest first, unread ones marked."""
    items = list(portal_documents(request.user).filter(superseded=False)
                 .select_related("enrollment__offer", "owner").order_by("-deposited_at"))
    response = render(request, "workpro_plugin/account/documents.html", {"documents": items})
    return refresh_while_pending(response, items)


@login_required(login_url=LOGIN_URL)
def document_download(request, pk: int):
    document, is_recipient = document_or_404(request, pk)
    audit.record(audit.A.DOCUMENT_VIEWED, request=request, obj=document,
                 person=document.owner or (document.enrollment.participant if document.enrollment else None),
                 detail={"kind": document.kind, "download": request.GET.get("download") == "1"})
    return document_response(request, document,
                             recipient_opens=is_recipient and document.uploaded_by_id != request.user.pk)
