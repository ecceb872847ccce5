"""The forms offer pages render themselves: the filters of the offer index and "Registrieren".

A page may render its own form (DESIGN.md, layers); what happens after a valid POST is a portal
view's job (portal.views.registration).
"""

from __future__ import annotations

import sys

from django import forms
from django.db import models
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from modelsearch.query import MatchAll, Not
from modelsearch.utils import get_descendants_content_types_pks

from ..lib.form_fields import NAME_MAX, clean_name
from .offer_taxonomy import AgeGroup, OfferCategory


class RegistrationForm(forms.Form):
    """Registrierung on an offer page: Name, Vorname, Mailadresse and consent."""

    last_name = forms.CharField(label=_("Name"), max_length=NAME_MAX,
                                widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
                                error_messages={"required": _("Bitte Ihren Namen eingeben.")})
    first_name = forms.CharField(label=_("Vorname"), max_length=NAME_MAX,
                                 widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
                                 error_messages={"required": _("Bitte Ihren Vornamen eingeben.")})
    email = forms.EmailField(label=_("Mailadresse"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}),
                             error_messages={"required": _("Bitte Ihre Mailadresse eingeben."),
                                             "invalid": _("Bitte eine gültige Mailadresse eingeben.")})
    privacy = forms.BooleanField(
        label=_("Ich habe die Datenschutzhinweise gelesen und bin mit der Verarbeitung meiner Angaben einverstanden."),
        error_messages={"required": _("Bitte bestätigen Sie die Datenschutzhinweise.")},
    )
    # Bots fill every field; people never see this one.
    website = forms.CharField(required=False, label=_("Bitte leer lassen"),
                              widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}))

    def __init__(self, *args, privacy_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if privacy_url:
            self.fields["privacy"].help_text = format_html('<a href="{}">{}</a>', privacy_url,
                                                           _("Datenschutzhinweise lesen"))

    def clean_last_name(self):
        return clean_name(self.cleaned_data["last_name"])

    def clean_first_name(self):
        return clean_name(self.cleaned_data["first_name"])

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean_website(self):
        if self.cleaned_data.get("website"):
            raise forms.ValidationError(_("Bitte dieses Feld leer lassen."))
        return ""


def filter_choices(site) -> tuple[dict, dict]:
    """The categories and age groups the offer filter of `site` offers, by slug (see OfferFilterForm)."""
    return _by_slug(OfferCategory.objects.for_site(site)), _by_slug(AgeGroup.objects.for_site(site))


class OfferFilterForm(forms.Form):
    """The filters of the offer index (GET, works without JavaScript)."""

    q = forms.CharField(label=_("Suche"), required=False, max_length=100,
                        widget=forms.SearchInput(attrs={"placeholder": _("Stichwort, z. B. Krippe")}))
    kategorie = forms.ChoiceField(label=_("Kategorie"), required=False)
    alter = forms.ChoiceField(label=_("Altersgruppe"), required=False)
    beginn_ab = forms.DateField(label=_("Beginn ab"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                error_messages={"invalid": _("Bitte ein Datum im Format TT.MM.JJJJ eingeben.")})
    freie_plaetze = forms.BooleanField(label=_("nur mit freien Plätzen"), required=False)
    offen = forms.BooleanField(label=_("nur mit offener Anmeldung"), required=False)

    def __init__(self, *args, site=None, choices=None, **kwargs):
        """The categories and age groups are the shared ones and those of the institution of `site`; where
        an institution's own entry has the slug of a shared one, its own wins. `choices`: those two as
        `filter_choices(site)` returned them (cached by the offer index), instead of reading them."""
        super().__init__(*args, **kwargs)
        self.categories, self.age_groups = choices if choices is not None else filter_choices(site)
        self.fields["kategorie"].choices = [("", _("Alle Kategorien"))] + [
            (slug, category.label) for slug, category in self.categories.items()]
        self.fields["alter"].choices = [("", _("Alle Altersgruppen"))] + [
            (slug, group.label) for slug, group in self.age_groups.items()]

    def has_filters(self) -> bool:
        return any(self.cleaned_data.get(name) for name in self.fields)

    def filter(self, offers, *, free_places: bool = True):
        """`offers` narrowed by the valid filters; without the free places if not `free_places` (the
        index decides those per request from its cached candidates)."""
        data = self.cleaned_data
        if data.get("kategorie"):
            offers = offers.filter(category=self.categories[data["kategorie"]])
        if data.get("alter"):
            offers = offers.for_age_group(self.age_groups[data["alter"]])
        if data.get("beginn_ab"):
            offers = offers.filter(
                models.Q(starts_on__gte=data["beginn_ab"]) | models.Q(rolling_admission=True)
            )
        if free_places and data.get("freie_plaetze"):
            offers = offers.with_free_places()
        if data.get("offen"):
            offers = offers.open_for_applications()
        if data.get("q"):
            offers = offers.filter(pk__in=matching_pks(offers.model, data["q"]))
        return offers


def _by_slug(entries) -> dict:
    """{slug: entry} in the list's order; an institution's own entry replaces a shared one of the same slug."""
    found: dict = {}
    for entry in entries:
        if entry.slug not in found or entry.institution_id is not None:
            found[entry.slug] = entry
    return found


def matching_pks(model, query: str):
    """Primary keys of pages matching a full-text query (of live pages, or of any page on SQLite:
    the caller's queryset is of live pages).

    The database search backends expose their result as a queryset, so the match
    stays a subquery instead of loading every matching page into Python.
    """
    results = model.objects.live().search(query, order_by_relevance=False)
    fts_first = _sqlite_fts_matches(results)
    if fts_first is not None:
        return fts_first
    if hasattr(results, "get_queryset"):
        return results.get_queryset().values("pk")
    return [page.pk for page in results]


def _sqlite_fts_matches(results):
    """The object ids of the index entries matching the search of `results`, for the SQLite backend: a
    subquery that starts from the full-text table (None for any other backend or query).

    The backend joins the FTS5 table with the index entries filtered by content type; without table
    statistics SQLite takes the content type index for the outer loop and runs the MATCH once per
    entry of the model (5,000 offers: 5 s a search). Here the MATCH runs once, as a list subquery.
    """
    compiler = getattr(results, "query_compiler", None)
    if type(compiler).__name__ != "SQLiteSearchQueryCompiler":
        return None
    # The backend's module (loaded with the backend) defines models that exist only on SQLite with FTS5.
    # These are modelsearch internals: should an upgrade rename them, the backend's own (slower) query
    # is used instead (tests/portal/test_offer_index_cold.py checks this path is taken today).
    try:
        backend = sys.modules[type(compiler).__module__]
        query = backend.normalize(compiler.query)
        if isinstance(query, (MatchAll, Not)):
            return None
        match = backend.MatchExpression(compiler.fields or compiler.FTS_TABLE_FIELDS,
                                        compiler.build_search_query(query, config=compiler.get_config(results.backend)))
        entries, index_entries = backend.SQLiteFTSIndexEntry, backend.IndexEntry
    except (AttributeError, KeyError, TypeError):
        return None
    rowids = entries.objects.filter(match).values("index_entry_id")
    return index_entries.objects.filter(
        id__in=rowids, content_type__in=get_descendants_content_types_pks(compiler.queryset.model)
    ).values("object_id")
