"""Zusatzangebote: add-on offers booked on top of a ratified contract."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from ..lib.choices import AddonBookingStatus
from ..lib.choices import AddonBookingStatus as B
from ..lib.formats import format_date
from .enrollment import Enrollment
from .fees import FeeSchedule


def is_contract_staff(booking: AddonBooking, user) -> bool:
    """Staff of the contract's institution who process enrollments confirm or decline bookings."""
    return user is not None and booking.enrollment.institution.staff_can(user, "process_enrollment")


def is_contract_holder(booking: AddonBooking, user) -> bool:
    return user is not None and user.is_authenticated and booking.enrollment.account_holder_id == user.pk


class AddonBooking(ConcurrentTransitionMixin, models.Model):
    """One booking of an add-on offer for a ratified contract, with its period and cost.

    The account holder requests it (with consent); staff of the contract's
    institution confirm or decline it. Transitions only set fields; services in
    services/addons.py lock, check, log, deposit the confirmation and mail.
    """

    Status = AddonBookingStatus

    enrollment = models.ForeignKey(Enrollment, verbose_name=_("Vertrag"), on_delete=models.PROTECT,
                                   related_name="addon_bookings")
    addon = models.ForeignKey("workpro_plugin.OfferPage", verbose_name=_("Zusatzangebot"), on_delete=models.PROTECT,
                              related_name="addon_bookings")
    starts_on = models.DateField(_("von"))
    ends_on = models.DateField(_("bis"))
    status = FSMField(_("Status"), default=B.REQUESTED, choices=B.choices, protected=True, db_index=True)
    note = models.TextField(_("Hinweis des Kunden"), blank=True)
    consent_at = models.DateTimeField(_("Zustimmung erteilt am"))
    consent_text = models.TextField(_("Wortlaut der Zustimmung"))
    cost = models.DecimalField(_("Kosten (€)"), max_digits=10, decimal_places=2, null=True, blank=True)
    billing_period = models.CharField(_("Abrechnungszeitraum"), max_length=20, blank=True)
    cost_reason = models.TextField(_("Grundlage der Kosten"), blank=True)
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("gebucht von"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    booked_at = models.DateTimeField(_("gebucht am"), default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("entschieden von"), null=True,
                                   blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("entschieden am"), null=True, blank=True)
    decline_reason = models.TextField(_("Grund der Ablehnung"), blank=True)
    cancelled_at = models.DateTimeField(_("storniert am"), null=True, blank=True)
    confirmation = models.ForeignKey("workpro_plugin.Document", verbose_name=_("Buchungsbestätigung"), null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("Zusatzbuchung")
        verbose_name_plural = _("Zusatzbuchungen")
        ordering = ["-booked_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")),
                                   name="workpro_addon_booking_period"),
        ]
        indexes = [models.Index(fields=["enrollment", "addon", "status"], name="workpro_addon_enr_addon")]

    def __str__(self) -> str:
        return f"{self.addon.title} ({format_date(self.starts_on)}–{format_date(self.ends_on)})"

    # --- transitions: they only set fields -------------------------------------------

    @transition(field=status, source=B.REQUESTED, target=B.CONFIRMED, permission=is_contract_staff)
    def confirm(self, *, by, cost, cost_reason: str = ""):
        self.cost, self.cost_reason = cost, cost_reason
        self.decided_by, self.decided_at = by, timezone.now()

    @transition(field=status, source=B.REQUESTED, target=B.DECLINED, permission=is_contract_staff)
    def decline(self, *, by, reason: str):
        self.decline_reason = reason
        self.decided_by, self.decided_at = by, timezone.now()

    @transition(field=status, source=B.REQUESTED, target=B.CANCELLED, permission=is_contract_holder)
    def cancel(self):
        self.cancelled_at = timezone.now()

    # --- reads ------------------------------------------------------------------------

    @property
    def billing_period_label(self) -> str:
        return str(dict(FeeSchedule.BillingPeriod.choices).get(self.billing_period, ""))

    def overlaps(self, starts_on, ends_on) -> bool:
        return self.starts_on <= ends_on and starts_on <= self.ends_on
