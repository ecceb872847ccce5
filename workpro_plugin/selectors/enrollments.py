"""Enrollments a user may see: staff lists, the portal, deadlines."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.db.models import Prefetch, Q
from django.utils import timezone
from wagtail.fields import StreamField

from ..access import active_guardian_q
from ..lib.questions import QUESTION_SECTIONS
from ..models import (
    OPEN_STATUSES,
    EmergencyContact,
    Enrollment,
    EnrollmentSection,
    EnrollmentStatus,
    OfferPage,
)
from .institutions import staff_institutions


def staff_enrollments(user):
    """Enrollments in the user's institutions, with what list and export show."""
    return Enrollment.objects.filter(institution__in=staff_institutions(user)).select_related(
        "participant", "offer", "institution", "account_holder")


def with_question_sections(queryset):
    """`queryset` with the sections that hold the answers to the offer's own questions, for all rows in one
    query: `enrollment.sections.all()` then holds only those (an export's column reads them per row)."""
    return queryset.prefetch_related(
        Prefetch("sections", EnrollmentSection.objects.filter(section__in=list(QUESTION_SECTIONS))))


def overdue_q(today):
    """Enrollments with a passed deadline: an unsigned offer, or requested proof of income not received."""
    return (Q(status=EnrollmentStatus.ANGEBOT, signed_copy_deadline__lt=today)
            | Q(proof_deadline__lt=today, proof_received_at__isnull=True, status__in=OPEN_STATUSES))


def today_bounds():
    """Start and end of the current local day, for "today's interviews"."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def portal_enrollments(user, today=None):
    """Every enrollment `user` may see in the portal, whatever the role."""
    if user is None or not user.is_authenticated:
        return Enrollment.objects.none()
    today = today or timezone.localdate()
    visible = Q(account_holder=user) | Q(participant__user=user) | active_guardian_q(user, today)
    ids = Enrollment.objects.filter(visible).values("pk")
    return Enrollment.objects.filter(pk__in=ids)


def _offer_text_columns() -> list[str]:
    """The offer page's long text columns (StreamField body, teaser, search description ...): a row of a
    list shows the title, never these."""
    return [f"offer__{f.name}" for f in OfferPage._meta.concrete_fields
            if isinstance(f, (models.TextField, models.JSONField, StreamField))]


# What a row of Mein Konto reads of its offer, institution and participant; the other columns stay in the
# database (an offer page row alone has some 50, a StreamField body among them).
_ROW_COLUMNS = {
    "offer": {"id", "page_ptr", "title", "content_type", "locale"},
    "institution": {"id", "name"},
    "participant": {"id", "first_name", "last_name", "customer_number", "date_of_birth", "user"},
}


def _row_deferred_columns() -> list[str]:
    return [f"{relation}__{field.name}" for relation, keep in _ROW_COLUMNS.items()
            for field in Enrollment._meta.get_field(relation).related_model._meta.concrete_fields
            if field.name not in keep]


def portal_contracts(user):
    """Alle Verträge of Mein Konto: what `user` sees as account holder or guardian (not as the participant),
    newest first, with what a row shows and its Notfalldaten (prefetched for the rows of a page)."""
    return (portal_enrollments(user).filter(Q(account_holder=user) | ~Q(participant__user=user))
            .select_related("offer", "institution", "participant").defer(*_row_deferred_columns())
            .prefetch_related(Prefetch("emergency_contacts", EmergencyContact.objects.only("pk", "enrollment_id")),
                              "pickup_persons")
            .order_by("-created_at", "-pk"))


def portal_participations(user):
    """Meine Teilnahme: the enrollments `user` takes part in without holding the account."""
    return (portal_enrollments(user).filter(participant__user=user).exclude(account_holder=user)
            .select_related("offer", "institution").defer(*_offer_text_columns()).order_by("-created_at", "-pk"))
