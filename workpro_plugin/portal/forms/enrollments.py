"""Forms of an enrollment in Mein Konto: choosing the participant, uploading documents and the signed copy."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ...lib.form_fields import clean_name, validate_birth_date
from ...lib.people import age_on


class ParticipantChoiceForm(forms.Form):
    """Zum Angebot anmelden: yourself, a person already in the account, or a new child."""

    NEW = "neu"
    # Sent with the choice: a POST without it is the offer page's button asking for the form.
    MARKER = "teilnehmer_waehlen"

    participant = forms.ChoiceField(label=_("Wer soll teilnehmen?"), widget=forms.RadioSelect,
                                    error_messages={"required": _("Bitte wählen Sie den Teilnehmer.")})
    last_name = forms.CharField(label=_("Name"), max_length=150, required=False)
    first_name = forms.CharField(label=_("Vorname"), max_length=150, required=False)
    date_of_birth = forms.DateField(label=_("Geburtsdatum"), required=False,
                                    widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                    error_messages={"invalid": _("Bitte ein Datum im Format TT.MM.JJJJ eingeben.")})
    relation = forms.ChoiceField(label=_("Ihre Beziehung zum Kind"), required=False, choices=[
        ("mutter", _("Mutter")), ("vater", _("Vater")), ("vormund", _("Vormund")),
        ("sonstige", _("Sonstige sorgeberechtigte Person"))])
    custody = forms.BooleanField(
        label=_("Ich bin personensorgeberechtigt und übernehme als PSB1 die Anmeldung."), required=False)

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.people = {str(person.pk): person for person in people}
        self.fields["participant"].choices = [
            *[(pk, person.full_name) for pk, person in self.people.items()],
            (self.NEW, _("ein weiteres Kind, für das ich sorgeberechtigt bin")),
        ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("participant") != self.NEW:
            return cleaned
        for name in ("last_name", "first_name", "date_of_birth"):
            if not cleaned.get(name):
                self.add_error(name, _("Bitte ausfüllen."))
        for name in ("last_name", "first_name"):
            if cleaned.get(name):
                try:
                    cleaned[name] = clean_name(cleaned[name])
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
        born = cleaned.get("date_of_birth")
        if born:
            age = age_on(born, timezone.localdate())
            try:
                validate_birth_date(born)
            except forms.ValidationError as exc:
                self.add_error("date_of_birth", exc)
            if age >= 18:
                self.add_error("date_of_birth", _("Volljährige registrieren sich bitte selbst mit eigener Mailadresse."))
        if not cleaned.get("custody"):
            self.add_error("custody", _("Nur Personensorgeberechtigte können ein Kind anmelden."))
        return cleaned


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data] or single(None, initial)
        return [single(data, initial)]


class SignedUploadForm(forms.Form):
    """Angebot annehmen: the signed contract as scan(s) or photo(s)."""

    files = MultipleFileField(label=_("Unterschriebenes Angebot (PDF, JPEG oder PNG, mehrere Seiten möglich)"),
                              error_messages={"required": _("Bitte wählen Sie mindestens eine Datei aus.")})


class DocumentUploadForm(forms.Form):
    file = forms.FileField(label=_("Datei (PDF, JPEG oder PNG)"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
                           error_messages={"required": _("Bitte wählen Sie eine Datei aus.")})
