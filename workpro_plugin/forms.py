from django import forms
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
