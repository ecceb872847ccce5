"""Reads of an institution's own texts: mail/SMS overrides, contract terms, and who may edit them."""

from __future__ import annotations

from ..models import TERM_FIELDS, ContractTerms, Enrollment, MailText
from .institutions import staff_institutions_led_or_with


def text_institutions(user):
    """The institutions whose texts `user` edits (Leitung or the "edit_texts" permission), as
    access.may_edit_texts decides for each: a queryset, so that the admin menu asks whether there is one
    without reading a Träger's 400 institutions on every page."""
    return staff_institutions_led_or_with(user, "workpro_plugin.edit_texts")


def mail_text(*, institution_id: int | None, event: str, language: str) -> MailText | None:
    if institution_id is None:
        return None
    return MailText.objects.filter(institution_id=institution_id, event=event, language=language).first()


def overridden_events(institutions) -> dict[int, dict[str, set[str]]]:
    """institution id -> event -> the languages with an own text, for all `institutions` in one query."""
    found: dict[int, dict[str, set[str]]] = {}
    for institution_id, event, language in MailText.objects.filter(institution__in=institutions).values_list(
            "institution_id", "event", "language"):
        found.setdefault(institution_id, {}).setdefault(event, set()).add(language)
    return found


def institution_terms(institution) -> ContractTerms | None:
    return ContractTerms.objects.filter(institution=institution).first()


def current_terms(offer, institution) -> dict[str, str]:
    """The terms that apply to a new contract: the offer's text where it has one, else the institution's."""
    own = institution_terms(institution)
    terms = {}
    for key, _label in TERM_FIELDS:
        offer_text = getattr(offer, f"terms_{key}", "") or ""
        terms[key] = offer_text if offer_text.strip() else (getattr(own, key, "") or "")
    return terms


def enrollment_terms(enrollment: Enrollment) -> dict[str, str]:
    """The terms printed for an enrollment: those sent with its Angebot, or (before one was sent) the current."""
    if enrollment.contract_terms:
        return enrollment.contract_terms
    return current_terms(enrollment.offer.specific, enrollment.institution)


def preview_enrollments(institution):
    """Enrollments of the institution an editor may pick for a preview (the newest first)."""
    return (Enrollment.objects.filter(institution=institution).exclude(participant=None)
            .select_related("participant", "offer").order_by("-pk")[:30])
