"""Mail and SMS through the outbox: queue in the transaction, deliver after commit.

Templates are looked up by event code: `workpro_plugin/email/<code>_subject.txt`,
`<code>_body.txt`, `<code>_body.html` and `workpro_plugin/sms/<code>.txt`, rendered
in the recipient's language.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django_q.tasks import async_task
from icalendar import Calendar, Event

from .. import conf
from ..lib import mail_texts
from ..lib.bulk import insert_rows
from ..lib.messages import event_name, event_values, render_event
from ..models import ISSUED_PASSWORD_VALIDITY, Document, Institution, OutboxMessage, Person
from ..selectors.texts import mail_text
from ..sms import SmsMessage, get_backend

logger = logging.getLogger(__name__)

# Seconds before retry n (1-based); the last value repeats.
BACKOFF = [60, 5 * 60, 15 * 60, 60 * 60, 3 * 60 * 60]
STALE_CLAIM = timedelta(minutes=10)
# Context values stored as ISO dates and shown with the `date` filter.
DATE_KEYS = ("birthday", "access_ends_on")
# A secret in a row (an issued password, a confirmation link) is never kept longer than it is valid:
# a row not sent by then is not sent at all, it is marked failed and loses the secret.
SECRET_VALIDITY = ISSUED_PASSWORD_VALIDITY
SECRET_EXPIRED_ERROR = "expired: not sent within the validity of its secret; secret removed"


def message_id(message: OutboxMessage) -> str:
    """The Message-ID of an outbox mail: the same on every attempt (a retry after a worker died
    mid-send repeats it, so mail clients drop the duplicate), different for every row.

    Derived from the row's id and creation time (a database restored or reset later never gives
    a new mail an old ID), at WORKPRO_MESSAGE_ID_DOMAIN or the domain of DEFAULT_FROM_EMAIL.
    """
    domain = conf.get("MESSAGE_ID_DOMAIN") or \
        parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "workpro.localhost"
    stamp = f"{message.created_at.astimezone(dt_timezone.utc):%Y%m%d%H%M%S%f}" if message.created_at else "0"
    return f"<workpro.outbox.{message.pk}.{stamp}@{domain.strip().strip('<>') or 'workpro.localhost'}>"


def _enqueue_delivery(message_id: int) -> None:
    async_task("workpro_plugin.tasks.deliver_outbox_message_task", message_id,
               task_name=f"outbox-{message_id}-{timezone.now().timestamp():.0f}")


def _queue(
    *,
    channel: str,
    to: str,
    template: str,
    context: dict | None = None,
    language: str | None = None,
    institution: Institution | None = None,
    person: Person | None = None,
    secret_keys: tuple[str, ...] = (),
    wait_for_documents: bool = False,
) -> OutboxMessage:
    """`wait_for_documents`: the mail attaches documents still being rendered; it waits (state "waiting")
    until the render task has stored the last of them (release_waiting), and is sent only then."""
    message = OutboxMessage.objects.create(
        channel=channel, recipient=to, template=template, context=context or {},
        language=language or settings.LANGUAGE_CODE, institution=institution, person=person,
        secret_keys=list(secret_keys),
        state=OutboxMessage.State.WAITING if wait_for_documents else OutboxMessage.State.PENDING,
    )
    if not wait_for_documents:
        transaction.on_commit(lambda: _enqueue_delivery(message.pk))
    return message


def release_waiting(document_id: int) -> list[int]:
    """A rendered document is ready: the mails waiting for it (and for no other unfinished document)
    become pending and are sent after commit. Returns their ids."""
    released = []
    for message in OutboxMessage.objects.filter(state=OutboxMessage.State.WAITING).only("pk", "context"):
        ids = message.context.get("document_ids") or []
        if document_id not in ids:
            continue
        if Document.objects.filter(pk__in=ids).exclude(state=Document.State.READY).exists():
            continue
        if OutboxMessage.objects.filter(pk=message.pk, state=OutboxMessage.State.WAITING).update(
                state=OutboxMessage.State.PENDING, next_attempt_at=timezone.now()):
            released.append(message.pk)
    if released:
        transaction.on_commit(lambda: [_enqueue_delivery(pk) for pk in released])
    return released


def queue_mail(**kwargs) -> OutboxMessage:
    """Write a mail row now; it is sent once the surrounding transaction commits (see _queue)."""
    return _queue(channel=OutboxMessage.Channel.MAIL, **kwargs)


def queue_mails(rows: list[dict]) -> list[OutboxMessage]:
    """Many mail rows in one insert (a message to a group); each is sent after commit like queue_mail's.

    A row names its institution and person as objects or, when read as values, as `institution_id`/`person_id`.
    """
    messages = [OutboxMessage(
        channel=OutboxMessage.Channel.MAIL, recipient=row["to"], template=row["template"],
        context=row.get("context") or {}, language=row.get("language") or settings.LANGUAGE_CODE,
        institution_id=row["institution_id"] if "institution_id" in row else getattr(row.get("institution"), "pk", None),
        person_id=row["person_id"] if "person_id" in row else getattr(row.get("person"), "pk", None),
        secret_keys=[]) for row in rows]
    insert_rows(OutboxMessage, messages, set_ids=True)  # COPY on PostgreSQL: a round mails 50,000 families
    ids = [message.pk for message in messages]
    transaction.on_commit(lambda: [_enqueue_delivery(pk) for pk in ids])
    return messages


def queue_sms(**kwargs) -> OutboxMessage:
    """Write an SMS row now (number already normalised to E.164); sent after commit (see _queue)."""
    return _queue(channel=OutboxMessage.Channel.SMS, **kwargs)


def _own_text(message: OutboxMessage, code: str, override: dict | None) -> dict | None:
    """The institution's text for an event in the message's language (`override`: unsaved, for a preview)."""
    if override is not None:
        return override
    row = mail_text(institution_id=message.institution_id, event=code, language=message.language)
    return None if row is None else {"subject": row.subject, "body": row.body, "sms": row.sms}


def _fill(text: str, event, values: dict, *, message: OutboxMessage) -> str | None:
    """An institution's text filled in, or None (then the plugin's text is used): a text that does not
    pass the save-time check any more is never sent half-rendered."""
    if not (text or "").strip():
        return None
    try:
        mail_texts.check(text, event.placeholders, required=event.required)
        return mail_texts.render(text, values)
    except Exception:  # noqa: BLE001 - the default text is always there to fall back on
        logger.warning("outbox %s: own text of %s not usable, default text sent", message.pk, event.code)
        return None


def _apply_own_mail_text(message: OutboxMessage, context: dict, override: dict | None) -> None:
    code = event_name(context)
    event = mail_texts.EVENTS.get(code)
    own = _own_text(message, code, override) if event is not None else None
    if not own:
        return
    values = mail_texts.mail_values({**event_values(context), "institution_name":
                                     message.institution.name if message.institution else ""})
    if override is not None:  # a preview marks what an enrollment does not have yet
        values = {name: value or f"[{name}]" for name, value in values.items()}
    subject = _fill(own.get("subject", ""), event, values, message=message)
    if subject is not None:
        context["subject"] = subject
    body = _fill(own.get("body", ""), event, values, message=message)
    if body is not None:
        context["paragraphs"] = mail_texts.paragraphs(body)


def _render_context(message: OutboxMessage, override: dict | None = None) -> dict:
    context = dict(message.context)
    context["institution"] = message.institution
    context["site_url"] = message.institution.site.root_url if message.institution else settings.WAGTAILADMIN_BASE_URL
    for key in DATE_KEYS:
        if isinstance(context.get(key), str) and context[key]:
            context[key] = date.fromisoformat(context[key])
    if message.template == "enrollment_event":
        context["portal_url"] = context["site_url"] + reverse("workpro:account")
        context.update(render_event(context))
        _apply_own_mail_text(message, context, override)
    return context


def _attachments(message: OutboxMessage) -> list[tuple[str, bytes, str]]:
    """Files that go with a mail: deposited documents ("zur Ablage"), an invitation as .ics."""

    files = []
    for document in Document.objects.filter(pk__in=message.context.get("document_ids") or [],
                                            state=Document.State.READY):
        with document.file.open("rb") as handle:
            files.append((document.filename, handle.read(), document.content_type))
    if message.template == "enrollment_event" and message.context.get("event") == "invited":
        files.append(("einladung.ics", interview_ics(message), "text/calendar"))
    return files


def interview_ics(message: OutboxMessage) -> bytes:
    context = message.context
    start = datetime.fromisoformat(context["interview_at"])
    calendar = Calendar()
    calendar.add("prodid", "-//WorkPro//Einladung//DE")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"workpro-interview-{context['enrollment_id']}-{start:%Y%m%d%H%M}@workpro")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(hours=1))
    event.add("summary", f"Gespräch: {context['offer']}")
    event.add("location", context.get("interview_place", ""))
    if message.institution:
        event.add("organizer", f"mailto:{message.institution.email or 'noreply@workpro.localhost'}")
    if context.get("interview_note"):
        event.add("description", context["interview_note"])
    calendar.add_component(event)
    return calendar.to_ical()


def render_mail_parts(message: OutboxMessage, override: dict | None = None) -> tuple[str, str, str]:
    """Subject, text and HTML body of an outbox mail in the recipient's language, with the institution's own
    text of the event where it has one (`override`: an unsaved text, for the editor's preview)."""
    with translation.override(message.language):  # the event texts are rendered in _render_context too
        context = _render_context(message, override)
        prefix = f"workpro_plugin/email/{message.template}"
        subject = " ".join(render_to_string(f"{prefix}_subject.txt", context).split())
        text = render_to_string(f"{prefix}_body.txt", context)
        html = render_to_string(f"{prefix}_body.html", context)
    return subject, text, html


def render_mail(message: OutboxMessage) -> EmailMultiAlternatives:
    subject, text, html = render_mail_parts(message)
    from_name, from_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    if message.institution:
        from_name = _one_line(message.institution.name)
    reply_to = _single_address(message.institution.email) if message.institution else ""
    mail = EmailMultiAlternatives(
        subject=subject, body=text, from_email=formataddr((from_name, from_address)), to=[message.recipient],
        reply_to=[reply_to] if reply_to else None, headers={"Message-ID": message_id(message)},
    )
    mail.attach_alternative(html, "text/html")
    for filename, content, mimetype in _attachments(message):
        mail.attach(filename, content, mimetype)
    return mail


def _one_line(value: str) -> str:
    """Header text on one line: a line break in an institution's name must neither add a header
    nor make the mail unsendable (Django refuses it with BadHeaderError)."""
    return " ".join(str(value).split())


def _single_address(value: str) -> str:
    """One valid address, or "" (then the mail goes without Reply-To rather than not at all)."""

    value = (value or "").strip()
    try:
        validate_email(value)
    except ValidationError:
        return ""
    return value


def render_sms_text(message: OutboxMessage, override: dict | None = None) -> str:
    """An SMS in the recipient's language: the institution's own text where it has one, else the plugin's."""
    with translation.override(message.language):
        context = _render_context(message)
        code = mail_texts.SMS_TEMPLATES.get(message.template)
        own = _own_text(message, code, override) if code else None
        if own:
            values = mail_texts.sms_values({**context, "institution_name":
                                            message.institution.name if message.institution else ""})
            body = _fill(own.get("sms", ""), mail_texts.EVENTS[code], values, message=message)
            if body is not None:
                return " ".join(body.split())
        return render_to_string(f"workpro_plugin/sms/{message.template}.txt", context).strip()


def render_sms(message: OutboxMessage) -> SmsMessage:
    return SmsMessage(to=message.recipient, body=render_sms_text(message))


def deliver(message_id: int) -> bool:
    """Send one outbox row at most once; returns True when it was sent now.

    The row is claimed with a conditional UPDATE, so two workers (or a task and the
    sweep) cannot both send it. Failures schedule a retry with backoff until the
    attempts are used up.
    """
    now = timezone.now()
    # A first attempt is always due (no clock-skew trap between web and worker machines).
    claimed = OutboxMessage.objects.filter(
        Q(attempts=0) | Q(next_attempt_at__lte=now), state=OutboxMessage.State.PENDING, pk=message_id
    ).update(state=OutboxMessage.State.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return False
    message = OutboxMessage.objects.select_related("institution__site").get(pk=message_id)
    if message.secret_keys and message.created_at <= now - SECRET_VALIDITY:
        _drop_secrets(OutboxMessage.objects.filter(pk=message_id), error=SECRET_EXPIRED_ERROR)
        logger.warning("outbox %s not sent: its secret expired", message_id)
        return False
    try:
        if message.channel == OutboxMessage.Channel.MAIL:
            mail = render_mail(message)
            mail.send(fail_silently=False)
            subject = mail.subject
        else:
            get_backend().send_messages([render_sms(message)])
            subject = ""
    except Exception as exc:  # noqa: BLE001 - any transport error means: retry later
        failed = message.attempts >= message.max_attempts
        delay = BACKOFF[min(message.attempts, len(BACKOFF)) - 1]
        error = f"{type(exc).__name__}: {exc}"[:2000]
        OutboxMessage.objects.filter(pk=message_id).update(
            state=OutboxMessage.State.FAILED if failed else OutboxMessage.State.PENDING,
            last_error=error,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
            claimed_at=None,
        )
        if failed and message.secret_keys:  # never sent now: the secret has no use left
            _drop_secrets(OutboxMessage.objects.filter(pk=message_id), error=error)
        logger.warning("outbox %s attempt %s failed: %s", message_id, message.attempts, exc)
        return False
    context = {k: v for k, v in message.context.items() if k not in message.secret_keys}
    OutboxMessage.objects.filter(pk=message_id).update(
        state=OutboxMessage.State.SENT, sent_at=timezone.now(), last_error="", context=context,
        subject=subject[:255], claimed_at=None,
    )
    return True


def _drop_secrets(rows, *, error: str) -> int:
    """Mark unsent rows failed and remove their secret context values (the row stays as a record
    of what was sent to whom; it is never sent again: only pending rows are delivered)."""
    count = 0
    for row in rows.exclude(state=OutboxMessage.State.SENT).exclude(secret_keys=[]):
        context = {k: v for k, v in row.context.items() if k not in row.secret_keys}
        count += OutboxMessage.objects.filter(pk=row.pk).exclude(state=OutboxMessage.State.SENT).update(
            state=OutboxMessage.State.FAILED, context=context, secret_keys=[], last_error=error[:2000],
            claimed_at=None)
    return count


def expire_secrets(*, now=None) -> int:
    """Rows with a secret that were not sent within its validity: failed, secret removed.
    Failed rows lose their secret at once (see deliver); this catches rows still waiting for a
    retry and rows whose worker died. Returns the number of rows changed."""
    now = now or timezone.now()
    # A row being sent right now is left to its worker (a failure puts it back to pending, then it
    # is caught here); rows of dead workers were put back to pending by the sweep before this.
    rows = OutboxMessage.objects.filter(state__in=[OutboxMessage.State.PENDING, OutboxMessage.State.FAILED],
                                        created_at__lte=now - SECRET_VALIDITY)
    return _drop_secrets(rows, error=SECRET_EXPIRED_ERROR)


def purge_sent(*, now=None) -> int:
    """Deletes sent rows older than WORKPRO_OUTBOX_RETENTION_DAYS (daily schedule workpro-outbox-purge):
    a delivered mail needs no row any more, and the row holds the recipient and what was sent.
    Pending and failed rows stay (the sweep and the superusers still need them). Returns rows deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=conf.get("OUTBOX_RETENTION_DAYS"))
    deleted, _per_model = OutboxMessage.objects.filter(
        state=OutboxMessage.State.SENT, sent_at__lt=cutoff).delete()
    return deleted


def sweep(*, now=None) -> int:
    """Re-queue due rows; release rows whose worker died while sending; remove secrets past their
    validity. Returns rows queued."""
    now = now or timezone.now()
    OutboxMessage.objects.filter(state=OutboxMessage.State.SENDING, claimed_at__lt=now - STALE_CLAIM).update(
        state=OutboxMessage.State.PENDING, claimed_at=None
    )
    expire_secrets(now=now)
    due = list(
        OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at").values_list("pk", flat=True)[:500]
    )
    for message_id in due:
        _enqueue_delivery(message_id)
    return len(due)
