"""Anwendungen von WorkPro-Action: apps an institution assigns and participants accept."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel

validate_https_url = URLValidator(
    schemes=["https"], message=_("Bitte eine vollständige, verschlüsselte Adresse angeben (beginnt mit https://)."))


def terms_digest(text: str) -> str:
    """The version of a terms text: what an acceptance refers to."""
    normalised = "\n".join(line.rstrip() for line in text.strip().splitlines())
    return hashlib.sha256(normalised.encode()).hexdigest()


class App(models.Model):
    """An app ("Anwendung") of an institution: learning platform, library, class info, ..."""

    institution = models.ForeignKey("workpro_plugin.Institution", verbose_name=_("Einrichtung"),
                                    on_delete=models.PROTECT, related_name="apps")
    name = models.CharField(_("Name"), max_length=120)
    description = models.TextField(_("Beschreibung"), max_length=1000,
                                   help_text=_("Erscheint auf der Kachel unter „Anwendungen“."))
    launch_url = models.URLField(_("Adresse zum Öffnen"), max_length=500, validators=[validate_https_url],
                                 help_text=_("Beginnt mit https://, z. B. https://lernen.example.org/"))
    terms = models.TextField(
        _("Nutzungsbedingungen"),
        help_text=_("Der Teilnehmer (bei Minderjährigen ohne eigene Anmeldung der PSB1) nimmt sie vor der ersten "
                    "Nutzung an. Nach einer Änderung muss erneut angenommen werden."),
    )
    is_active = models.BooleanField(_("aktiv"), default=True,
                                    help_text=_("Inaktive Anwendungen erscheinen bei niemandem."))
    created_at = models.DateTimeField(_("angelegt am"), auto_now_add=True)
    updated_at = models.DateTimeField(_("geändert am"), auto_now=True)

    panels = [
        FieldPanel("institution"),
        FieldPanel("name"),
        FieldPanel("description"),
        FieldPanel("launch_url"),
        FieldPanel("terms"),
        FieldPanel("is_active"),
    ]

    class Meta:
        verbose_name = _("Anwendung")
        verbose_name_plural = _("Anwendungen")
        ordering = ["institution__name", "name"]
        constraints = [models.UniqueConstraint(fields=["institution", "name"], name="workpro_unique_app_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def terms_sha256(self) -> str:
        return terms_digest(self.terms)


class AppAssignment(models.Model):
    """An app assigned to one participant, or to every participant of an offer.

    An offer assignment applies to each participant with an accepted or ratified
    contract for that offer. Revoking keeps the row (who, when, why).
    """

    app = models.ForeignKey(App, verbose_name=_("Anwendung"), on_delete=models.CASCADE, related_name="assignments")
    participant = models.ForeignKey("workpro_plugin.Person", verbose_name=_("Teilnehmer"), null=True, blank=True,
                                    on_delete=models.CASCADE, related_name="app_assignments")
    offer = models.ForeignKey("workpro_plugin.OfferPage", verbose_name=_("Angebot"), null=True, blank=True,
                              on_delete=models.CASCADE, related_name="app_assignments")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("zugewiesen von"), null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="+")
    assigned_at = models.DateTimeField(_("zugewiesen am"), auto_now_add=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("entzogen von"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(_("entzogen am"), null=True, blank=True)
    revoke_reason = models.TextField(_("Grund des Entzugs"), blank=True)

    class Meta:
        verbose_name = _("Zuweisung einer Anwendung")
        verbose_name_plural = _("Zuweisungen von Anwendungen")
        ordering = ["-assigned_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(participant__isnull=False, offer__isnull=True)
                           | models.Q(participant__isnull=True, offer__isnull=False)),
                name="workpro_app_assignment_one_target",
            ),
            models.UniqueConstraint(fields=["app", "participant"], condition=models.Q(revoked_at__isnull=True),
                                    name="workpro_app_assignment_unique_person"),
            models.UniqueConstraint(fields=["app", "offer"], condition=models.Q(revoked_at__isnull=True),
                                    name="workpro_app_assignment_unique_offer"),
        ]

    def __str__(self) -> str:
        return f"{self.app}: {self.target_label}"

    @property
    def target_label(self) -> str:
        if self.offer_id:
            return _("alle Teilnehmer von „%(offer)s“") % {"offer": self.offer.title}
        return self.participant.full_name if self.participant_id else "–"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AppAcceptance(models.Model):
    """Who accepted an app's terms for whom, and which version of the terms."""

    app = models.ForeignKey(App, verbose_name=_("Anwendung"), on_delete=models.CASCADE, related_name="acceptances")
    person = models.ForeignKey("workpro_plugin.Person", verbose_name=_("für"), on_delete=models.CASCADE,
                               related_name="app_acceptances")
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("angenommen von"), null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    accepted_at = models.DateTimeField(_("angenommen am"), auto_now_add=True)
    terms_sha256 = models.CharField(_("SHA-256 der Nutzungsbedingungen"), max_length=64)
    terms_text = models.TextField(_("angenommene Nutzungsbedingungen"))

    class Meta:
        verbose_name = _("Annahme einer Anwendung")
        verbose_name_plural = _("Annahmen von Anwendungen")
        ordering = ["-accepted_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["app", "person", "terms_sha256"],
                                               name="workpro_unique_app_acceptance")]

    def __str__(self) -> str:
        return f"{self.app} – {self.person}"
