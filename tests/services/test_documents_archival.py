"""Every PDF WorkPro renders is tagged PDF/A-3a; the Angebot and the ratified contract carry PAdES
signatures that pyHanko validates, and that break when a byte changes."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.utils import timezone
from pypdf import PdfReader

from tests.factories import enrollment_in, give_signing_key, participant_signed_pdf, pdf_bytes
from workpro_plugin.models import Document, Enrollment
from workpro_plugin.services import documents, signatures
from workpro_plugin.services import enrollments as svc

pytestmark = pytest.mark.django_db
S = Enrollment.Status
TODAY = timezone.localdate()
PDFAID = "http://www.aiim.org/pdfa/ns/id/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


@pytest.fixture
def lead(world):
    world.staff.first_name, world.staff.last_name = "Lea", "Leitner"
    world.staff.save()
    return world.staff


def _catalogue(content: bytes) -> dict:
    reader = PdfReader(io.BytesIO(content))
    root = reader.trailer["/Root"]
    part = conformance = xmp_producer = None
    if reader.xmp_metadata is not None:
        for description in reader.xmp_metadata.rdf_root.getElementsByTagNameNS(RDF, "Description"):
            part = part or description.getAttributeNS(PDFAID, "part") or None
            conformance = conformance or description.getAttributeNS(PDFAID, "conformance") or None
            xmp_producer = xmp_producer or description.getAttributeNS("http://ns.adobe.com/pdf/1.3/", "Producer")
    return {"version": str(root.get("/Version", reader.pdf_header[5:])),
            "marked": bool(root.get("/MarkInfo", {}).get("/Marked")), "struct": "/StructTreeRoot" in root,
            "lang": str(root.get("/Lang", "")), "title": (reader.metadata or {}).get("/Title", ""),
            "pdfa": (part, conformance), "producers": ((reader.metadata or {}).get("/Producer"), xmp_producer), "fonts_embedded": _fonts_embedded(reader), "pages": len(reader.pages)}


def _fonts_embedded(reader) -> bool:
    fonts = []
    for page in reader.pages:
        for font in (page.get("/Resources", {}).get("/Font", {}) or {}).values():
            font = font.get_object()
            descendant = font.get("/DescendantFonts")
            fonts.append(descendant[0].get_object() if descendant else font)
    return bool(fonts) and all(any(key in font["/FontDescriptor"] for key in ("/FontFile", "/FontFile2", "/FontFile3"))
                               for font in fonts)


def _signature_widgets(content: bytes) -> list:
    reader = PdfReader(io.BytesIO(content))
    return [annotation.get_object() for page in reader.pages for annotation in page.get("/Annots", [])
            if annotation.get_object().get("/FT") == "/Sig"]


def _assert_archival(content: bytes, *, title_part: str) -> None:
    found = _catalogue(content)
    assert found["marked"] and found["struct"], found  # tagged
    assert found["lang"] == "de" and title_part in found["title"], found
    assert found["pdfa"] == ("3", "A") and found["version"].lstrip("/") == "1.7", found  # PDF/A-3 is PDF 1.7
    assert found["fonts_embedded"], found
    assert found["producers"][0] == found["producers"][1], found  # PDF/A: information dictionary = XMP


def _make_offer(world, lead):
    enrollment = enrollment_in(S.EINGESTUFT, offer=world.offer, institution=world.kita, holder=world.holder)
    with TestCase.captureOnCommitCallbacks(execute=True):  # the Angebot is rendered after commit
        svc.enrollment_make_offer(enrollment=enrollment, by=lead, costs=Decimal("260.00"),
                                  contract_start=date(TODAY.year + 1, 1, 1), contract_end=date(TODAY.year + 1, 12, 31))
    return enrollment, enrollment.documents.get(kind="contract_offer")


def _read(document: Document) -> bytes:
    with document.file.open("rb") as handle:
        return handle.read()


def _text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


# --- PDF/A and tagging -------------------------------------------------------------------------

def test_application_and_unsigned_offer_are_tagged_pdfa_with_the_issuing_lead(world, lead):
    enrollment, offer_document = _make_offer(world, lead)
    _assert_archival(documents.render_application_pdf(enrollment), title_part="Anmeldung")
    content = _read(offer_document)
    _assert_archival(content, title_part="Angebot")
    text = _text(content)
    # the Leitung who made the offer, with role and the day of the offer (it was blank before)
    assert "Lea Leitner, Einrichtungsleitung" in text and timezone.localdate().strftime("%d.%m.%Y") in text
    assert "Digital unterschrieben" not in text and offer_document.signatures == []
    # rendered again later (e.g. for the archive), the signatory comes from the log, not the contact person
    assert "Lea Leitner" in _text(documents.render_contract_offer_pdf(enrollment))


def test_addon_confirmation_is_tagged_pdfa(world):
    from workpro_plugin.services.addons import render_addon_confirmation_pdf

    enrollment = enrollment_in(S.ANGENOMMEN, offer=world.offer, institution=world.kita, holder=world.holder)

    class Booking:  # the template reads only these
        addon = type("Addon", (), {"title": "Mittagessen", "schedule": "", "location": ""})()
        starts_on, ends_on, cost, cost_reason, billing_period_label = TODAY, TODAY, Decimal("40"), "", "monatlich"
        booked_at = consent_at = decided_at = timezone.now()
        consent_text, decided_by = "Ja", None

    Booking.enrollment = enrollment
    _assert_archival(render_addon_confirmation_pdf(Booking()), title_part="Buchungsbestätigung")


def test_merged_scans_keep_language_and_title_but_claim_no_pdfa(world):
    enrollment = enrollment_in(S.ANGEBOT, offer=world.offer, institution=world.kita, holder=world.holder)
    svc.enrollment_upload_signed(enrollment=enrollment, by=world.holder,
                                 files=[SimpleUploadedFile("seite.pdf", pdf_bytes(2))])
    signed = enrollment.documents.get(kind="signed_contract", superseded=False)
    found = _catalogue(_read(signed))
    assert found["lang"] == "de" and "Unterschriebenes Angebot" in found["title"]
    assert found["pdfa"] == (None, None) and not found["struct"]  # a scan is not tagged: no false claim


# --- signatures ----------------------------------------------------------------------------------

def test_the_angebot_is_signed_by_the_institution_and_validates(world, lead, settings, monkeypatch, tmp_path):
    give_signing_key(world.kita, settings=settings, monkeypatch=monkeypatch, tmp_path=tmp_path)
    enrollment, offer_document = _make_offer(world, lead)
    content = _read(offer_document)
    _assert_archival(content, title_part="Angebot")  # the incremental update keeps the catalogue
    assert "Digital unterschrieben" in _text(content)
    [found] = signatures.validate(content, institution=world.kita)
    assert found["intact"] and found["valid"] and found["trusted"] and found["bottom_line"], found
    assert found["coverage"] == "ENTIRE_FILE" and found["by_institution"]
    assert found["signer"] == world.kita.name and found["name"] == "Lea Leitner, Einrichtungsleitung"
    assert found["reason"] == f"Angebot {enrollment.contract_number}"
    assert offer_document.signatures == [found | {"signed_at": offer_document.signatures[0]["signed_at"]}]
    [widget] = _signature_widgets(content)  # visible over the signature block, printable, without own text
    x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
    assert x2 - x1 > 100 and y2 - y1 > 20 and int(widget["/F"]) & 4
    assert not widget["/AP"]["/N"].get_object().get("/Resources", {}).get("/Font")

    tampered = bytearray(content)
    position = content.index(b"Lea Leitner") if b"Lea Leitner" in content else len(content) // 3
    tampered[position] ^= 0x01  # one changed byte inside the signed range
    [broken] = signatures.validate(bytes(tampered), institution=world.kita)
    assert not broken["intact"] and not broken["bottom_line"]


def test_an_untrusted_root_is_reported_as_such(world, lead, settings, monkeypatch, tmp_path):
    give_signing_key(world.kita, settings=settings, monkeypatch=monkeypatch, tmp_path=tmp_path)
    _enrollment, offer_document = _make_offer(world, lead)
    settings.WORKPRO_SIGNING_TRUST_ROOTS = []
    [found] = signatures.validate(_read(offer_document), institution=world.kita)
    assert found["intact"] and not found["trusted"] and not found["bottom_line"]


def test_ratified_scan_gets_a_page_and_the_countersignature(world, lead, settings, monkeypatch, tmp_path):
    give_signing_key(world.kita, settings=settings, monkeypatch=monkeypatch, tmp_path=tmp_path)
    enrollment = enrollment_in(S.ANGEBOT, offer=world.offer, institution=world.kita, holder=world.holder)
    svc.enrollment_upload_signed(enrollment=enrollment, by=world.holder,
                                 files=[SimpleUploadedFile("scan.pdf", pdf_bytes(2))])
    with TestCase.captureOnCommitCallbacks(execute=True):  # countersigned after commit
        svc.enrollment_ratify(enrollment=enrollment, by=lead)
    ratified = enrollment.documents.get(kind="ratified_contract")
    content = _read(ratified)
    found = _catalogue(content)
    assert found["pages"] == 3 and found["lang"] == "de" and "ratifiziert" in found["title"]
    assert "Digital gegengezeichnet von Lea Leitner" in _text(content).replace("\n", " ")
    [countersignature] = ratified.signatures
    assert countersignature["bottom_line"] and countersignature["coverage"] == "ENTIRE_FILE"
    assert countersignature["field"] == signatures.FIELD_COUNTERSIGNATURE
    assert countersignature["reason"].startswith("Ratifizierung")
    scan_byte = content.index(b"/MediaBox")  # a byte of the participant's scan, covered by the countersignature
    tampered = content[:scan_byte] + b"/MediaBoy" + content[scan_byte + 9:]
    [broken] = signatures.validate(tampered, institution=world.kita)
    assert not broken["intact"] and not broken["bottom_line"]


def test_a_digitally_signed_upload_stays_intact_under_the_countersignature(world, lead, settings, monkeypatch,
                                                                           tmp_path):
    give_signing_key(world.kita, settings=settings, monkeypatch=monkeypatch, tmp_path=tmp_path)
    enrollment, offer_document = _make_offer(world, lead)
    returned = participant_signed_pdf(_read(offer_document))  # signed in an eID app, on top of ours
    svc.enrollment_upload_signed(enrollment=enrollment, by=world.holder,
                                 files=[SimpleUploadedFile("angebot-signiert.pdf", returned)])
    signed = enrollment.documents.get(kind="signed_contract", superseded=False)
    assert _read(signed) == returned  # byte for byte: a rewrite would break the participant's signature
    assert [s["signer"] for s in signed.signatures] == [world.kita.name, "Erika Muster"]
    assert all(s["bottom_line"] for s in signed.signatures)

    with TestCase.captureOnCommitCallbacks(execute=True):  # countersigned after commit
        svc.enrollment_ratify(enrollment=enrollment, by=lead)
    ratified = enrollment.documents.get(kind="ratified_contract")
    content = _read(ratified)
    assert content.startswith(returned)  # an incremental update: nothing before it changed
    assert [s["signer"] for s in ratified.signatures] == [world.kita.name, "Erika Muster", world.kita.name]
    assert all(s["intact"] and s["valid"] and s["trusted"] for s in ratified.signatures), ratified.signatures
    assert ratified.signatures[-1]["coverage"] == "ENTIRE_FILE"
    _assert_archival(content, title_part="Angebot")  # what was PDF/A stays so


def test_without_a_usable_key_documents_are_unsigned_and_say_so(world, lead, settings, monkeypatch, tmp_path):
    give_signing_key(world.kita, settings=settings, monkeypatch=monkeypatch, tmp_path=tmp_path)
    monkeypatch.setenv(signatures.password_env_names(world.kita)[-2], "falsches-passwort")
    signatures._load_signer.cache_clear()
    assert signatures.has_signing_key(world.kita) and not signatures.can_sign(world.kita)
    _enrollment, offer_document = _make_offer(world, lead)
    assert offer_document.signatures == [] and "Digital unterschrieben" not in _text(_read(offer_document))


def test_the_password_is_read_from_the_environment_only(world, settings, monkeypatch, tmp_path):
    key = give_signing_key(world.kita, settings=settings, monkeypatch=monkeypatch, tmp_path=tmp_path,
                           password="nur-im-env")
    assert signatures.can_sign(world.kita)
    monkeypatch.delenv(signatures.password_env_names(world.kita)[-2])
    assert not signatures.can_sign(world.kita)
    # a path on the machine and a variable of its own, from the settings
    path = tmp_path / "kita.p12"
    path.write_bytes(key)
    world.kita.signing_certificate = ""
    world.kita.save()
    settings.WORKPRO_SIGNING_KEYS = {world.kita.slug: {"pkcs12": str(path), "password_env": "KITA_KEY_PASSWORD"}}
    monkeypatch.setenv("KITA_KEY_PASSWORD", "nur-im-env")
    assert signatures.key_source(world.kita).origin == "settings" and signatures.can_sign(world.kita)


def test_system_check_warns_about_institutions_without_a_key(world, settings, monkeypatch, tmp_path):
    from workpro_plugin.checks import check_signing_keys

    settings.DEBUG = False
    give_signing_key(world.kita, settings=settings, monkeypatch=monkeypatch, tmp_path=tmp_path)
    warnings = check_signing_keys(databases=["default"])
    assert {(w.id, w.obj.pk) for w in warnings} == {("workpro.W030", world.other.pk)}
    settings.DEBUG = True
    assert check_signing_keys(databases=["default"]) == []


def test_signing_costs_little_next_to_rendering(world, lead, settings, monkeypatch, tmp_path):
    """Not a benchmark (see bench/): a guard that signing stays in the order of the rendering."""
    import time

    give_signing_key(world.kita, settings=settings, monkeypatch=monkeypatch, tmp_path=tmp_path)
    enrollment = enrollment_in(S.ANGEBOT, offer=world.offer, institution=world.kita, holder=world.holder)
    who = documents.signatory(world.kita, lead)
    content = documents.render_contract_offer_pdf(enrollment, by=lead, sign=False)
    signatures.sign_pdf(content, institution=world.kita, signatory=who, reason="warm", field_name="x")
    started = time.perf_counter()
    documents.render_contract_offer_pdf(enrollment, by=lead, sign=False)
    rendering = time.perf_counter() - started
    started = time.perf_counter()
    signatures.sign_pdf(content, institution=world.kita, signatory=who, reason="r", field_name="y")
    signing = time.perf_counter() - started
    assert signing < rendering, (signing, rendering)


def test_signatures_are_checked_again_on_demand(world, lead, settings, monkeypatch, tmp_path):
    from django.core.management import call_command

    give_signing_key(world.kita, settings=settings, monkeypatch=monkeypatch, tmp_path=tmp_path)
    _enrollment, offer_document = _make_offer(world, lead)
    assert offer_document.signatures[0]["bottom_line"]
    settings.WORKPRO_SIGNING_TRUST_ROOTS = []  # the CA is no longer trusted
    out = io.StringIO()
    call_command("workpro_check_signatures", stdout=out)
    offer_document.refresh_from_db()
    assert not offer_document.signatures[0]["bottom_line"] and offer_document.signatures[0]["intact"]
    assert f"{offer_document.pk}\t" in out.getvalue() and "1 Dokument(e)" in out.getvalue()
