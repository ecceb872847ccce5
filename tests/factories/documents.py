"""Documents: a valid PDF and the signed copy of a contract."""

from django.core.files.base import ContentFile

from workpro_plugin.models import Document, Enrollment


def pdf_bytes(pages: int = 1) -> bytes:
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def add_signed_copy(enrollment: Enrollment):
    Document.objects.create(enrollment=enrollment, kind="signed_contract", title="Unterschrift",
                            file=ContentFile(pdf_bytes(), name="signed.pdf"))
