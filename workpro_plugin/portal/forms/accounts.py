"""Forms of the login and the account itself: log in, passwords, password request, contact data."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.utils.translation import gettext_lazy as _

from ...access import PASSWORD_EXPIRED, login_refusal
from ...lib.form_fields import NAME_MAX, validate_birth_date
from ...lib.phones import normalize_phone


class EmailAuthenticationForm(AuthenticationForm):
    """Login with the email address, which is the username of every WorkPro account.

    An issued password that is older than 72 hours is refused by the authentication backend
    (backends.IssuedPasswordBackend, so on every login path); here it gets its own message.
    """

    username = forms.EmailField(
        label=_("Mailadresse"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
        error_messages={"invalid": _("Bitte eine gültige Mailadresse eingeben."),
                        "required": _("Bitte Ihre Mailadresse eingeben.")},
    )
    password = forms.CharField(
        label=_("Passwort"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Bitte Ihr Passwort eingeben.")},
    )

    error_messages = {
        "invalid_login": _("Mailadresse oder Passwort sind nicht korrekt. Bitte prüfen Sie Ihre Eingabe."),
        "inactive": _("Dieses Konto ist gesperrt."),
        "password_expired": _(
            "Ihr zugesandtes Passwort ist abgelaufen: es galt 72 Stunden. "
            "Bitte fordern Sie ein neues an."
        ),
    }

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()

    def get_invalid_login_error(self):
        if login_refusal(self.request) == PASSWORD_EXPIRED:
            return forms.ValidationError(self.error_messages["password_expired"], code="password_expired")
        return super().get_invalid_login_error()


class SetPasswordForm(PasswordChangeForm):
    """Choose an own password, proving the current one first (Django's validators, German messages).

    Whoever logged in with an issued password (by mail or SMS) gives that one as the current one:
    it is the account's password until the own one replaces it.
    """

    def __init__(self, user, *args, issued: bool = False, **kwargs):
        super().__init__(user, *args, **kwargs)
        field = self.fields["old_password"]
        field.label = _("Zugesandtes Passwort") if issued else _("Bisheriges Passwort")
        field.error_messages["required"] = _("Bitte Ihr bisheriges Passwort eingeben.")
        if issued:
            field.help_text = _("Das Passwort aus der Mail oder SMS, mit dem Sie sich eben angemeldet haben.")
        self.error_messages = {**self.error_messages, "password_incorrect": _(
            "Das bisherige Passwort ist nicht korrekt. Bitte geben Sie es erneut ein.")}


class PasswordRequestForm(forms.Form):
    """Neues Passwort anfordern: identifying data, confirmed with "Diese Angaben sind korrekt"."""

    last_name = forms.CharField(label=_("Name"), max_length=NAME_MAX,
                                error_messages={"required": _("Bitte Ihren Namen eingeben.")})
    first_name = forms.CharField(label=_("Vorname"), max_length=NAME_MAX,
                                 error_messages={"required": _("Bitte Ihren Vornamen eingeben.")})
    date_of_birth = forms.DateField(
        label=_("Geburtsdatum"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), required=False,
        error_messages={"invalid": _("Bitte ein Datum im Format TT.MM.JJJJ eingeben.")},
    )
    mobile = forms.CharField(label=_("Hinterlegte Handynummer"), max_length=40, required=False,
                             widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}))
    customer_number = forms.CharField(label=_("Kundennummer"), max_length=30, required=False,
                                      help_text=_("Falls Sie eine haben: sie steht auf Ihrem Vertrag."))
    email = forms.EmailField(
        label=_("Mailadresse, die Sie künftig verwenden"), max_length=254,
        help_text=_("Ihre registrierte Mailadresse, oder eine andere, wenn Sie die registrierte vergessen haben "
                    "oder künftig eine andere verwenden möchten."),
        error_messages={"required": _("Bitte eine Mailadresse eingeben."),
                        "invalid": _("Bitte eine gültige Mailadresse eingeben.")},
    )

    def clean_date_of_birth(self):
        value = self.cleaned_data["date_of_birth"]
        return validate_birth_date(value) if value else None

    def clean_mobile(self):
        value = self.cleaned_data["mobile"].strip()
        return normalize_phone(value) if value else ""


class ContactDataForm(forms.Form):
    """Meine Daten: address, mobile, language; a new email address is confirmed by link."""

    email = forms.EmailField(label=_("Mailadresse"), max_length=254,
                             help_text=_("Eine neue Adresse wird erst nach Bestätigung per Link übernommen."),
                             error_messages={"required": _("Bitte eine Mailadresse eingeben."),
                                             "invalid": _("Bitte eine gültige Mailadresse eingeben.")})
    street = forms.CharField(label=_("Straße und Hausnummer"), max_length=200, required=False)
    postcode = forms.RegexField(label=_("PLZ"), regex=r"^[0-9]{5}\Z", max_length=5, required=False,
                                error_messages={"invalid": _("Bitte eine fünfstellige Postleitzahl eingeben.")})
    city = forms.CharField(label=_("Ort"), max_length=100, required=False)
    mobile = forms.CharField(label=_("Handynummer"), max_length=40, required=False,
                             help_text=_("Damit Sie ein neues Passwort per SMS anfordern können."))
    date_of_birth = forms.DateField(
        label=_("Geburtsdatum"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Damit Sie ein neues Passwort per SMS anfordern können: es dient zur Prüfung."),
        error_messages={"invalid": _("Bitte ein Datum im Format TT.MM.JJJJ eingeben.")})
    language = forms.ChoiceField(label=_("Sprache der Mails"), choices=[("de", _("Deutsch")), ("en", _("Englisch"))])
    current_password = forms.CharField(
        label=_("Bisheriges Passwort"), required=False, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Nur nötig, wenn Sie Mailadresse, Handynummer oder Geburtsdatum ändern."))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean_mobile(self):
        value = self.cleaned_data["mobile"].strip()
        return normalize_phone(value, mobile=True) if value else ""

    def clean_date_of_birth(self):
        value = self.cleaned_data["date_of_birth"]
        return validate_birth_date(value) if value else None

    def clean(self):
        """Mailadresse, Handynummer and Geburtsdatum lead to a new password: changing them needs the current one."""
        cleaned = super().clean()
        person = getattr(self.user, "workpro_person", None)
        if self.user is None or person is None or any(f not in cleaned for f in ("email", "mobile", "date_of_birth")):
            return cleaned
        changes_channel = (cleaned["email"] != (self.user.email or "").lower() or cleaned["mobile"] != person.mobile
                           or cleaned["date_of_birth"] != person.date_of_birth)
        if changes_channel and not self.user.check_password(cleaned.get("current_password") or ""):
            self.add_error("current_password", _(
                "Bitte geben Sie Ihr bisheriges Passwort ein: Mailadresse, Handynummer und Geburtsdatum sind die "
                "Wege zu einem neuen Passwort und ändern sich nur damit."))
        return cleaned


class RecoveryDataForm(forms.Form):
    """The account holder's birth date and mobile number, asked in the guardian section while missing.

    Only missing fields are shown: a stored one is changed under Meine Daten, with the current password.
    """

    date_of_birth = forms.DateField(
        label=_("Ihr Geburtsdatum"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Damit Sie ein neues Passwort per SMS anfordern können."),
        error_messages={"invalid": _("Bitte ein Datum im Format TT.MM.JJJJ eingeben.")})
    mobile = forms.CharField(label=_("Ihre Handynummer"), max_length=40, required=False,
                             widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
                             help_text=_("Damit Sie ein neues Passwort per SMS anfordern können."))

    def __init__(self, *args, person=None, **kwargs):
        super().__init__(*args, **kwargs)
        if person is not None and person.date_of_birth:
            del self.fields["date_of_birth"]
        if person is not None and person.mobile:
            del self.fields["mobile"]

    def clean_date_of_birth(self):
        value = self.cleaned_data["date_of_birth"]
        return validate_birth_date(value) if value else None

    def clean_mobile(self):
        value = self.cleaned_data["mobile"].strip()
        return normalize_phone(value, mobile=True) if value else ""


class AccountDeleteForm(forms.Form):
    """Konto löschen: the current password proves it is the account holder asking."""

    password = forms.CharField(
        label=_("Bisheriges Passwort"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Bitte Ihr Passwort eingeben.")})
    confirm = forms.BooleanField(label=_("Ja, mein Konto soll gelöscht werden."),
                                 error_messages={"required": _("Bitte bestätigen Sie, dass Ihr Konto gelöscht "
                                                               "werden soll.")})

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        if self.user is None or not self.user.check_password(password):
            raise forms.ValidationError(_("Das Passwort ist nicht korrekt. Bitte geben Sie es erneut ein."))
        return password
