from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, InlinePanel
from wagtail.models import Orderable

from ..lib.fees import Bracket, Fee, compute_fee

MONEY = {"max_digits": 10, "decimal_places": 2, "validators": [MinValueValidator(Decimal("0"))]}


class FeeSchedule(ClusterableModel):
    """A reusable fee table ("Gebührenordnung"): income brackets and a maximum rate."""

    class BillingPeriod(models.TextChoices):
        MONTHLY = "monatlich", _("monatlich")
        YEARLY = "jaehrlich", _("jährlich")
        ONCE = "einmalig", _("einmalig")

    name = models.CharField(_("Name"), max_length=200)
    institution = models.ForeignKey(
        "workpro_plugin.Institution",
        verbose_name=_("Einrichtung"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fee_schedules",
        help_text=_("Leer lassen, wenn die Gebührenordnung für alle Einrichtungen des Trägers gilt."),
    )
    billing_period = models.CharField(
        _("Abrechnungszeitraum"), max_length=20, choices=BillingPeriod.choices, default=BillingPeriod.MONTHLY
    )
    maximum_rate = models.DecimalField(
        _("Höchstsatz (€)"),
        help_text=_("Gilt ohne Einkommenserklärung, bei nicht erbrachtem Nachweis und über der höchsten Stufe."),
        **MONEY,
    )
    notes = models.TextField(_("Hinweise"), blank=True)

    panels = [
        FieldPanel("name"),
        FieldPanel("institution"),
        FieldPanel("billing_period"),
        FieldPanel("maximum_rate"),
        InlinePanel("brackets", heading=_("Einkommensstufen"), label=_("Einkommensstufe")),
        FieldPanel("notes"),
    ]

    class Meta:
        verbose_name = _("Gebührenordnung")
        verbose_name_plural = _("Gebührenordnungen")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def as_brackets(self) -> list[Bracket]:
        return [
            Bracket(b.income_from, b.income_to, b.amount, b.subsidy)
            for b in self.brackets.all()
        ]

    def compute(self, income: Decimal | None, *, proof_overdue: bool = False) -> Fee:
        return compute_fee(self.as_brackets(), self.maximum_rate, income, proof_overdue=proof_overdue)

    @property
    def is_income_dependent(self) -> bool:
        return len(self.brackets.all()) > 1


class FeeBracket(Orderable):
    schedule = ParentalKey(FeeSchedule, on_delete=models.CASCADE, related_name="brackets")
    income_from = models.DecimalField(_("Jahreseinkommen von (€)"), **MONEY)
    income_to = models.DecimalField(
        _("bis unter (€)"), null=True, blank=True, help_text=_("Leer: nach oben offen."), **MONEY
    )
    amount = models.DecimalField(_("Betrag (€)"), **MONEY)
    subsidy = models.DecimalField(
        _("davon öffentlicher Zuschuss (€)"), null=True, blank=True, **MONEY
    )

    panels = [
        FieldPanel("income_from"),
        FieldPanel("income_to"),
        FieldPanel("amount"),
        FieldPanel("subsidy"),
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("Einkommensstufe")
        verbose_name_plural = _("Einkommensstufen")
        ordering = ["income_from"]

    def clean(self):
        if self.income_to is not None and self.income_from is not None and self.income_to <= self.income_from:
            raise ValidationError({"income_to": _("„Bis unter“ muss größer sein als „Von“.")})
