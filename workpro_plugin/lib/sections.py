"""The application sections: one schema for the portal forms, the printed application and the admin.

Each section is a form (fields, labels, validation); its draft data lives in
EnrollmentSection.data (JSON). ``rows_for_section`` prints stored data as (label, value) rows
from the same form fields, so the PDF and the admin show exactly what the form asked for.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django import forms
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import ApplicationSection
from .form_fields import clean_name, validate_birth_date
from .formats import format_date, format_money
from .phones import normalize_phone

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATE_ERRORS = {"invalid": _("Bitte ein Datum im Format TT.MM.JJJJ eingeben."),
               "required": _("Bitte ein Datum eingeben.")}


def to_json(value):
    if isinstance(value, (date, Decimal)):
        return value.isoformat() if isinstance(value, date) else str(value)
    return value


class PersonalForm(forms.Form):
    """Persönliche Daten des Teilnehmers (stored on the Person, mirrored into the section)."""

    last_name = forms.CharField(label=_("Name"), max_length=150)
    first_name = forms.CharField(label=_("Vorname"), max_length=150)
    date_of_birth = forms.DateField(label=_("Geburtsdatum"), widget=DATE_WIDGET, error_messages=DATE_ERRORS)
    street = forms.CharField(label=_("Straße und Hausnummer"), max_length=200)
    postcode = forms.RegexField(label=_("PLZ"), regex=r"^[0-9]{5}\Z", max_length=5,
                                error_messages={"invalid": _("Bitte eine fünfstellige Postleitzahl eingeben.")})
    city = forms.CharField(label=_("Ort"), max_length=100)
    email = forms.EmailField(label=_("Mailadresse"), required=False,
                             error_messages={"invalid": _("Bitte eine gültige Mailadresse eingeben.")})
    mobile = forms.CharField(label=_("Handynummer"), required=False, max_length=40,
                             help_text=_("Für ein neues Passwort per SMS."))

    def __init__(self, *args, for_account_holder: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not for_account_holder:
            # Only an account holder asks for a new password by SMS: a child's form has no mobile.
            del self.fields["mobile"]

    def clean_last_name(self):
        return clean_name(self.cleaned_data["last_name"])

    def clean_first_name(self):
        return clean_name(self.cleaned_data["first_name"])

    def clean_date_of_birth(self):
        return validate_birth_date(self.cleaned_data["date_of_birth"])

    def clean_mobile(self):
        value = self.cleaned_data["mobile"].strip()
        return normalize_phone(value, mobile=True) if value else ""


class GuardianEntryForm(forms.Form):
    last_name = forms.CharField(label=_("Name"), max_length=150)
    first_name = forms.CharField(label=_("Vorname"), max_length=150)
    relation = forms.ChoiceField(label=_("Beziehung"), choices=[
        ("", _("bitte wählen")), ("mutter", _("Mutter")), ("vater", _("Vater")), ("vormund", _("Vormund")),
        ("sonstige", _("Sonstige sorgeberechtigte Person"))])
    phone = forms.CharField(label=_("Telefon"), max_length=40, required=False)
    email = forms.EmailField(label=_("Mailadresse"), required=False)

    def clean_phone(self):
        value = self.cleaned_data["phone"].strip()
        return normalize_phone(value) if value else ""


# absolute_max: a forged TOTAL_FORMS of 10^6 builds (and renders) at most this many forms, not max_num + 1000.
GuardianFormSet = formset_factory(GuardianEntryForm, extra=1, max_num=3, validate_max=True, can_delete=True,
                                  absolute_max=4)


class EarnerForm(forms.Form):
    name = forms.CharField(label=_("Name des Einkommensbeziehers"), max_length=150)
    relation = forms.CharField(label=_("Beziehung zum Teilnehmer"), max_length=80, required=False)
    annual_income = forms.DecimalField(label=_("Jahreseinkommen brutto (€)"), min_value=0, max_value=10_000_000,
                                       max_digits=11, decimal_places=2, localize=True,
                                       error_messages={"invalid": _("Bitte einen Betrag in Euro eingeben."),
                                                       "min_value": _("Das Einkommen darf nicht negativ sein."),
                                                       "max_value": _("Bitte einen realistischen Betrag eingeben.")})


EarnerFormSet = formset_factory(EarnerForm, extra=1, max_num=10, validate_max=True, min_num=1, validate_min=True,
                                can_delete=True, absolute_max=11)


class EducationForm(forms.Form):
    school = forms.CharField(label=_("Zuletzt besuchte Schule oder Einrichtung"), max_length=200)
    graduation = forms.CharField(label=_("Höchster Abschluss"), max_length=200, required=False)
    graduation_year = forms.IntegerField(label=_("Jahr des Abschlusses"), required=False, min_value=1950,
                                         max_value=2100)
    current_activity = forms.CharField(label=_("Derzeitige Tätigkeit"), max_length=200, required=False)

    def clean_graduation_year(self):
        year = self.cleaned_data.get("graduation_year")
        if year and year > timezone.localdate().year + 1:
            raise forms.ValidationError(_("Das Jahr liegt zu weit in der Zukunft."))
        return year


class HealthForm(forms.Form):
    allergies = forms.CharField(label=_("Allergien und Unverträglichkeiten"), required=False, max_length=1000,
                                widget=forms.Textarea(attrs={"rows": 2}))
    medication = forms.CharField(label=_("Regelmäßige Medikamente"), required=False, max_length=1000,
                                 widget=forms.Textarea(attrs={"rows": 2}))
    diet = forms.CharField(label=_("Ernährung"), required=False, max_length=500)
    notes = forms.CharField(label=_("Weitere Hinweise zur Betreuung"), required=False, max_length=2000,
                            widget=forms.Textarea(attrs={"rows": 3}))
    confirmed = forms.BooleanField(label=_("Die Angaben sind vollständig und richtig."),
                                   error_messages={"required": _("Bitte bestätigen Sie Ihre Angaben.")})


SIMPLE_FORMS = {"personal": PersonalForm, "education": EducationForm, "health": HealthForm}

# Optional questions an editor may leave out per offer ("section.field"): a Hort does not ask a
# child for a school degree or a job. Required questions and the mobile (see PersonalForm) are not listed.
OPTIONAL_QUESTION_SECTIONS = {
    "personal": ("email",),
    "education": ("graduation", "graduation_year", "current_activity"),
    "health": ("allergies", "medication", "diet", "notes"),
}


def optional_question_choices() -> list[tuple[str, str]]:
    labels = dict(ApplicationSection.choices)
    return [(f"{section}.{name}", f"{labels[section]}: {SIMPLE_FORMS[section].base_fields[name].label}")
            for section, names in OPTIONAL_QUESTION_SECTIONS.items() for name in names]


def omit_questions(form: forms.Form, section: str, omitted) -> forms.Form:
    """Drop the optional questions of `section` that the offer leaves out (codes "section.field")."""
    for code in omitted:
        owner, _dot, name = code.partition(".")
        if owner == section and name in OPTIONAL_QUESTION_SECTIONS.get(section, ()):
            form.fields.pop(name, None)
    return form

def _display(value) -> str:
    if value in (None, "", []):
        return "–"
    if value is True:
        return str(_("ja"))
    if value is False:
        return str(_("nein"))
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        return format_date(value)
    return str(value)


def rows_for_section(code: str, data: dict) -> list[tuple[str, str]]:
    """(label, value) rows of a section, in form order, for the printed application."""
    if code in SIMPLE_FORMS:
        form = SIMPLE_FORMS[code]()
        # An optional question the form did not ask (e.g. a child's mobile) is not printed as "–".
        return [(str(field.label), _display(data.get(name))) for name, field in form.fields.items()
                if name in data or field.required or not data]
    if code == "guardians":
        rows = []
        for index, entry in enumerate(data.get("guardians", []), start=1):
            relation = dict(GuardianEntryForm.base_fields["relation"].choices).get(entry.get("relation"), "")
            rows.append((f"{_('Weitere sorgeberechtigte Person')} {index}",
                         ", ".join(filter(None, [f"{entry.get('first_name', '')} {entry.get('last_name', '')}".strip(),
                                                 str(relation), entry.get("phone", ""), entry.get("email", "")]))))
        return rows or [(str(_("Weitere sorgeberechtigte Personen")), "–")]
    if code == "income":
        if not data.get("earners"):  # not filled in yet: no "Jahreseinkommen 0,00 €"
            return [(str(_("Jahreseinkommen des Haushalts gesamt")), str(_("noch nicht angegeben")))]
        rows = []
        total = Decimal(0)
        for entry in data.get("earners", []):
            amount = Decimal(str(entry.get("annual_income") or 0))
            total += amount
            label = entry.get("name", "")
            if entry.get("relation"):
                label += f" ({entry['relation']})"
            rows.append((label, format_money(amount)))
        rows.append((str(_("Jahreseinkommen des Haushalts gesamt")), format_money(total)))
        return rows
    if code == "uploads":
        return [(item.get("title", ""), _("hochgeladen am %(date)s") % {"date": _display(item.get("date"))})
                for item in data.get("documents", [])] or [(str(_("Nachweise")), "–")]
    return [(key, _display(value)) for key, value in data.items()]
