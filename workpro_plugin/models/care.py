"""Notfallkontakt and Abholberechtigte: required for a minor's contract before it starts."""

from __future__ import annotations

import calendar
from datetime import date

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import conf
from ..lib.phones import format_phone
from .enrollment import private_storage

DEFAULT_PHOTO_VALIDITY_MONTHS = conf.DEFAULTS["PICKUP_PHOTO_VALIDITY_MONTHS"]


def photo_validity_months() -> int:
    return int(conf.get("PICKUP_PHOTO_VALIDITY_MONTHS"))


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the 31st becomes the last day of a shorter month."""

    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


class CareContact(models.Model):
    """Name, relation and phone; the common part of both kinds of contact."""

    enrollment = models.ForeignKey("workpro_plugin.Enrollment", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("Name"), max_length=200)
    relation = models.CharField(_("Beziehung zum Kind"), max_length=100,
                                help_text=_("z. B. Großmutter, Nachbar, Tante"))
    phone = models.CharField(_("Telefon"), max_length=20)
    created_at = models.DateTimeField(_("angelegt am"), auto_now_add=True)
    updated_at = models.DateTimeField(_("geändert am"), auto_now=True)

    class Meta:
        abstract = True
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.relation})"

    @property
    def phone_display(self) -> str:
        return format_phone(self.phone)


class EmergencyContact(CareContact):
    enrollment = models.ForeignKey("workpro_plugin.Enrollment", verbose_name=_("Vertrag"), on_delete=models.CASCADE,
                                   related_name="emergency_contacts")

    class Meta(CareContact.Meta):
        verbose_name = _("Notfallkontakt")
        verbose_name_plural = _("Notfallkontakte")


class PickupPerson(CareContact):
    """Abholberechtigte: may collect the child; staff compare the face with a current passport photo."""

    enrollment = models.ForeignKey("workpro_plugin.Enrollment", verbose_name=_("Vertrag"), on_delete=models.CASCADE,
                                   related_name="pickup_persons")
    photo = models.FileField(_("Passfoto"), upload_to="pickup/%Y/%m/", storage=private_storage, blank=True,
                             max_length=255)
    photo_uploaded_at = models.DateTimeField(_("Foto hochgeladen am"), null=True, blank=True)

    class Meta(CareContact.Meta):
        verbose_name = _("Abholberechtigte Person")
        verbose_name_plural = _("Abholberechtigte")

    def photo_valid_until(self) -> date | None:
        if not self.photo or self.photo_uploaded_at is None:
            return None
        return add_months(timezone.localdate(self.photo_uploaded_at), photo_validity_months())

    def photo_is_current(self, day: date | None = None) -> bool:
        until = self.photo_valid_until()
        return until is not None and (day or timezone.localdate()) <= until
