from django import forms
from django.db import models
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class EmailAuthenticationForm(AuthenticationForm):
    """Login with the email address, which is the username of every WorkPro account."""

    username = forms.EmailField(
        label=_("Mailadresse"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    error_messages = {
        "invalid_login": _(
            "Mailadresse oder Passwort sind nicht korrekt. Bitte prüfen Sie Ihre Eingabe."
        ),
        "inactive": _("Dieses Konto ist gesperrt."),
    }

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()


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

    def __init__(self, *args, **kwargs):
        from .models import AGE_GROUPS, OfferCategory

        super().__init__(*args, **kwargs)
        self.fields["kategorie"].choices = [("", _("Alle Kategorien")), *OfferCategory.choices]
        self.fields["alter"].choices = [("", _("Alle Altersgruppen"))] + [(g.code, g.label) for g in AGE_GROUPS]

    def has_filters(self) -> bool:
        return any(self.cleaned_data.get(name) for name in self.fields)

    def filter(self, offers):
        from .models.offers import AGE_GROUPS_BY_CODE

        data = self.cleaned_data
        if data.get("kategorie"):
            offers = offers.filter(category=data["kategorie"])
        if data.get("alter"):
            offers = offers.for_age_group(AGE_GROUPS_BY_CODE[data["alter"]])
        if data.get("beginn_ab"):
            offers = offers.filter(
                models.Q(starts_on__gte=data["beginn_ab"]) | models.Q(rolling_admission=True)
            )
        if data.get("freie_plaetze"):
            offers = offers.with_free_places()
        if data.get("offen"):
            offers = offers.open_for_applications()
        if data.get("q"):
            offers = offers.filter(pk__in=matching_pks(offers.model, data["q"]))
        return offers


def matching_pks(model, query: str):
    """Primary keys of live pages matching a full-text query.

    The database search backends expose their result as a queryset, so the match
    stays a subquery instead of loading every matching page into Python.
    """
    results = model.objects.live().search(query, order_by_relevance=False)
    if hasattr(results, "get_queryset"):
        return results.get_queryset().values("pk")
    return [page.pk for page in results]
