"""Offer categories and age groups: lists an institution's editors manage in the admin (#23).

An entry without an institution is shared by every institution of the installation (only superusers
change it); an entry with an institution exists for that institution's offers and filters only.
The names are German (the content language); `name_en` is the label on the English interface.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from ..lib.choices import (
    DEFAULT_AGE_GROUPS,
    DEFAULT_OFFER_CATEGORIES,
    EDUCATIONAL_SCHEMA_TYPES,
    SchemaType,
)

CODE_VALIDATOR = RegexValidator(r"^[a-z0-9][a-z0-9+\-_]*$", _("Nur Kleinbuchstaben, Ziffern, „-“, „_“ und „+“."))


class InstitutionScopedQuerySet(models.QuerySet):
    def for_institution(self, institution):
        """The shared entries and those of `institution` (only the shared ones without an institution)."""
        condition = Q(institution__isnull=True)
        if institution is not None:
            condition |= Q(institution=institution)
        return self.filter(condition)

    def for_site(self, site):
        """The shared entries and those of the institution of the Wagtail `site` (one query, no lookup)."""
        condition = Q(institution__isnull=True)
        if site is not None:
            condition |= Q(institution__site=site)
        return self.filter(condition)


class _LabelMixin:
    def __str__(self) -> str:
        return self.label

    def validate_constraints(self, exclude=None):
        """The slug is unique among the shared entries and the entries of one institution, and an
        institution's own entry does not take a shared one's slug: one German message at the field."""
        if exclude and "slug" in exclude:
            return
        taken = type(self).objects.filter(slug=self.slug).exclude(pk=self.pk)
        scope = Q(institution__isnull=True)
        if self.institution_id is not None:
            scope |= Q(institution_id=self.institution_id)
        if taken.filter(scope).exists():
            raise ValidationError({"slug": _("Dieses Kürzel ist bereits vergeben. Bitte wählen Sie ein anderes.")})

    @property
    def label(self) -> str:
        """The name in the interface language: the English name on the English interface if there is one."""
        if self.name_en and (translation.get_language() or "").startswith("en"):
            return self.name_en
        return self.name


class TaxonomyEntry(_LabelMixin, models.Model):
    """What a category and an age group share: a name in both languages, a code (`slug`) unique in its
    scope, an optional institution (empty: shared) and a position in lists.

    Subclasses declare `slug` and `institution` themselves (with `slug_field` and `institution_field`):
    the example in the slug's help text and the institution's related name differ."""

    name = models.CharField(_("Name"), max_length=100)
    name_en = models.CharField(_("Name (englisch)"), max_length=100, blank=True,
                               help_text=_("Erscheint auf der englischen Oberfläche; leer: der deutsche Name."))
    sort_order = models.PositiveSmallIntegerField(_("Reihenfolge"), default=0)

    objects = InstitutionScopedQuerySet.as_manager()

    class Meta:
        abstract = True
        # "%(class)s" is the lower-case model name: the names stay those of migration 0033.
        constraints = [
            models.UniqueConstraint(fields=["institution", "slug"], name="wp_%(class)s_unique_slug"),
            models.UniqueConstraint(fields=["slug"], condition=Q(institution__isnull=True),
                                    name="wp_%(class)s_unique_shared_slug"),
        ]


def slug_field(help_text):
    return models.CharField(_("Kürzel"), max_length=40, validators=[CODE_VALIDATOR], help_text=help_text)


def institution_field(related_name):
    return models.ForeignKey(
        "workpro_plugin.Institution", verbose_name=_("Einrichtung"), null=True, blank=True,
        on_delete=models.CASCADE, related_name=related_name,
        help_text=_("Leer: gilt für alle Einrichtungen (nur Administratoren)."))


class OfferCategory(TaxonomyEntry):
    """A category an offer belongs to ("Betreuung", "Ausbildung", …) and the schema.org type it maps to."""

    slug = slug_field(_("Steht in der Adresse der gefilterten Angebotsübersicht, z. B. „betreuung“."))
    schema_type = models.CharField(
        _("Art für Suchmaschinen"), max_length=40, choices=SchemaType.choices, default=SchemaType.SERVICE,
        help_text=_("So beschreiben die strukturierten Daten (schema.org) die Angebote dieser Kategorie."))
    institution = institution_field("offer_categories")

    class Meta(TaxonomyEntry.Meta):
        verbose_name = _("Angebotskategorie")
        verbose_name_plural = _("Angebotskategorien")
        ordering = ["sort_order", "name", "pk"]

    @property
    def is_educational(self) -> bool:
        return self.schema_type in EDUCATIONAL_SCHEMA_TYPES


class AgeGroup(TaxonomyEntry):
    """An age group of the offer index filter and the unmet-demand report: ages in whole years.

    An offer belongs to every group its own age range ("Alter von/bis") overlaps; whether a child may
    apply is still decided by the offer's own range on its start date."""

    slug = slug_field(_("Steht in der Adresse der gefilterten Angebotsübersicht, z. B. „u3“."))
    min_age = models.PositiveSmallIntegerField(_("Alter von (Jahre)"), default=0)
    max_age = models.PositiveSmallIntegerField(_("Alter bis (Jahre)"), null=True, blank=True,
                                               help_text=_("Leer: nach oben offen."))
    institution = institution_field("age_groups")

    class Meta(TaxonomyEntry.Meta):
        verbose_name = _("Altersgruppe")
        verbose_name_plural = _("Altersgruppen")
        ordering = ["sort_order", "min_age", "pk"]

    def contains(self, age: int | None) -> bool:
        return age is not None and self.min_age <= age and (self.max_age is None or age <= self.max_age)


def ensure_default_taxonomy() -> None:
    """Create the shared default categories and age groups that are missing (idempotent; never changes or
    recreates what an administrator renamed, only fills an empty slug)."""
    for position, (slug, name, name_en, schema_type) in enumerate(DEFAULT_OFFER_CATEGORIES, start=1):
        OfferCategory.objects.get_or_create(institution=None, slug=slug, defaults={
            "name": name, "name_en": name_en, "schema_type": schema_type, "sort_order": position * 10})
    for position, (slug, name, name_en, min_age, max_age) in enumerate(DEFAULT_AGE_GROUPS, start=1):
        AgeGroup.objects.get_or_create(institution=None, slug=slug, defaults={
            "name": name, "name_en": name_en, "min_age": min_age, "max_age": max_age, "sort_order": position * 10})
