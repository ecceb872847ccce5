"""Audit log: who logged in (or failed to), who was refused, who opened or changed personal
data, documents and statuses. Written only by ``services.audit.record``; never edited."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..lib.choices import AuditAction
from ..lib.formats import format_datetime


class AuditEvent(models.Model):
    at = models.DateTimeField(_("Zeitpunkt"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Benutzer"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    # A copy of the login name: kept when the account is deleted, and the typed name of a failed login.
    actor_label = models.CharField(_("Benutzername"), max_length=254, blank=True)
    action = models.CharField(_("Aktion"), max_length=40, choices=AuditAction.choices, db_index=True)
    object_type = models.CharField(_("Objektart"), max_length=80, blank=True)
    object_id = models.CharField(_("Objekt-ID"), max_length=64, blank=True)
    person = models.ForeignKey("workpro_plugin.Person", verbose_name=_("betroffene Person"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    ip = models.GenericIPAddressField(_("IP-Adresse"), null=True, blank=True)
    detail = models.JSONField(_("Details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("Audit-Ereignis")
        verbose_name_plural = _("Protokoll (Audit)")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="workpro_audit_object")]

    def __str__(self) -> str:
        return f"{format_datetime(self.at)} {self.get_action_display()}"
