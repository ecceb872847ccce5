"""Staff two-factor enrolment: the one-time links mailed to a staff address.

Only a hash of the link's token is stored: the token itself exists only in the mail
(the outbox drops it once sent), so a database reader cannot enrol a device either.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..lib.formats import format_datetime


class TwoFactorEnrolment(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Benutzerkonto"), on_delete=models.CASCADE,
                             related_name="workpro_2fa_enrolments")
    token_hash = models.CharField(_("Prüfsumme des Links"), max_length=64, unique=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("angefordert von"), null=True,
                                     blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("angefordert am"), default=timezone.now)
    expires_at = models.DateTimeField(_("gültig bis"))
    used_at = models.DateTimeField(_("geöffnet am"), null=True, blank=True)
    completed_at = models.DateTimeField(_("eingerichtet am"), null=True, blank=True)

    class Meta:
        verbose_name = _("Einrichtungslink (Zwei-Faktor)")
        verbose_name_plural = _("Einrichtungslinks (Zwei-Faktor)")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.user_id} {format_datetime(self.created_at)}"
