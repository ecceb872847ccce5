"""Documents: PDF rendering (WeasyPrint), upload checks by content, deposit in private storage."""

from __future__ import annotations

import base64
import hashlib
import io
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_q.models import Schedule
from django_q.tasks import async_task, schedule
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    TextStringObject,
)

from ..lib.choices import ApplicationSection
from ..lib.questions import (
    QUESTION_SECTION_LABELS,
    QUESTION_SECTIONS,
    question_rows,
    questions_of_section,
)
from ..lib.sections import rows_for_section
from ..models import TERM_FIELDS, AddonBooking, Document, Enrollment, FeePeriod, FeeSchedule, Person
from ..selectors.texts import enrollment_terms
from . import audit, notify, signatures
from .errors import ServiceError
from .images import ImageRefused, check_image, clean_image

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
PDF_MAGIC = b"%PDF-"
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# PDF features that execute or smuggle content; a signed scan never needs them.
PDF_ACTIVE_CONTENT = (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/RichMedia", b"/XFA")
# The same as names of the parsed document: there "/J#61vaScript" has become "/JavaScript", and
# objects hidden in compressed object streams are visible.
PDF_ACTIVE_NAMES = frozenset({"/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/RichMedia",
                              "/XFA", "/GoToE", "/ImportData", "/SubmitForm"})
MAX_PDF_OBJECTS = 200_000  # a 100-page scan has a few thousand
# Actions that leave the document: open another file (also on a network share), run a program,
# send form data, play media, or reach out to a 3D view or an embedded document. Refused wherever they are (page, annotation,
# form field, outline, a /Next chain).
PDF_FOREIGN_ACTIONS = frozenset({"/GoToR", "/GoToE", "/GoToDp", "/Launch", "/SubmitForm", "/ImportData",
                                 "/JavaScript", "/Rendition", "/Sound", "/Movie", "/RichMediaExecute",
                                 "/GoTo3DView"})
# A link a reader follows only when clicked may go to a web page or a mail address; any other scheme
# (file:, smb:, a UNC path, javascript:, relative paths) reaches the reader's disk or network.
PDF_LINK_SCHEMES = ("http://", "https://", "mailto:")
MAX_ACTION_CHAIN = 100


class UploadError(ServiceError):
    """An upload refused by content; the message is shown next to the field."""


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content: bytes
    kind: str  # "pdf", "jpeg", "png"


def _read(upload) -> bytes:
    upload.seek(0)
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    upload.seek(0)
    return data


def check_upload(upload) -> CheckedFile:
    """Accept PDF, JPEG and PNG by their content (magic bytes, then a full parse)."""
    name = getattr(upload, "name", "datei")
    data = _read(upload)
    if not data:
        raise UploadError(_("Die Datei „%(name)s“ ist leer.") % {"name": name})
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(_("Die Datei „%(name)s“ ist größer als 20 MB.") % {"name": name})
    if data.startswith(PDF_MAGIC):
        _check_pdf(name, data)
        return CheckedFile(name, data, "pdf")
    if data.startswith(JPEG_MAGIC) or data.startswith(PNG_MAGIC):
        kind = "jpeg" if data.startswith(JPEG_MAGIC) else "png"
        try:
            check_image(data, name=name, expected_format={"jpeg": "JPEG", "png": "PNG"}[kind])
        except ImageRefused as exc:
            raise UploadError(str(exc)) from exc
        return CheckedFile(name, data, kind)
    raise UploadError(_("„%(name)s“ ist keine PDF-, JPEG- oder PNG-Datei.") % {"name": name})


def _check_pdf(name: str, data: bytes) -> None:
    """Parsed, walked for active content, and written anew once: what passes here can be stored."""

    active_content = UploadError(_("„%(name)s“ enthält aktive Inhalte (z. B. JavaScript) und wird nicht "
                                   "angenommen.") % {"name": name})
    if any(marker in data for marker in PDF_ACTIVE_CONTENT):
        raise active_content
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
        pages = 0 if encrypted else len(reader.pages)
        found = None if encrypted else _active_content(reader)
        if not encrypted and 1 <= pages <= 100 and not found:
            writer = PdfWriter()
            writer.append(reader)
            writer.write(io.BytesIO())
    except Exception as exc:  # noqa: BLE001 - on hostile input pypdf raises anything (AssertionError, IndexError…)
        raise UploadError(_("„%(name)s“ ist keine lesbare PDF-Datei.") % {"name": name}) from exc
    if encrypted:
        raise UploadError(_("„%(name)s“ ist verschlüsselt. Bitte ohne Passwort speichern.") % {"name": name})
    if not 1 <= pages <= 100:
        raise UploadError(_("„%(name)s“ muss zwischen 1 und 100 Seiten haben.") % {"name": name})
    if found == "script":
        raise active_content
    if found == "action":
        raise UploadError(_("„%(name)s“ enthält Aktionen, die beim Öffnen oder Anklicken andere Dateien, "
                            "Programme oder Netzwerkadressen aufrufen, und wird nicht angenommen. Bitte speichern "
                            "Sie die Datei neu (z. B. mit „Drucken als PDF“) oder scannen Sie sie ein.")
                          % {"name": name})


def _active_content(reader) -> str | None:
    """Walk every object reachable from the trailer (catalog, pages, annotations, form fields, outlines,
    name trees): "script" for scripts, embedded files and forms that send data; "action" for actions
    that run by themselves (/AA of the document, a page, an annotation or a widget; an /OpenAction
    other than going to a page) or leave the document (another file, a network path, media, a link
    that is not a web or mail address); None for a plain document."""

    seen: set[tuple[int, int]] = set()
    stack: list = [reader.trailer]
    visited = 0
    action = False
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            if (item.idnum, item.generation) in seen:
                continue
            seen.add((item.idnum, item.generation))
            item = item.get_object()
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            raise ValueError("too many PDF objects")
        if isinstance(item, DictionaryObject):  # streams too: their dictionary, not their data
            if not action and _leaves_document(item):
                action = True
            for key, value in item.items():
                if key in PDF_ACTIVE_NAMES:
                    return "script"
                if key == "/AA" or (key == "/OpenAction" and _runs_by_itself(value)):
                    action = True
                stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(item)
        elif isinstance(item, NameObject) and item in PDF_ACTIVE_NAMES:
            return "script"
    return "action" if action else None


def _resolved(item, key):
    value = item.get(key)  # dict.get: an indirect reference stays one
    return value.get_object() if value is not None else None


def _leaves_document(item) -> bool:
    """An action dictionary that opens something outside the document."""
    kind = _resolved(item, "/S")
    if kind in PDF_FOREIGN_ACTIONS:
        return True
    if kind == "/Thread" and item.get("/F") is not None:  # an article thread in another file
        return True
    if kind == "/URI":
        uri = _resolved(item, "/URI")
        if isinstance(uri, bytes):
            uri = uri.decode("latin-1")
        return not (isinstance(uri, str) and uri.strip().lower().startswith(PDF_LINK_SCHEMES))
    return False


def _runs_by_itself(value) -> bool:
    """An /OpenAction runs when the file is opened: only going to a place in the document is harmless,
    a destination or a chain of /GoTo actions (followed through /Next)."""

    first = value.get_object()
    if not isinstance(first, DictionaryObject):
        return False  # a destination (an array, or a named one)
    pending = [first]
    for _step in range(MAX_ACTION_CHAIN):
        if not pending:
            return False
        item = pending.pop().get_object()
        if not isinstance(item, DictionaryObject) or _resolved(item, "/S") != "/GoTo":
            return True
        following = _resolved(item, "/Next")
        if following is not None:
            pending.extend(following if isinstance(following, ArrayObject) else [following])
    return True


def check_uploads(uploads) -> list[CheckedFile]:
    files = [check_upload(upload) for upload in uploads]
    if not files:
        raise UploadError(_("Bitte wählen Sie mindestens eine Datei aus."))
    if sum(len(f.content) for f in files) > MAX_UPLOAD_BYTES:
        raise UploadError(_("Alle Dateien zusammen dürfen höchstens 20 MB groß sein."))
    return files


def merge_to_pdf(files: list[CheckedFile], *, title: str = "", lang: str = "") -> bytes:
    """One PDF from scans and photos; images are re-encoded (EXIF and other metadata dropped).

    A single PDF that carries a digital signature (e.g. signed with an eID app) is kept byte for
    byte: rewriting it would break the signature. Anything merged gets the document's language and
    title (/Lang, /Title, shown as window title); it is not tagged and not claimed to be PDF/A,
    because a scan or another program's PDF cannot be made so by merging."""

    if len(files) == 1 and files[0].kind == "pdf" and signatures.has_signatures(files[0].content):
        return files[0].content
    writer = PdfWriter()
    for checked in files:
        if checked.kind == "pdf":
            writer.append(PdfReader(io.BytesIO(checked.content), strict=False))
            continue
        writer.append(PdfReader(io.BytesIO(clean_image(checked.content, output="PDF", name=checked.name))))
    return _finish(writer, title=title, lang=lang)


def _finish(writer: PdfWriter, *, title: str, lang: str) -> bytes:
    writer.add_metadata({"/Producer": "WorkPro", **({"/Title": title} if title else {})})
    root = writer._root_object
    if lang:
        root[NameObject("/Lang")] = TextStringObject(lang)
    if title:
        root[NameObject("/ViewerPreferences")] = DictionaryObject({NameObject("/DisplayDocTitle"): BooleanObject(True)})
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def deposit(*, kind: str, title: str, content: bytes, enrollment: Enrollment | None = None,
            owner: Person | None = None, by=None, content_type: str = "application/pdf") -> Document:
    """Store a document privately; from now on it counts as delivered ("zugestellt")."""
    digest = hashlib.sha256(content).hexdigest()
    document = Document(kind=kind, title=title, enrollment=enrollment, owner=owner or (
        enrollment.participant if enrollment else None), uploaded_by=by, content_type=content_type, sha256=digest,
        deposited_at=timezone.now())
    if content_type == "application/pdf" and signatures.has_signatures(content):
        signatures.check_document(document, content)  # remembered on the row saved below
    document.file.save(f"{digest[:16]}.pdf" if content_type == "application/pdf" else digest[:16],
                       ContentFile(content), save=False)
    document.save()
    audit.record(audit.A.DOCUMENT_DEPOSITED, actor=by, obj=document, person=document.owner,
                 detail={"kind": kind, "enrollment": enrollment.pk if enrollment else None})
    return document


# --- rendering after commit --------------------------------------------------------------------
#
# A generated PDF is not rendered inside the transaction of the action that causes it (WeasyPrint
# takes a second or more, and on SQLite every other write would wait). The action saves a pending
# Document with what the PDF needs (`render_spec`: the data of the moment of the action), and after
# commit a django-q2 task renders it, stores the file and marks it ready; mails that attach it wait
# in the outbox (state "waiting") until then. The task is idempotent: it claims the row first.

RENDER_MAX_ATTEMPTS = 3
RENDER_RETRY_SECONDS = [60, 5 * 60]  # before attempt 2, 3
RENDER_STALE_CLAIM = timedelta(minutes=10)
RENDER_TASK = "workpro_plugin.tasks.render_document_task"


class RenderRefused(Exception):
    """The document cannot be rendered as the action saw it (retrying would not help)."""


class DocumentNotReady(ServiceError):
    """A generated document is still being rendered (or its rendering failed)."""


def schedule_render(*, kind: str, title: str, enrollment: Enrollment, renderer: str, spec: dict | None = None,
                    by=None) -> Document:
    """A pending Document, rendered by a task once the surrounding transaction commits."""
    document = Document.objects.create(
        kind=kind, title=title, enrollment=enrollment, owner=enrollment.participant, uploaded_by=by,
        content_type="application/pdf", state=Document.State.PENDING,
        render_spec={"renderer": renderer, "by": getattr(by, "pk", None), **(spec or {})})
    pk = document.pk
    transaction.on_commit(lambda: enqueue_render(pk))
    return document


def enqueue_render(document_id: int) -> None:
    async_task(RENDER_TASK, document_id, task_name=f"render-document-{document_id}-{timezone.now().timestamp():.0f}")


def _spec_user(spec: dict):
    return get_user_model().objects.filter(pk=spec.get("by")).first() if spec.get("by") else None


def application_spec(enrollment: Enrollment) -> dict:
    """What the Anmeldung shows, as submitted: the fingerprinted data (sections, participant, questions)
    and its fingerprint; the task prints these, whatever was entered after the submission."""
    return {"data": enrollment.application_data(), "fingerprint": enrollment.data_fingerprint(),
            "printed_on": timezone.localdate().isoformat()}


def _render_application(document: Document) -> bytes:
    spec = document.render_spec
    printed_on = date.fromisoformat(spec["printed_on"]) if spec.get("printed_on") else None
    return render_application_pdf(document.enrollment, printed_on=printed_on, snapshot=spec)


OFFER_FIELDS = ("costs", "costs_reason", "contract_start", "contract_end", "signed_copy_deadline", "offered_at")


def offer_spec(enrollment: Enrollment) -> dict:
    """The terms of an Angebot as made (a later Frist verlängern must not change the PDF sent with it)."""
    return {**application_spec(enrollment), "offer": _snapshot(enrollment, OFFER_FIELDS)}


def _snapshot(instance, names) -> dict:
    """Model fields as strings for a render_spec (JSON); _in_memory reads them back."""
    return {name: None if getattr(instance, name) is None else str(getattr(instance, name)) for name in names}


def _in_memory(instance, values: dict | None):
    """Set the fields of a snapshot (_snapshot) on `instance`, in memory only: never saved here."""
    for name, value in (values or {}).items():
        if value is not None:
            setattr(instance, name, type(instance)._meta.get_field(name).to_python(value))
    return instance


def _render_contract_offer(document: Document) -> bytes:
    enrollment, spec = document.enrollment, document.render_spec
    _in_memory(enrollment, spec.get("offer"))
    return render_contract_offer_pdf(enrollment, by=_spec_user(spec), snapshot=spec if spec.get("data") else None)


def ratified_spec(enrollment: Enrollment) -> dict:
    """The Ratifizierung as done: which signed copy is countersigned, and when."""
    signed = enrollment.documents.filter(kind=Document.Kind.SIGNED_CONTRACT, superseded=False,
                                         state=Document.State.READY).latest("deposited_at")
    return {"signed": signed.pk, "ratified_at": timezone.now().isoformat()}


def _render_ratified(document: Document) -> bytes:
    spec = document.render_spec
    return render_ratified_pdf(document.enrollment, by=_spec_user(spec), signed_id=spec.get("signed"),
                               ratified_at=datetime.fromisoformat(spec["ratified_at"]) if spec.get("ratified_at")
                               else None)


# What a letter on a concluded contract names besides its own subject: the participant and the
# offer as they were at the action (a rename before the task runs, or before "Erneut erstellen", does not reach it).
PARTICIPANT_FIELDS = ("first_name", "last_name", "customer_number")


def _contract_spec(enrollment: Enrollment) -> dict:
    return {"participant": _snapshot(enrollment.participant, PARTICIPANT_FIELDS) if enrollment.participant else None,
            "offer_title": enrollment.offer.title}


def _contract_in_memory(enrollment: Enrollment, spec: dict) -> Enrollment:
    if enrollment.participant is not None:
        _in_memory(enrollment.participant, spec.get("participant"))
    if spec.get("offer_title"):
        enrollment.offer.title = spec["offer_title"]
    return enrollment


FEE_PERIOD_FIELDS = ("starts_on", "amount", "reason")


def change_notice_spec(enrollment: Enrollment, *, period: FeePeriod, previous) -> dict:
    """The Änderungsmitteilung as issued: the new fee period, the fee before, the billing period and
    the day; the task prints these, whatever changes in the fee history later."""
    return {**_contract_spec(enrollment), "period": _snapshot(period, FEE_PERIOD_FIELDS),
            "previous": None if previous is None else str(previous), "issued_on": timezone.localdate().isoformat(),
            "billing_period": _billing_period_code(enrollment)}


def _render_change_notice(document: Document) -> bytes:
    spec = document.render_spec
    enrollment = _contract_in_memory(document.enrollment, spec)
    previous = spec.get("previous")
    return render_change_notice_pdf(
        enrollment, period=_in_memory(FeePeriod(enrollment=enrollment), spec["period"]),
        previous=None if previous is None else FeePeriod._meta.get_field("amount").to_python(previous),
        issued_on=date.fromisoformat(spec["issued_on"]), billing_period=spec.get("billing_period", ""))


BOOKING_FIELDS = ("starts_on", "ends_on", "cost", "cost_reason", "billing_period", "booked_at", "consent_at",
                  "consent_text", "decided_at")
ADDON_FIELDS = ("title", "schedule", "location")


def addon_confirmation_spec(booking: AddonBooking) -> dict:
    """The Buchungsbestätigung as confirmed: the booking's period, cost and consent, the add-on's title,
    times and place."""
    return {**_contract_spec(booking.enrollment), "booking": booking.pk,
            "fields": _snapshot(booking, BOOKING_FIELDS), "addon": _snapshot(booking.addon, ADDON_FIELDS)}


def _render_addon_confirmation(document: Document) -> bytes:
    spec = document.render_spec
    booking = AddonBooking.objects.select_related("addon", "decided_by").filter(pk=spec.get("booking")).first()
    if booking is None:
        raise RenderRefused(_("Die Buchung dieses Dokuments gibt es nicht mehr."))
    booking.enrollment = _contract_in_memory(document.enrollment, spec)
    _in_memory(booking, spec.get("fields"))
    _in_memory(booking.addon, spec.get("addon"))
    return render_addon_confirmation_pdf(booking)


# The kinds rendered after commit: render_spec["renderer"] → the function that renders the document from it.
RENDERERS = {"application": _render_application, "contract_offer": _render_contract_offer,
             "ratified_contract": _render_ratified, "change_notice": _render_change_notice,
             "addon_confirmation": _render_addon_confirmation}


def render_document(document_id: int) -> bool:
    """The render task: render a pending document once, store it, mark it ready and release the mails
    waiting for it. Returns True when this call finished it; a second call (a retried task) does nothing."""
    now = timezone.now()
    claimed = Document.objects.filter(
        Q(render_claimed_at__isnull=True) | Q(render_claimed_at__lt=now - RENDER_STALE_CLAIM),
        pk=document_id, state=Document.State.PENDING,
    ).update(render_claimed_at=now, render_attempts=F("render_attempts") + 1)
    if not claimed:
        return False
    document = Document.objects.select_related("enrollment__institution", "enrollment__offer").get(pk=document_id)
    try:
        renderer = RENDERERS.get(document.render_spec.get("renderer"))
        if renderer is None:
            raise RenderRefused(_("Für dieses Dokument ist keine Vorlage bekannt."))
        content = renderer(document)
    except Exception as exc:  # noqa: BLE001 - recorded on the row for staff, retried a bounded number of times
        final = isinstance(exc, RenderRefused) or document.render_attempts >= RENDER_MAX_ATTEMPTS
        error = (str(exc) if isinstance(exc, RenderRefused) else f"{type(exc).__name__}: {exc}")[:2000]
        Document.objects.filter(pk=document_id, state=Document.State.PENDING).update(
            state=Document.State.FAILED if final else Document.State.PENDING, render_error=error,
            render_claimed_at=None)
        logger.warning("document %s: rendering attempt %s failed: %s", document_id, document.render_attempts, exc)
        if not final:
            delay = RENDER_RETRY_SECONDS[min(document.render_attempts, len(RENDER_RETRY_SECONDS)) - 1]
            schedule(RENDER_TASK, document_id, schedule_type=Schedule.ONCE, repeats=1,
                     next_run=timezone.now() + timedelta(seconds=delay),
                     name=f"render-document-{document_id}-{document.render_attempts + 1}")
        return False
    with transaction.atomic():
        row = Document.objects.select_for_update().filter(pk=document_id, state=Document.State.PENDING).first()
        if row is None:
            return False
        _store(row, content)
        row.state, row.render_error, row.render_claimed_at = Document.State.READY, "", None
        row.deposited_at = timezone.now()
        row.save()
        audit.record(audit.A.DOCUMENT_DEPOSITED, actor=row.uploaded_by, obj=row, person=row.owner,
                     detail={"kind": row.kind, "enrollment": row.enrollment_id})
        notify.release_waiting(row.pk)
    return True


def _store(document: Document, content: bytes) -> None:
    digest = hashlib.sha256(content).hexdigest()
    document.sha256 = digest
    if document.content_type == "application/pdf" and signatures.has_signatures(content):
        signatures.check_document(document, content)
    document.file.save(f"{digest[:16]}.pdf" if document.content_type == "application/pdf" else digest[:16],
                       ContentFile(content), save=False)


RENDER_LOST_AFTER = timedelta(minutes=2)


def sweep_renders(*, now=None) -> int:
    """Every minute (with the outbox sweep): pending documents whose task was lost (never started, e.g.
    the broker was down at commit) or whose worker died while rendering are queued again. Returns their number."""
    now = now or timezone.now()
    lost = list(Document.objects.filter(
        Q(render_claimed_at__lt=now - RENDER_STALE_CLAIM)
        | Q(render_claimed_at__isnull=True, render_attempts=0, deposited_at__lt=now - RENDER_LOST_AFTER),
        state=Document.State.PENDING).order_by("pk").values_list("pk", flat=True)[:100])
    for pk in lost:
        enqueue_render(pk)
    return len(lost)


def document_retry(*, document: Document) -> bool:
    """Erneut erstellen: a failed document is rendered again (after commit); False if it was not failed."""
    updated = Document.objects.filter(pk=document.pk, state=Document.State.FAILED).update(
        state=Document.State.PENDING, render_attempts=0, render_error="", render_claimed_at=None)
    if updated:
        pk = document.pk
        transaction.on_commit(lambda: enqueue_render(pk))
    return bool(updated)


def require_ready(document: Document | None, message: str = "") -> None:
    """Refuse, in German, to read a generated document that is not there yet."""
    if document is not None and not document.is_ready:
        raise DocumentNotReady(message or (_("Das Dokument „%(title)s“ wird noch erstellt. Bitte versuchen Sie es in "
                                             "einigen Augenblicken erneut.") if document.is_pending else _(
            "Das Dokument „%(title)s“ konnte nicht erstellt werden; die Einrichtung wurde informiert."))
            % {"title": document.title})


def document_mark_opened(*, document: Document) -> None:
    """Its recipient opened it for the first time: "zugestellt" becomes "gelesen" (once, race-free)."""
    if document.first_opened_at is None:
        Document.objects.filter(pk=document.pk, first_opened_at__isnull=True).update(first_opened_at=timezone.now())


# --- rendering ------------------------------------------------------------------------------

# PDF/A-3 level A: archivable (fonts embedded, colours with an output intent, XMP metadata) and
# tagged (/MarkInfo, /StructTreeRoot, /Lang and the title from the HTML), so screen readers can read it.
PDF_VARIANT = "pdf/a-3a"


def render_pdf(template: str, context: dict) -> bytes:
    """The template as tagged PDF/A. Everything it shows is in the HTML itself (the logo as a data:
    URI), so nothing depends on the host's file system or settings such as BASE_DIR. The active
    language becomes the document's /Lang (base.html)."""
    return render_pdf_locating(template, context)[0]


def render_pdf_locating(template: str, context: dict, element_id: str = "") -> tuple[bytes, tuple | None]:
    """render_pdf, and where the element `element_id` landed: (page index, (x1, y1, x2, y2) in PDF
    points from the bottom left), or None. A visible signature field is laid over that box."""
    from weasyprint import HTML

    document = HTML(string=render_to_string(template, context)).render(pdf_variant=PDF_VARIANT)
    location = _locate(document, element_id) if element_id else None
    return document.write_pdf(pdf_variant=PDF_VARIANT), location


def _locate(document, element_id: str):
    points = 0.75  # CSS px per PDF point
    for index, page in enumerate(document.pages):
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            if element is None or element.get("id") != element_id or box.element_tag is None:
                continue
            x, y, width, height = box.border_box_x(), box.border_box_y(), box.border_width(), box.border_height()
            return index, tuple(round(value * points, 2) for value in (
                x, page.height - y - height, x + width, page.height - y))
    return None


# The letterhead logo: a rendition (small, re-encoded by Wagtail), read through the storage API so
# it also works when images live on S3 or another remote storage.
LOGO_RENDITION = "max-800x300|format-png"


def logo_data_uri(institution) -> str:
    """The institution's logo as a data: URI for the PDFs, or "" without one (or if it cannot be read)."""
    if not institution.logo_id:
        return ""
    try:
        rendition = institution.logo.get_rendition(LOGO_RENDITION)
        with rendition.file.open("rb") as handle:
            data = handle.read()
    except Exception:  # noqa: BLE001 - a missing or broken logo must not stop a contract
        logger.warning("Logo of institution %s could not be read for a PDF", institution.pk, exc_info=True)
        return ""
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _letterhead(enrollment: Enrollment) -> dict:
    institution = enrollment.institution
    # "logo_path" is the name the PDF templates use; it holds the data: URI.
    return {"institution": institution, "operator": institution.operator, "logo_path": logo_data_uri(institution)}


def application_context(enrollment: Enrollment, *, printed_on=None, snapshot: dict | None = None) -> dict:
    """The context of the Anmeldung (and the Angebot); `snapshot` (application_spec): the data as
    submitted, printed instead of the current rows."""
    offer = enrollment.offer.specific
    labels = {**dict(ApplicationSection.choices), **QUESTION_SECTION_LABELS}
    sections = []
    if snapshot is not None:
        data = snapshot["data"]
        stored = dict(data.get("sections") or {})
        if data.get("questions"):
            enrollment.questions = data["questions"]  # in memory only: the version submitted
        if enrollment.participant is not None and data.get("participant"):
            for name, value in data["participant"].items():
                setattr(enrollment.participant, name, date.fromisoformat(value) if name == "date_of_birth"
                        and value else value)
    else:
        stored = {s.section: s.data for s in enrollment.sections.all()}
    for code in enrollment.required_sections():
        sections.append({"code": code, "label": labels.get(code, code),
                         "rows": section_rows(code, stored.get(code) or {},
                                              questions=enrollment.question_definitions)})
    guardians = list(enrollment.participant.guardianships.select_related("guardian")) if enrollment.participant else []
    return {
        **_letterhead(enrollment), "enrollment": enrollment, "offer": offer, "participant": enrollment.participant,
        "guardians": guardians, "sections": sections,
        # An income-based fee is printed once the income is declared, never the maximum rate beside "0,00 €".
        "fee": enrollment.computed_fee() if enrollment.fee_is_known() else None,
        "printed_on": printed_on or timezone.localdate(),
        "fingerprint": snapshot["fingerprint"] if snapshot is not None else enrollment.data_fingerprint(),
    }


def section_rows(code: str, data: dict, *, questions: list[dict] | None = None) -> list[tuple[str, str]]:
    """The entered values of a section as (label, value) rows for print and admin; the own questions
    with the labels of the version the enrollment keeps (`questions`)."""
    if code in QUESTION_SECTIONS:
        return question_rows(questions_of_section(questions or [], code), data.get("answers") or {})
    return rows_for_section(code, data)


def render_application_pdf(enrollment: Enrollment, *, printed_on=None, snapshot: dict | None = None) -> bytes:
    with translation.override(_holder_language(enrollment)):
        return render_pdf("workpro_plugin/pdf/application.html",
                          application_context(enrollment, printed_on=printed_on, snapshot=snapshot))


def offer_signatory(enrollment: Enrollment, by=None) -> signatures.Signatory:
    """Who issues the Angebot: `by`, else the Leitung who made the offer (the enrollment log)."""
    if by is None:
        entry = (enrollment.log_entries.filter(action="workpro.enrollment.offer_made").select_related("by")
                 .order_by("-at").first())
        by = entry.by if entry else None
    return signatory(enrollment.institution, by)


def signatory(institution, user) -> signatures.Signatory:
    name = (user.get_full_name() or user.email or user.get_username()) if user is not None else ""
    role = _("Einrichtungsleitung") if user is not None and institution.is_lead(user) else _("Mitarbeiter")
    return signatures.Signatory(name=name or institution.contact_person or _("Einrichtungsleitung"), role=str(role),
                                location=institution.city or institution.name)


def contract_terms_rows(enrollment: Enrollment) -> list[tuple[str, str]]:
    """(heading, html) of the contract terms printed with this enrollment: the version sent with its
    Angebot once there is one (later edits of the institution's or the offer's terms do not reach it)."""
    terms = enrollment_terms(enrollment)
    return [(str(label), terms[key]) for key, label in TERM_FIELDS if (terms.get(key) or "").strip()]


def render_contract_offer_pdf(enrollment: Enrollment, *, by=None, sign: bool = True, preview: bool = False,
                              snapshot: dict | None = None) -> bytes:
    """The Angebot, signed by the institution in the name of the Leitung who issues it (when the
    institution has a signing key; otherwise unsigned, and the PDF and the UI say so)."""
    who = offer_signatory(enrollment, by)
    will_sign = sign and not preview and signatures.can_sign(enrollment.institution)
    with translation.override(_holder_language(enrollment)):
        context = application_context(enrollment, snapshot=snapshot)
        signed_on = timezone.localdate(enrollment.offered_at) if enrollment.offered_at else context["printed_on"]
        context.update(is_contract_offer=True, signatory=who, signed_on=signed_on, digitally_signed=will_sign,
                       preview=preview, terms=contract_terms_rows(enrollment))
        content, box = render_pdf_locating("workpro_plugin/pdf/contract_offer.html", context, "signature-institution")
        if not will_sign:
            return content
        reason = _("Angebot %(number)s") % {"number": enrollment.contract_number}
        return signatures.sign_pdf(content, institution=enrollment.institution, signatory=who, reason=reason,
                                   field_name=signatures.FIELD_OFFER, box=box)


def render_ratified_pdf(enrollment: Enrollment, *, by, signed_id: int | None = None, ratified_at=None) -> bytes:
    """The signed copy as deposited, countersigned by the Leitung with the institution's key.

    A plain scan gets a ratification page (who, when, the SHA-256 of the scan) before the
    countersignature; a copy that carries digital signatures is left byte for byte as it is and the
    countersignature is appended as an incremental update, so the participant's signature stays valid."""

    if signed_id is not None:  # the copy countersigned at the Ratifizierung (ratified_spec)
        signed = enrollment.documents.get(pk=signed_id)
    else:
        signed = enrollment.documents.filter(kind=Document.Kind.SIGNED_CONTRACT, superseded=False,
                                             state=Document.State.READY).latest("deposited_at")
    with signed.file.open("rb") as handle:
        original = handle.read()
    institution = enrollment.institution
    who = signatory(institution, by)
    will_sign = signatures.can_sign(institution)
    language = _holder_language(enrollment)
    with translation.override(language):
        title = _("Vertrag %(number)s (ratifiziert)") % {"number": enrollment.contract_number}
        reason = _("Ratifizierung (Gegenzeichnung) des Vertrags %(number)s") % {"number": enrollment.contract_number}
        if signatures.has_signatures(original):
            box = None  # a signed copy gets no visible field: its pages are the participant's
            merged = original
        else:
            page, box = render_pdf_locating("workpro_plugin/pdf/countersignature.html", {
                **_letterhead(enrollment), "enrollment": enrollment, "signed": signed, "by": by, "signatory": who,
                "ratified_at": timezone.localtime(ratified_at), "original_sha256": hashlib.sha256(original).hexdigest(),
                "digitally_signed": will_sign, "terms": contract_terms_rows(enrollment),
            }, "signature-institution")
            writer = PdfWriter()
            scan = PdfReader(io.BytesIO(original), strict=False)
            writer.append(scan)
            writer.append(PdfReader(io.BytesIO(page)))
            merged = _finish(writer, title=title, lang=language)
            if box is not None:  # the ratification page follows the scan's pages
                box = (len(scan.pages) + box[0], box[1])
        if not will_sign:
            return merged
        return signatures.sign_pdf(merged, institution=institution, signatory=who, reason=reason,
                                   field_name=signatures.FIELD_COUNTERSIGNATURE, box=box)


def render_change_notice_pdf(enrollment: Enrollment, *, period, previous, issued_on: date | None = None,
                             billing_period: str | None = None) -> bytes:
    """Änderungsmitteilung: the contract's fee changes from a date on, and why. `issued_on` and
    `billing_period` (a FeeSchedule.BillingPeriod code) as of its issue; today's and the offer's by default."""
    code = _billing_period_code(enrollment) if billing_period is None else billing_period
    with translation.override(_holder_language(enrollment)):
        return render_pdf("workpro_plugin/pdf/change_notice.html", {
            **_letterhead(enrollment), "enrollment": enrollment, "participant": enrollment.participant,
            "period": period, "previous": previous, "issued_on": issued_on or timezone.localdate(),
            "billing_period": str(dict(FeeSchedule.BillingPeriod.choices).get(code, code)) if code else "",
        })


def _billing_period_code(enrollment: Enrollment) -> str:
    schedule = enrollment.offer.specific.fee_schedule
    return getattr(schedule, "billing_period", "") or ""


def render_addon_confirmation_pdf(booking: AddonBooking) -> bytes:
    """Buchungsbestätigung of a confirmed add-on booking."""
    enrollment = booking.enrollment
    with translation.override(_holder_language(enrollment)):
        return render_pdf("workpro_plugin/pdf/addon_confirmation.html", {
            **_letterhead(enrollment), "booking": booking, "enrollment": enrollment,
            "participant": enrollment.participant, "confirmed_at": timezone.localtime(booking.decided_at),
            "by": booking.decided_by,
        })


def _holder_language(enrollment: Enrollment) -> str:
    person = getattr(enrollment.account_holder, "workpro_person", None) if enrollment.account_holder_id else None
    return person.language if person else settings.LANGUAGE_CODE
