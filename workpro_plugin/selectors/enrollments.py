"""Enrollments a user may see: staff lists, the portal, deadlines."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from ..access import active_guardian_q
from ..models import OPEN_STATUSES, Enrollment, EnrollmentStatus
from .institutions import staff_institutions


def staff_enrollments(user):
    """Enrollments in the user's institutions, with what list and export show."""
    return Enrollment.objects.filter(institution__in=staff_institutions(user)).select_related(
        "participant", "offer", "institution", "account_holder")


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
