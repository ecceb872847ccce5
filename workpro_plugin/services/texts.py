"""Writes of an institution's own texts: mail/SMS texts per event and language, contract terms.

A text is checked when it is saved (lib.mail_texts.check): what is stored can always be sent.
A text equal to the plugin's default is stored as empty, so a later update of the default reaches
the institution; a language with no own text left is deleted (the default applies again).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from wagtail.admin.rich_text.converters.editor_html import EditorHTMLConverter

from ..lib import mail_texts
from ..lib.choices import AuditAction
from ..models import TERM_FIELDS, ContractTerms, Enrollment, MailText, OutboxMessage
from ..models.texts import TERM_FEATURES
from ..selectors.texts import current_terms
from . import audit
from .enrollments import event_mail_rows
from .errors import ServiceError
from .notify import render_mail_parts, render_sms_text

MAIL_FIELDS, SMS_FIELDS = ("subject", "body"), ("sms",)


class TextError(ServiceError):
    pass


def _norm(text: str) -> str:
    return "\n\n".join(mail_texts.paragraphs(text or "")) if "\n" in (text or "") else " ".join((text or "").split())


def fields_of(event: mail_texts.TextEvent) -> tuple[str, ...]:
    return SMS_FIELDS if event.channel == mail_texts.SMS else MAIL_FIELDS


def check_texts(event: mail_texts.TextEvent, texts: dict[str, dict[str, str]]) -> None:
    """Refuse the first text that is not plain text with the event's placeholders (field: "<field>_<lang>")."""
    for language, _label in mail_texts.LANGUAGES:
        for field in fields_of(event):
            value = (texts.get(language) or {}).get(field, "") or ""
            if not value.strip():
                continue
            try:
                mail_texts.check(value, event.placeholders, required=event.required)
            except mail_texts.PlaceholderError as exc:
                raise TextError(str(exc), field=f"{field}_{language}") from exc


def mail_text_save(*, institution, event: str, texts: dict[str, dict[str, str]], by) -> list[str]:
    """Store the institution's texts of an event (per language); returns the changed "<field>_<lang>"."""
    spec = mail_texts.EVENTS.get(event)
    if spec is None:
        raise TextError(_("Diesen Anlass gibt es nicht."))
    check_texts(spec, texts)
    changed = []
    with transaction.atomic():
        for language, _label in mail_texts.LANGUAGES:
            with translation.override(language):
                defaults = mail_texts.default_texts(spec)
            row = (MailText.objects.select_for_update()
                   .filter(institution=institution, event=event, language=language).first())
            values = {}
            for field in fields_of(spec):
                value = ((texts.get(language) or {}).get(field, "") or "").strip().replace("\r\n", "\n")
                values[field] = "" if _norm(value) == _norm(defaults[field]) else value
                if values[field] != (getattr(row, field, "") if row else ""):
                    changed.append(f"{field}_{language}")
            if not any(values.values()):
                if row is not None:
                    row.delete()
                continue
            if row is None:
                row = MailText(institution=institution, event=event, language=language)
            for field, value in values.items():
                setattr(row, field, value)
            row.updated_by = by
            row.save()
        if changed:
            audit.record(AuditAction.TEXTS_CHANGED, actor=by, obj=institution,
                         detail={"kind": "mail_text", "event": event, "fields": changed})
    return changed


def clean_rich_text(html: str) -> str:
    """Rich text as the editor can make it: Wagtail's whitelister keeps only the elements and attributes
    of the term features (the PDF renderer must never see e.g. an <img> with a file: URL or a script)."""
    if not (html or "").strip():
        return ""
    return EditorHTMLConverter(features=TERM_FEATURES).whitelister.clean(html)


def contract_terms_save(*, institution, by, **texts: str) -> list[str]:
    """Store the institution's contract terms (rich text); returns the changed fields."""
    texts = {key: clean_rich_text(value) for key, value in texts.items()}
    with transaction.atomic():
        terms, _created = ContractTerms.objects.select_for_update().get_or_create(institution=institution)
        changed = [key for key, _label in TERM_FIELDS if key in texts and (texts[key] or "") != getattr(terms, key)]
        for key in changed:
            setattr(terms, key, texts[key] or "")
        if changed:
            terms.updated_by = by
            terms.save()
            audit.record(AuditAction.TEXTS_CHANGED, actor=by, obj=institution,
                         detail={"kind": "contract_terms", "fields": changed})
    return changed


def terms_snapshot(enrollment: Enrollment) -> dict[str, str]:
    """The terms to send with an Angebot now (stored with the enrollment by enrollment_make_offer)."""
    return current_terms(enrollment.offer.specific, enrollment.institution)


def preview(*, institution, event: str, language: str, texts: dict[str, str], enrollment: Enrollment | None,
            by=None) -> dict[str, str]:
    """How the (unsaved) texts of an event look for a real enrollment of the institution, nothing sent."""
    spec = mail_texts.EVENTS[event]
    if spec.channel == mail_texts.SMS:
        email = ""
        if enrollment is not None and enrollment.account_holder_id:
            email = enrollment.account_holder.email
        message = OutboxMessage(channel=OutboxMessage.Channel.SMS, template="password_issued", language=language,
                                institution=institution, context={"password": "Xy7-Beispiel", "email": email})
        return {"sms": render_sms_text(message, override=texts)}
    base, status = (event.split("_", 1) if event.startswith("reopened_") else (event, None))
    if enrollment is not None:
        extra = {"status": status} if status else {}
        context = {**event_mail_rows_context(enrollment, base), **extra}
    else:
        context = {"event": base, "status": status or "", "offer": "", "participant": "", "enrollment_id": 0}
    message = OutboxMessage(channel=OutboxMessage.Channel.MAIL, template="enrollment_event", language=language,
                            institution=institution, context=context)
    subject, text, _html = render_mail_parts(message, override=texts)
    return {"subject": subject, "text": text}


def event_mail_rows_context(enrollment: Enrollment, event: str) -> dict:
    """The context an event mail of this enrollment has (without queueing anything)."""
    rows = event_mail_rows(enrollment, event)
    if rows:
        return rows[0]["context"]
    participant = enrollment.participant
    return {"event": event, "offer": enrollment.offer.title, "participant": participant.full_name if participant else "",
            "participant_first_name": participant.first_name if participant else "",
            "contract_number": enrollment.contract_number or "", "status": enrollment.status,
            "enrollment_id": enrollment.pk}
