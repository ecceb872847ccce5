from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin


class EnrollmentStatus(models.TextChoices):
    INTERESSENT = "interessent", _("Interessent")
    BEWERBER = "bewerber", _("Bewerber")
    EINGELADEN = "eingeladen", _("Eingeladen")
    KANDIDAT = "kandidat", _("Kandidat")
    ABGELEHNT = "abgelehnt", _("Abgelehnt")
    EINGESTUFT = "eingestuft", _("Eingestuft")
    ANGEBOT = "angebot", _("Angebot")
    ANGENOMMEN = "angenommen", _("Angenommen")
    RATIFIZIERT = "ratifiziert", _("Ratifiziert")
    ABGELAUFEN = "abgelaufen", _("Abgelaufen")
    ZURUECKGEZOGEN = "zurueckgezogen", _("Zurückgezogen")


# An offer's places are taken by accepted and ratified contracts.
PLACE_TAKING_STATUSES = (EnrollmentStatus.ANGENOMMEN, EnrollmentStatus.RATIFIZIERT)


class Enrollment(FSMModelMixin, models.Model):
    """One participant's enrollment ("Anmeldung", later "Vertrag") for one offer."""

    Status = EnrollmentStatus

    offer = models.ForeignKey(
        "workpro_plugin.OfferPage", verbose_name=_("Angebot"), on_delete=models.PROTECT, related_name="enrollments"
    )
    institution = models.ForeignKey(
        "workpro_plugin.Institution", verbose_name=_("Einrichtung"), on_delete=models.PROTECT,
        related_name="enrollments",
    )
    account_holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("Kontoinhaber"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="workpro_enrollments",
    )
    status = FSMField(_("Status"), default=EnrollmentStatus.INTERESSENT, choices=EnrollmentStatus.choices,
                      protected=True, db_index=True)
    created_at = models.DateTimeField(_("angelegt am"), auto_now_add=True)
    updated_at = models.DateTimeField(_("geändert am"), auto_now=True)

    class Meta:
        verbose_name = _("Anmeldung")
        verbose_name_plural = _("Anmeldungen")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.offer} ({self.get_status_display()})"
