"""Fee schedules ("Gebührenordnungen") a staff member may choose or manage."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from ..models import FeeSchedule
from .institutions import staff_institutions


def choosable_fee_schedules(user):
    """Fee schedules `user` may see and choose for an offer: those of the user's institutions and the
    shared ones (no institution); all for superusers, none for admin users without an institution."""
    if user is not None and user.is_authenticated and user.is_superuser:
        return FeeSchedule.objects.all()
    institutions = staff_institutions(user)
    if not institutions.exists():
        return FeeSchedule.objects.none()
    return FeeSchedule.objects.filter(Q(institution__in=institutions) | Q(institution__isnull=True))


def editable_fee_schedules(user):
    """Fee schedules `user` may manage (with the model permissions): only those of the user's institutions;
    a shared schedule applies to every institution, so only superusers change it."""
    if user is not None and user.is_authenticated and user.is_superuser:
        return FeeSchedule.objects.all()
    return FeeSchedule.objects.filter(institution__in=staff_institutions(user))


def fee_history(enrollment) -> list[dict]:
    """The fee periods of a contract, oldest first: from, amount, reason (the contract's fee if unchanged)."""
    periods = [{"starts_on": p.starts_on, "amount": p.amount, "reason": p.reason}
               for p in enrollment.fee_periods.all()]
    if periods or enrollment.costs is None:
        return periods
    return [{"starts_on": enrollment.contract_start, "amount": enrollment.costs,
             "reason": enrollment.costs_reason or str(_("laut Vertrag"))}]
