"""Private files leave WorkPro only through here: documents, chat attachments, photos, exports.

Every response is private and never cached, and the browser must not guess another type.
"""

from __future__ import annotations

from django.http import FileResponse

from ..models import Document
from ..services.documents import document_mark_opened


def private_file_response(fileobj, *, content_type: str, filename: str = "",
                          as_attachment: bool = False) -> FileResponse:
    response = FileResponse(fileobj, content_type=content_type, as_attachment=as_attachment,
                            filename=filename or False)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def document_response(request, document: Document, *, recipient_opens: bool) -> FileResponse:
    """A document (or chat attachment) inline, or as a download with ?download=1.

    `recipient_opens`: the person it was deposited for opens it, so "zugestellt" becomes "gelesen".
    """
    if recipient_opens:
        document_mark_opened(document=document)
    return private_file_response(document.file.open("rb"), content_type=document.content_type,
                                 filename=document.filename, as_attachment=request.GET.get("download") == "1")


def export_response(export) -> FileResponse:
    """A data export (services.privacy.Export) as a ZIP download."""
    return private_file_response(export.file, content_type="application/zip", as_attachment=True,
                                 filename=export.filename)
