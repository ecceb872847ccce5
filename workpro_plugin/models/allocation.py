"""Platzvergabe: the Kriterienkatalog, staff confirmations, allocation rounds and their results.

The algorithm itself is `workpro_plugin.allocation` (pure, no Django); services/allocation.py
reads these rows into its inputs and writes its outcome back.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..lib.choices import (
    CONFIRMED_CRITERIA,
    AllocationOutcome,
    AllocationRoundStatus,
    CriterionKind,
)


class CriterionQuerySet(models.QuerySet):
    def for_offer(self, offer, institution=None) -> list:
        """The catalogue that ranks applicants of `offer` (one query): the offer's own criteria where it
        has any, otherwise its institution's general ones."""
        institution = institution or offer.get_institution()
        condition = models.Q(offer_id=offer.pk)
        if institution is not None:
            condition |= models.Q(institution=institution, offer__isnull=True)
        rows = list(self.filter(condition))
        own = [c for c in rows if c.offer_id == offer.pk]
        return own or rows

    def for_offers(self, offers, institutions: dict) -> dict:
        """{offer id: its catalogue} for many offers in one query; `institutions` maps offer id to institution."""
        institution_ids = {i.pk for i in institutions.values() if i is not None}
        rows = list(self.filter(models.Q(offer_id__in=[o.pk for o in offers])
                                | models.Q(institution_id__in=institution_ids, offer__isnull=True)))
        catalogues = {}
        for offer in offers:
            institution = institutions.get(offer.pk)
            own = [c for c in rows if c.offer_id == offer.pk]
            catalogues[offer.pk] = own or [c for c in rows if c.offer_id is None and institution is not None
                                           and c.institution_id == institution.pk]
        return catalogues


class Criterion(models.Model):
    """One line of an institution's Kriterienkatalog: what earns how many points."""

    Kind = CriterionKind

    institution = models.ForeignKey("workpro_plugin.Institution", verbose_name=_("Einrichtung"),
                                    on_delete=models.CASCADE, related_name="criteria")
    offer = models.ForeignKey(
        "workpro_plugin.OfferPage", verbose_name=_("nur für das Angebot"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="criteria",
        help_text=_("Leer lassen: gilt für alle Angebote der Einrichtung, die keinen eigenen Katalog haben."),
    )
    kind = models.CharField(_("Art"), max_length=20, choices=CriterionKind.choices)
    label = models.CharField(_("Bezeichnung für Eltern"), max_length=200,
                             help_text=_("So steht das Kriterium auf der Angebotsseite und in der Begründung."))
    points = models.PositiveSmallIntegerField(_("Punkte"))
    parameter = models.CharField(
        _("Wert"), max_length=500, blank=True,
        help_text=_("Wohnsitz: Postleitzahlen oder Orte, durch Komma getrennt. Sonst leer lassen."),
    )
    sort_order = models.PositiveSmallIntegerField(_("Reihenfolge"), default=0)

    objects = CriterionQuerySet.as_manager()

    class Meta:
        verbose_name = _("Kriterium")
        verbose_name_plural = _("Kriterienkatalog")
        ordering = ["institution", "offer", "sort_order", "pk"]

    def __str__(self) -> str:
        return f"{self.label} ({self.points})"

    @property
    def needs_confirmation(self) -> bool:
        return self.kind in CONFIRMED_CRITERIA

    def parameter_values(self) -> list[str]:
        return [v.strip().casefold() for v in self.parameter.split(",") if v.strip()]


class CriterionConfirmation(models.Model):
    """Staff confirmed that a criterion applies to an application (e.g. a Härtefall), with a reason."""

    enrollment = models.ForeignKey("workpro_plugin.Enrollment", on_delete=models.CASCADE,
                                   related_name="criterion_confirmations")
    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="confirmations")
    reason = models.TextField(_("Begründung"))
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                     related_name="+")
    confirmed_at = models.DateTimeField(_("bestätigt am"), auto_now_add=True)

    class Meta:
        verbose_name = _("Bestätigtes Kriterium")
        verbose_name_plural = _("Bestätigte Kriterien")
        constraints = [models.UniqueConstraint(fields=["enrollment", "criterion"], name="workpro_criterion_once")]


class AllocationRound(models.Model):
    """A Vergaberunde over a set of offers: previewed (saves nothing), then confirmed once."""

    Status = AllocationRoundStatus

    title = models.CharField(_("Bezeichnung"), max_length=200)
    offers = models.ManyToManyField("workpro_plugin.OfferPage", verbose_name=_("Angebote"),
                                    related_name="allocation_rounds")
    stichtag = models.DateField(_("Stichtag"), help_text=_(
        "Bis zu diesem Tag können Eltern ihre Wünsche ändern; das Alter wird zu diesem Tag berechnet."))
    status = models.CharField(_("Status"), max_length=20, choices=AllocationRoundStatus.choices,
                              default=AllocationRoundStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("angelegt am"), auto_now_add=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    confirmed_at = models.DateTimeField(_("bestätigt am"), null=True, blank=True)
    inputs = models.JSONField(_("Eingaben"), default=dict, blank=True, help_text=_(
        "Wünsche, Punkte, Losnummern und freie Plätze, wie sie bei der Bestätigung galten: "
        "dieselben Eingaben ergeben wieder dasselbe Ergebnis."))
    outcome = models.JSONField(_("Ergebnis"), default=dict, blank=True)

    class Meta:
        verbose_name = _("Vergaberunde")
        verbose_name_plural = _("Vergaberunden")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_confirmed(self) -> bool:
        return self.status == AllocationRoundStatus.CONFIRMED


class AllocationResult(models.Model):
    """What a confirmed round decided for one wish (one enrollment), with the reason a parent reads."""

    Outcome = AllocationOutcome

    round = models.ForeignKey(AllocationRound, on_delete=models.CASCADE, related_name="results")
    enrollment = models.ForeignKey("workpro_plugin.Enrollment", on_delete=models.CASCADE,
                                   related_name="allocation_results")
    outcome = models.CharField(_("Ergebnis"), max_length=20, choices=AllocationOutcome.choices)
    points = models.IntegerField(_("Punkte"), default=0)
    lottery_number = models.PositiveIntegerField(_("Losnummer"), default=0)
    priority_position = models.PositiveIntegerField(_("Rang beim Angebot"), default=0)
    waiting_rank = models.PositiveIntegerField(_("Platz auf der Warteliste"), null=True, blank=True)
    lowest_admitted_points = models.IntegerField(_("niedrigste aufgenommene Punktzahl"), null=True, blank=True)
    reason = models.TextField(_("Begründung"), blank=True)

    class Meta:
        verbose_name = _("Ergebnis der Platzvergabe")
        verbose_name_plural = _("Ergebnisse der Platzvergabe")
        ordering = ["round", "enrollment__offer", "priority_position"]
        constraints = [models.UniqueConstraint(fields=["round", "enrollment"], name="workpro_allocation_once")]
