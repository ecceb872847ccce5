"""Forms of the add-on bookings: the holder's booking form."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ...services.addons import CONSENT_TEXT

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AddonBookingForm(forms.Form):
    starts_on = forms.DateField(label=_("Von"), widget=DATE,
                                error_messages={"required": _("Bitte den Beginn angeben."),
                                                "invalid": _("Bitte ein gültiges Datum eingeben.")})
    ends_on = forms.DateField(label=_("Bis"), widget=DATE,
                              error_messages={"required": _("Bitte das Ende angeben."),
                                              "invalid": _("Bitte ein gültiges Datum eingeben.")})
    note = forms.CharField(label=_("Hinweis an die Einrichtung (optional)"), required=False, max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 3}))
    consent = forms.BooleanField(label=CONSENT_TEXT,
                                 error_messages={"required": _("Bitte stimmen Sie der verbindlichen Buchung zu.")})

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("starts_on"), cleaned.get("ends_on")
        if start and end and end < start:
            self.add_error("ends_on", _("Das Ende darf nicht vor dem Beginn liegen."))
        return cleaned
