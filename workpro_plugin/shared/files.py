"""Private files leave WorkPro only through here: documents, chat attachments, photos, exports.

Every response is private and never cached, and the browser must not guess another type.

Behind nginx with ``WORKPRO_X_ACCEL_REDIRECT`` set (the prefix of an ``internal`` location, see
deploy/nginx/workpro.conf), a file from storage is not streamed by the web worker: after the same
permission checks the view answers with an empty body and ``X-Accel-Redirect: <prefix><file>``, and
nginx sends the file. ``<file>`` is the storage name for storage on disk (nginx: ``alias`` to the
private media root), or the path and signed query of the object's short-lived URL for S3-compatible
storage (nginx: ``proxy_pass`` to the S3 endpoint). nginx keeps this response's Content-Type,
Content-Disposition and Cache-Control; the signed URL never reaches the browser.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, HttpResponse
from django.template.response import TemplateResponse
from django.utils.http import content_disposition_header

from .. import conf
from ..models import Document
from ..services.documents import document_mark_opened


def accel_redirect_target(field_file) -> str:
    """The X-Accel-Redirect value for a stored file, or "" when nginx should not (or cannot) send it."""
    prefix = conf.get("X_ACCEL_REDIRECT")
    if not prefix or not getattr(field_file, "name", ""):
        return ""
    prefix = "/" + prefix.strip("/")
    storage = field_file.storage
    if isinstance(storage, FileSystemStorage):
        return f"{prefix}/{quote(field_file.name)}"
    try:
        url = urlsplit(storage.url(field_file.name))
    except NotImplementedError:
        return ""
    if not url.scheme or not url.path:
        return ""  # no absolute URL of its own: the worker streams it
    return prefix + url.path + (f"?{url.query}" if url.query else "")


def _secure(response):
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def private_file_response(fileobj, *, content_type: str, filename: str = "",
                          as_attachment: bool = False) -> HttpResponse:
    """`fileobj`: an open file, or a stored file (FieldFile) which nginx may send instead of the worker."""
    target = accel_redirect_target(fileobj) if hasattr(fileobj, "storage") else ""
    if target:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = target
        if as_attachment or filename:
            response["Content-Disposition"] = content_disposition_header(as_attachment, filename or "datei")
        return _secure(response)
    if hasattr(fileobj, "storage"):
        fileobj = fileobj.open("rb")
    response = FileResponse(fileobj, content_type=content_type, as_attachment=as_attachment,
                            filename=filename or False)
    return _secure(response)


PENDING_REFRESH_SECONDS = 5


def document_response(request, document: Document, *, recipient_opens: bool) -> HttpResponse:
    """A document (or chat attachment) inline, or as a download with ?download=1.

    `recipient_opens`: the person it was deposited for opens it, so "zugestellt" becomes "gelesen".
    """
    if not document.is_ready:  # still being rendered (or failed): say so, never a 500
        response = TemplateResponse(request, "workpro_plugin/account/document_pending.html", {"document": document},
                                    status=202 if document.is_pending else 409)
        if document.is_pending:
            response["Refresh"] = str(PENDING_REFRESH_SECONDS)
        return response
    if recipient_opens:
        document_mark_opened(document=document)
    return private_file_response(document.file, content_type=document.content_type,
                                 filename=document.filename, as_attachment=request.GET.get("download") == "1")


def export_response(export) -> FileResponse:
    """A data export (services.privacy.Export) as a ZIP download."""
    return private_file_response(export.file, content_type="application/zip", as_attachment=True,
                                 filename=export.filename)


def refresh_while_pending(response, documents):
    """A page listing a document "wird erstellt …" loads again after a few seconds (a Refresh header:
    no script, nothing the CSP has to allow) until none is pending."""
    if any(document.is_pending for document in documents):
        response["Refresh"] = str(PENDING_REFRESH_SECONDS)
    return response
