"""Data protection (DSGVO): consent records and the log of exports and erasures."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..lib.formats import format_datetime


class Consent(models.Model):
    """A consent someone gave (and may withdraw): what text, which version, when, from where.

    The version is a hash of the German text shown, so a changed text is a new version
    and old consents keep saying exactly what was agreed to.
    """

    class Kind(models.TextChoices):
        PRIVACY = "privacy", _("Datenschutzhinweise")
        REGISTRATION = "registration", _("Registrierung")
        ADDON = "addon", _("Zusatzangebot")
        APP_TERMS = "app_terms", _("Nutzungsbedingungen einer Anwendung")

    person = models.ForeignKey("workpro_plugin.Person", verbose_name=_("Person"), null=True, blank=True,
                               on_delete=models.CASCADE, related_name="consents")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("Benutzerkonto"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="workpro_consents")
    kind = models.CharField(_("Art"), max_length=20, choices=Kind.choices)
    subject = models.CharField(_("Gegenstand"), max_length=200, blank=True,
                               help_text=_("z. B. das Angebot oder die Anwendung, für die zugestimmt wurde"))
    text = models.TextField(_("Text der Zustimmung"))
    version = models.CharField(_("Version"), max_length=64)
    given_at = models.DateTimeField(_("erteilt am"), default=timezone.now)
    ip = models.GenericIPAddressField(_("IP-Adresse"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("widerrufen am"), null=True, blank=True)

    class Meta:
        verbose_name = _("Einwilligung")
        verbose_name_plural = _("Einwilligungen")
        ordering = ["given_at", "pk"]
        indexes = [models.Index(fields=["person", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {format_datetime(self.given_at)}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


class PrivacyLog(models.Model):
    """Who exported or erased whose data, when, and what it amounted to."""

    person = models.ForeignKey("workpro_plugin.Person", verbose_name=_("Person"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="privacy_log")
    action = models.CharField(_("Aktion"), max_length=80)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("durch"), null=True, blank=True,
                           on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("am"), default=timezone.now)
    figures = models.JSONField(_("Zahlen"), default=dict, blank=True)

    class Meta:
        verbose_name = _("Datenschutzprotokoll")
        verbose_name_plural = _("Datenschutzprotokoll")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{format_datetime(self.at)} {self.action}"

    @property
    def label(self) -> str:
        return str(PRIVACY_ACTIONS.get(self.action, self.action))


PRIVACY_ACTIONS = {
    "workpro.privacy.exported": _("Daten exportiert"),
    "workpro.privacy.anonymised": _("anonymisiert"),
    "workpro.privacy.retention": _("Aufbewahrungsfristen angewendet"),
    "workpro.privacy.erasure_requested": _("Löschung verlangt (Konto löschen)"),
}
