"""The Wunschliste of one child in Mein Konto: rank, desired start and care hours per wish."""

from django import forms
from django.utils.translation import gettext_lazy as _

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class WishForm(forms.Form):
    """One wish; start date and care hours only where the offer asks for them."""

    rank = forms.TypedChoiceField(label=_("Wunsch"), coerce=int,
                                  error_messages={"required": _("Bitte wählen Sie den Rang dieses Wunsches.")})
    desired_start = forms.DateField(
        label=_("gewünschter Beginn"), required=False, widget=DATE_WIDGET,
        error_messages={"invalid": _("Bitte ein Datum im Format TT.MM.JJJJ eingeben.")})
    care_hours = forms.IntegerField(
        label=_("Betreuungsumfang (Stunden pro Woche)"), required=False, min_value=5, max_value=60,
        error_messages={"invalid": _("Bitte eine ganze Zahl eingeben."),
                        "min_value": _("Bitte mindestens 5 Stunden pro Woche angeben."),
                        "max_value": _("Bitte höchstens 60 Stunden pro Woche angeben.")})

    def __init__(self, *args, enrollment, count: int, locked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.enrollment = enrollment
        offer = enrollment.offer.specific
        self.fields["rank"].choices = [(i, _("%(rank)s. Wunsch") % {"rank": i}) for i in range(1, count + 1)]
        if not offer.asks_desired_start:
            del self.fields["desired_start"]
        elif not locked:
            self.fields["desired_start"].required = True
            self.fields["desired_start"].error_messages["required"] = _("Bitte geben Sie den gewünschten Beginn an.")
        if not offer.asks_care_hours:
            del self.fields["care_hours"]
        elif not locked:
            self.fields["care_hours"].required = True
            self.fields["care_hours"].error_messages["required"] = _("Bitte geben Sie den Betreuungsumfang an.")
        if locked:
            for field in self.fields.values():
                field.disabled = True
