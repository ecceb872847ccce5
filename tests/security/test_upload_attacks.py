"""Hostile uploads against every upload field: refused, or accepted only as a clean re-encoding.

Fields: the signed copy (Angebot annehmen), the section upload (Nachweise hochladen), the
passport photo (Abholberechtigte: JPEG and PNG only) and the chat attachment (portal and
admin). What "refused" means for each kind of attack:

- no PDF/JPEG/PNG by content (HTML, SVG with script, GIF/GIFAR, EXE, a PDF behind an HTML
  prefix), broken magic, encrypted or unreadable PDFs, PDFs with active content (JavaScript,
  /OpenAction, /AA, /Launch, embedded files; also with #xx-escaped names), PDFs with actions
  that run by themselves (/AA of the document, a page or a form field; an /OpenAction other
  than showing a page) or leave the document (/GoToR to a network path, /GoToE, /SubmitForm,
  /ImportData, media, links other than web and mail addresses; in annotations, bookmarks and
  /Next chains), decompression bombs, empty and oversized files: refused with a German message
  next to the field (400); no row and no file is stored, the enrollment keeps its status.
- polyglots whose first format is allowed (a JPEG or PNG with a ZIP, HTML or PDF appended or
  in a comment/text chunk; a PDF with a ZIP or HTML after %%EOF): accepted, because what is
  stored is never the upload itself: images are decoded and re-encoded without metadata,
  PDFs are written anew by pypdf. The test proves that the stored bytes contain neither the
  payload nor a ZIP header nor a script, and that stored images carry no comment or ICC
  profile. The passport photo refuses every PDF.
- a wrong extension (a PNG named .pdf, a PDF named .jpg): the content decides, the name is
  only a label; the photo field refuses the PDF.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from tests import attack_files as a
from tests import form_world
from tests.factories import pdf_bytes
from tests.helpers import HOST
from tests.security_figures import add, note
from workpro_plugin.models import Document, Enrollment, Message, PickupPerson

pytestmark = pytest.mark.django_db
MB = 1024 * 1024

NOT_ALLOWED = "ist keine PDF-, JPEG- oder PNG-Datei"
BROKEN = "ist beschädigt oder unvollständig"
ACTIVE = "enthält aktive Inhalte"
ACTIONS = "enthält Aktionen, die beim Öffnen oder Anklicken andere Dateien"
BOMB = "zu viele Bildpunkte"
PHOTO_ONLY = "Bitte ein Foto als JPEG- oder PNG-Datei hochladen"


@dataclass(frozen=True)
class Attack:
    id: str
    filename: str
    content: Callable[[], bytes]
    refused: str | None  # the German message; None: accepted after re-encoding
    photo_refused: str | None = None  # what the passport photo says, if it differs


ATTACKS = [
    Attack("empty", "leer.pdf", lambda: b"", "leer"),
    Attack("html_as_jpg", "foto.jpg", lambda: a.HTML, NOT_ALLOWED),
    Attack("svg_script", "bild.svg", lambda: a.SVG, NOT_ALLOWED),
    Attack("svg_as_png", "bild.png", lambda: a.SVG, NOT_ALLOWED),
    Attack("gif", "bild.gif", lambda: a.GIF, NOT_ALLOWED),
    Attack("gifar", "bild.gif", lambda: a.GIF + a.zip_archive(), NOT_ALLOWED),
    Attack("exe_as_pdf", "vertrag.pdf", lambda: b"MZ\x90\x00" + b"\x00" * 200, NOT_ALLOWED),
    Attack("html_then_pdf", "vertrag.pdf", a.html_with_pdf_later, NOT_ALLOWED),
    Attack("jpeg_magic_png_body", "scan.jpg", lambda: b"\xff\xd8\xff" + a.png(), BROKEN),
    Attack("png_magic_garbage", "scan.png", lambda: a.png()[:8] + b"\x00garbage" * 50, BROKEN),
    Attack("truncated_jpeg", "scan.jpg", lambda: a.jpeg()[:300], BROKEN),
    Attack("pdf_magic_garbage", "scan.pdf", lambda: b"%PDF-1.7\n" + a.HTML, "keine lesbare PDF-Datei"),
    Attack("pdf_encrypted", "scan.pdf", a.encrypted_pdf, "verschlüsselt"),
    Attack("pdf_js_open_action", "scan.pdf", a.pdf_javascript_open_action, ACTIVE),
    Attack("pdf_js_hex_names", "scan.pdf", a.pdf_javascript_hex_names, ACTIVE),
    Attack("pdf_js_names_tree", "scan.pdf", a.pdf_javascript_in_names_tree, ACTIVE),
    Attack("pdf_js_page_open", "scan.pdf", a.pdf_page_additional_action, ACTIVE),
    Attack("pdf_launch", "scan.pdf", a.pdf_launch_action, ACTIVE),
    Attack("pdf_embedded_file", "scan.pdf", a.pdf_embedded_file, ACTIVE),
    # Actions that run by themselves or leave the document (#15): page, widget, link, bookmark.
    Attack("pdf_page_aa_uri", "scan.pdf", a.pdf_page_aa_uri, ACTIONS),
    Attack("pdf_page_aa_gotor_unc", "scan.pdf", a.pdf_page_aa_gotor_unc, ACTIONS),
    Attack("pdf_page_aa_gotor_hex_names", "scan.pdf", a.pdf_page_aa_gotor_hex_names, ACTIONS),
    Attack("pdf_widget_aa_uri", "scan.pdf", a.pdf_widget_aa_uri, ACTIONS),
    Attack("pdf_link_uri_unc", "scan.pdf", lambda: a.pdf_link(a.LINK_ACTIONS["uri_unc"]), ACTIONS),
    Attack("pdf_link_gotor_unc", "scan.pdf", lambda: a.pdf_link(a.LINK_ACTIONS["gotor_unc"]), ACTIONS),
    Attack("pdf_link_launch", "scan.pdf", lambda: a.pdf_link(a.LINK_ACTIONS["launch"]), ACTIVE),
    Attack("pdf_outline_gotor", "scan.pdf", a.pdf_outline_gotor, ACTIONS),
    Attack("pdf_open_action_uri", "scan.pdf", a.pdf_open_action_uri, ACTIONS),
    Attack("png_bomb_40mp", "scan.png", lambda: a.png_bomb(10_000, 5_000), BOMB),
    Attack("png_bomb_10gp", "scan.png", lambda: a.png_bomb(100_000, 100_000), BOMB),
    Attack("jpeg_bomb", "scan.jpg", a.jpeg_bomb, BOMB),
    Attack("oversized", "scan.pdf", lambda: pdf_bytes() + b" " * (20 * MB), "größer als 20 MB"),
    # Polyglots and wrong names: accepted, but only as a clean re-encoding (see the docstring).
    Attack("jpeg_plus_zip", "scan.jpg", lambda: a.jpeg() + a.zip_archive(), None),
    Attack("jpeg_plus_html", "scan.jpg", lambda: a.jpeg() + a.HTML, None),
    Attack("jpeg_plus_active_pdf", "scan.jpg", lambda: a.jpeg() + a.pdf_javascript_hex_names(), None),
    Attack("jpeg_comment_html", "scan.jpg", a.jpeg_with_comment, None),
    Attack("png_plus_zip", "scan.png", lambda: a.png() + a.zip_archive(), None),
    Attack("png_text_chunk_html", "scan.png", a.png_with_text_chunk, None),
    Attack("pdf_plus_zip", "scan.pdf", lambda: a.pdf_with_trailing(a.zip_archive()), None, PHOTO_ONLY),
    Attack("pdf_plus_html", "scan.pdf", lambda: a.pdf_with_trailing(a.HTML), None, PHOTO_ONLY),
    Attack("png_named_pdf", "scan.pdf", a.png, None),
    # A plain document with a web link: accepted (a click on a web or mail address leaves nothing behind).
    Attack("pdf_web_link", "scan.pdf", lambda: a.pdf_link(a.LINK_ACTIONS_ALLOWED["uri_https"]), None, PHOTO_ONLY),
    Attack("pdf_named_jpg", "foto.jpg", pdf_bytes, None, PHOTO_ONLY),
    # Within 20 MB but above the photo's 8 MB (a JPEG may carry trailing bytes).
    Attack("photo_9mb", "foto.jpg", lambda: a.jpeg() + a.PAYLOAD + b"\x00" * (9 * MB), None,
           "größer als 8 MB"),
]


@dataclass(frozen=True)
class Field:
    id: str
    user: str
    url: Callable
    payload: Callable  # (world, upload) -> the form data
    stored: Callable  # world -> the documents or photos this field stores, as a list of (name, bytes)
    photo: bool = False


def _documents(kind: str, attr: str):
    def stored(w):
        documents = Document.objects.filter(kind=kind, enrollment=getattr(w, attr)).order_by("pk")
        return [(d.file.name, d.file.open("rb").read()) for d in documents]
    return stored


def _photos(w):
    return [(p.photo.name, p.photo.open("rb").read()) for p in PickupPerson.objects.order_by("pk") if p.photo]


def _chat_attachments(w):
    return [(m.attachment.file.name, m.attachment.file.open("rb").read())
            for m in Message.objects.filter(attachment__isnull=False).select_related("attachment")]


FIELDS = [
    Field("signed_copy", "holder", lambda w: reverse("workpro:enrollment_accept", args=[w.e_angebot.pk]),
          lambda w, f: {"files": [f]}, _documents("signed_contract", "e_angebot")),
    Field("section_upload", "holder", lambda w: reverse("workpro:enrollment_section", args=[w.e_kand.pk, "uploads"]),
          lambda w, f: {"title": "Impfnachweis", "file": f}, _documents("upload", "e_kand")),
    Field("passport_photo", "holder", lambda w: reverse("workpro:care", args=[w.e_rat.pk]),
          lambda w, f: {"kind": "abholberechtigt", "abholung-name": "Onkel Olaf", "abholung-relation": "Onkel",
                        "abholung-phone": "030 9876543", "abholung-photo": f}, _photos, photo=True),
    Field("passport_photo_change", "holder",
          lambda w: reverse("workpro:care_edit", args=[w.e_rat.pk, "abholberechtigt", w.pickup.pk]),
          lambda w, f: {"name": "Opa Otto", "relation": "Großvater", "phone": "030 111222", "photo": f},
          _photos, photo=True),
    Field("chat_attachment", "holder", lambda w: reverse("workpro:chat_thread", args=[w.conversation.pk]),
          lambda w, f: {"body": "Anbei der Nachweis", "attachment": f}, _chat_attachments),
    Field("staff_chat_attachment", "staff", lambda w: reverse("workpro_chat:thread", args=[w.conversation.pk]),
          lambda w, f: {"body": "Anbei das Formular", "attachment": f}, _chat_attachments),
]


def private_files() -> set[tuple[str, int]]:
    root = Path(django_settings.PRIVATE_MEDIA_ROOT)
    return {(str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*") if p.is_file()}


def state(w) -> dict:
    return {
        "documents": Document.objects.count(), "messages": Message.objects.count(),
        "pickups": list(PickupPerson.objects.order_by("pk").values_list("pk", "photo", "photo_uploaded_at")),
        "statuses": list(Enrollment.objects.order_by("pk").values_list("pk", "status")),
    }


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker):
    with form_world.shared(django_db_blocker) as w:
        yield w


def assert_clean(name: str, content: bytes, attack: Attack) -> None:
    """Stored bytes of an accepted polyglot: none of the smuggled content, no metadata."""
    for marker in (a.PAYLOAD, b"PK\x03\x04", b"<script", b"<html", b"JavaScript", b"/JS"):
        assert marker not in content, f"{attack.id}: {marker!r} stored in {name}"
    if content.startswith((b"\xff\xd8\xff", b"\x89PNG")):
        image = Image.open(io.BytesIO(content))
        assert not {"comment", "icc_profile", "exif"} & set(image.info), (attack.id, image.info.keys())
    else:
        assert content.startswith(b"%PDF-"), name
        from pypdf import PdfReader

        PdfReader(io.BytesIO(content))  # a PDF written anew, readable
        assert content.rstrip().endswith(b"%%EOF"), "nothing after the end of the PDF"


@pytest.mark.parametrize("field", FIELDS, ids=[f.id for f in FIELDS])
@pytest.mark.parametrize("attack", ATTACKS, ids=[x.id for x in ATTACKS])
def test_upload_attack(attack, field, module_world, client):
    w = module_world
    client.force_login(getattr(w, field.user))
    expected = attack.photo_refused if field.photo and attack.photo_refused else attack.refused
    stored_before = field.stored(w)
    before, files_before = state(w), private_files()
    upload = SimpleUploadedFile(attack.filename, attack.content())
    response = client.post(field.url(w), field.payload(w, upload), **HOST)
    if expected is not None:
        assert response.status_code == 400, (attack.id, response.status_code)
        assert escape(expected) in response.content.decode(), f"{attack.id}: no German message „{expected}“"
        assert state(w) == before, f"{attack.id}: refused, but something was stored"
        assert private_files() == files_before, f"{attack.id}: refused, but a file was written"
        add("upload attacks refused")
    else:
        assert response.status_code == 302, (attack.id, response.status_code)
        new = [item for item in field.stored(w) if item not in stored_before]
        assert len(new) == 1, f"{attack.id}: expected one stored file, got {len(new)}"
        assert_clean(*new[0], attack)
        add("upload polyglots stored only re-encoded")


def test_one_bad_page_refuses_the_whole_signed_copy(module_world, client):
    w = module_world
    client.force_login(w.holder)
    before, files_before = state(w), private_files()
    files = [SimpleUploadedFile("seite1.pdf", pdf_bytes()), SimpleUploadedFile("seite2.svg", a.SVG)]
    response = client.post(reverse("workpro:enrollment_accept", args=[w.e_angebot.pk]), {"files": files}, **HOST)
    assert response.status_code == 400 and escape(NOT_ALLOWED) in response.content.decode()
    assert state(w) == before and private_files() == files_before


# --- PDF actions: every kind, on the check itself (no HTTP) ----------------------------------------

PDF_ACTIONS_REFUSED = {
    "page_aa_uri": a.pdf_page_aa_uri, "page_aa_gotor_unc": a.pdf_page_aa_gotor_unc,
    "page_aa_gotor_hex_names": a.pdf_page_aa_gotor_hex_names, "document_aa": a.pdf_document_aa,
    "open_action_uri": a.pdf_open_action_uri, "open_action_goto_then_uri": a.pdf_open_action_goto_then_uri,
    "widget_aa_uri": a.pdf_widget_aa_uri, "outline_gotor": a.pdf_outline_gotor,
    **{f"link_{key}": (lambda action=action: a.pdf_link(action)) for key, action in a.LINK_ACTIONS.items()},
}
PDF_ACTIONS_ALLOWED = {
    "open_action_first_page": a.pdf_open_action_first_page,
    **{f"link_{key}": (lambda action=action: a.pdf_link(action)) for key, action in a.LINK_ACTIONS_ALLOWED.items()},
}


def test_pdf_actions_are_refused_and_plain_links_pass():
    from workpro_plugin.services import documents

    refused = []
    for key, build in PDF_ACTIONS_REFUSED.items():
        with pytest.raises(documents.UploadError) as info:
            documents.check_upload(SimpleUploadedFile("scan.pdf", build()))
        message = str(info.value)
        assert ACTIONS in message or ACTIVE in message, (key, message)  # never "unreadable": the check saw it
        refused.append(key)
    for key, build in PDF_ACTIONS_ALLOWED.items():
        checked = documents.check_upload(SimpleUploadedFile("scan.pdf", build()))
        assert documents.merge_to_pdf([checked]).startswith(b"%PDF-"), key
    documents.check_upload(SimpleUploadedFile("scan.pdf", pdf_bytes(3)))  # a clean PDF
    note("PDF action kinds refused", len(refused))
    note("PDF plain documents accepted (links, first page)", len(PDF_ACTIONS_ALLOWED) + 1)
    assert len(refused) == len(PDF_ACTIONS_REFUSED) >= 20


# --- damaged files: hypothesis on the checks themselves (no HTTP, so many examples) ----------------

SEEDS = [pdf_bytes(2), a.jpeg(size=(240, 260)), a.png(size=(220, 240)), a.pdf_javascript_hex_names(),
         a.pdf_embedded_file(), a.jpeg_with_comment(), a.pdf_page_aa_gotor_hex_names(),
         a.pdf_link(a.LINK_ACTIONS["goto_then_gotor"])]


@st.composite
def damaged(draw):
    """A valid file with a few bytes flipped, inserted or cut: what a broken scanner or an attacker sends."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "truncate", "duplicate"]))
        at = draw(st.integers(0, len(data) - 1)) if data else 0
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "truncate":
            del data[max(at, 1):]
        else:
            data[at:at] = data[at:at + draw(st.integers(1, 2048))]
    return bytes(data)


@settings(max_examples=int(300 * float(os.environ.get("WORKPRO_FUZZ_SCALE", "1"))), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(content=damaged(), name=st.sampled_from(["scan.pdf", "foto.jpg", "bild.png"]))
def test_damaged_files_are_refused_or_stored_cleanly(content, name):
    """check_upload raises only UploadError; what it accepts, every storing path can process."""
    from workpro_plugin.services import chat, documents, minors

    add("damaged uploads checked")
    try:
        checked = documents.check_upload(SimpleUploadedFile(name, content))
    except documents.UploadError as exc:
        assert str(exc)
        return
    merged = documents.merge_to_pdf([checked])  # signed copy and section uploads
    assert merged.startswith(b"%PDF-")
    chat._without_metadata(checked)  # chat attachments
    try:
        minors.process_passport_photo(SimpleUploadedFile(name, content))
    except documents.UploadError:
        pass

