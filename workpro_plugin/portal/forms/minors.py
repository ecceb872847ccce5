"""Forms for minors in Mein Konto: the participant's own login, Notfallkontakt and Abholberechtigte."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ...lib.phones import normalize_phone
from ...services.documents import UploadError
from ...services.minors import process_passport_photo


class ParticipantLoginForm(forms.Form):
    """PSB1 gives a minor participant an own login."""

    email = forms.EmailField(label=_("Eigene Mailadresse des Teilnehmers"), max_length=254,
                             help_text=_("An diese Adresse senden wir die Anmeldedaten. Der Teilnehmer kann damit "
                                         "Anwendungen, Nachrichten und eigene Dokumente nutzen, aber keine "
                                         "Verträge verwalten."),
                             error_messages={"required": _("Bitte eine Mailadresse eingeben."),
                                             "invalid": _("Bitte eine gültige Mailadresse eingeben.")})

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()


class CareContactForm(forms.Form):
    """Notfallkontakt: name, relation and a phone number that can be called."""

    name = forms.CharField(label=_("Name"), max_length=200,
                           error_messages={"required": _("Bitte den Namen eingeben.")})
    relation = forms.CharField(label=_("Beziehung zum Kind"), max_length=100,
                               help_text=_("z. B. Großmutter, Nachbar, Tante"),
                               error_messages={"required": _("Bitte die Beziehung zum Kind eingeben.")})
    phone = forms.CharField(label=_("Telefon"), max_length=40,
                            error_messages={"required": _("Bitte eine Telefonnummer eingeben.")})

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())

    def clean_relation(self):
        return " ".join(self.cleaned_data["relation"].split())

    def clean_phone(self):
        return normalize_phone(self.cleaned_data["phone"].strip())


class PickupPersonForm(CareContactForm):
    """Abholberechtigte: as a contact, plus a current passport photo (required for a new person)."""

    photo = forms.FileField(label=_("Aktuelles Passfoto (JPEG oder PNG)"), required=False,
                            widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
                            help_text=_("Höchstens 8 MB. Wir speichern das Foto ohne Metadaten (z. B. Aufnahmeort)."))

    def __init__(self, *args, photo_required: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.photo_required = photo_required

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if not photo:
            if self.photo_required:
                raise forms.ValidationError(_("Bitte ein aktuelles Passfoto hochladen."))
            return None
        try:
            self.processed_photo = process_passport_photo(photo)
        except UploadError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return photo
