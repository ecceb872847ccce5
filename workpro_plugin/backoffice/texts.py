"""Mail- und SMS-Texte and Vertragsbedingungen of an institution in the Wagtail admin.

The Leitung of an institution (or its staff holding "edit_texts") overrides the subject and text of
each event's mail and the SMS text, in German and English, beside the list of placeholders that event
offers, with a preview for a real enrollment of the institution; and writes the institution's contract
terms. Another institution's texts do not exist for them (404); staff without the permission are refused.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.rich_text import DraftailRichTextArea

from ..access import may_edit_texts
from ..lib import mail_texts
from ..models import TERM_FIELDS
from ..models.texts import TERM_FEATURES
from ..selectors.institutions import staff_institutions
from ..selectors.texts import (
    institution_terms,
    mail_text,
    overridden_events,
    preview_enrollments,
    text_institutions,
)
from ..services import texts as svc
from .shortcuts import staff_object_or_404

FIELD_LABELS = {"subject": gettext_lazy("Betreff"), "body": gettext_lazy("Text"), "sms": gettext_lazy("SMS-Text")}
LIMITS = {"subject": 200, "body": 5000, "sms": 320}


def _institution(request, pk):
    """The institution `pk` among the user's; another institution's is a 404, without permission refused."""
    institution = staff_object_or_404(staff_institutions(request.user), pk, request=request,
                                      object_type="workpro_plugin.institution")
    if not may_edit_texts(request.user, institution):
        raise PermissionDenied
    return institution


class MailTextForm(forms.Form):
    """The texts of one event in both languages; each field is checked like the service checks it."""

    def __init__(self, *args, event: mail_texts.TextEvent, enrollments, **kwargs):
        super().__init__(*args, **kwargs)
        self.event = event
        for language, language_label in mail_texts.LANGUAGES:
            for field in svc.fields_of(event):
                widget = forms.Textarea(attrs={"rows": 8 if field == "body" else 3}) if field != "subject" \
                    else forms.TextInput()
                self.fields[f"{field}_{language}"] = forms.CharField(
                    label=f"{FIELD_LABELS[field]} ({language_label})", required=False, max_length=LIMITS[field],
                    widget=widget, strip=False)
        self.fields["preview_language"] = forms.ChoiceField(
            label=_("Sprache der Vorschau"), choices=mail_texts.LANGUAGES, required=False, initial="de")
        self.fields["preview_enrollment"] = forms.TypedChoiceField(
            label=_("Anmeldung für die Vorschau"), required=False, coerce=int, empty_value=None,
            choices=[(e.pk, f"{e.contract_number or '–'} {e.participant.full_name}: {e.offer.title}")
                     for e in enrollments])
        self.enrollments = {e.pk: e for e in enrollments}

    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            if name.startswith("preview_") or not (value or "").strip():
                continue
            try:
                mail_texts.check(value, self.event.placeholders, required=self.event.required)
            except mail_texts.PlaceholderError as exc:
                self.add_error(name, str(exc))
        return cleaned

    def texts(self) -> dict[str, dict[str, str]]:
        return {language: {field: self.cleaned_data.get(f"{field}_{language}", "") for field in svc.fields_of(self.event)}
                for language, _label in mail_texts.LANGUAGES}

    def language_fields(self):
        return [(label, [self[f"{field}_{language}"] for field in svc.fields_of(self.event)])
                for language, label in mail_texts.LANGUAGES]


def _initial(institution, event: mail_texts.TextEvent) -> dict:
    """The own text where there is one, else the plugin's text (so the editor starts from it)."""
    initial = {}
    for language, _label in mail_texts.LANGUAGES:
        with translation.override(language):
            defaults = mail_texts.default_texts(event)
        row = mail_text(institution_id=institution.pk, event=event.code, language=language)
        for field in svc.fields_of(event):
            initial[f"{field}_{language}"] = (getattr(row, field, "") if row else "") or defaults[field]
    return initial


def texts_index(request):
    institutions = list(text_institutions(request.user).select_related("operator"))
    if not institutions:
        raise Http404
    rows = []
    overridden = overridden_events([institution.pk for institution in institutions])
    for institution in institutions:
        own = overridden.get(institution.pk, {})
        rows.append((institution, [(event, sorted(own.get(code, ()))) for code, event in mail_texts.EVENTS.items()]))
    return TemplateResponse(request, "workpro_plugin/admin/texts_index.html", {"rows": rows})


def text_edit(request, pk, event):
    institution = _institution(request, pk)
    spec = mail_texts.EVENTS.get(event)
    if spec is None:
        raise Http404
    enrollments = list(preview_enrollments(institution))
    form = MailTextForm(request.POST or None, event=spec, enrollments=enrollments,
                        initial=None if request.method == "POST" else _initial(institution, spec))
    preview = None
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            language = form.cleaned_data.get("preview_language") or "de"
            enrollment = form.enrollments.get(form.cleaned_data.get("preview_enrollment")) or \
                (enrollments[0] if enrollments else None)
            preview = svc.preview(institution=institution, event=spec.code, language=language,
                                  texts=form.texts()[language], enrollment=enrollment)
        else:
            try:
                changed = svc.mail_text_save(institution=institution, event=spec.code, texts=form.texts(),
                                             by=request.user)
            except svc.TextError as exc:
                exc.add_to(form)
            else:
                messages.success(request, _("Texte „%(event)s“ gespeichert.") % {"event": spec.label} if changed
                                 else _("Keine Änderung."))
                return redirect("workpro_admin:texts_index")
    return TemplateResponse(request, "workpro_plugin/admin/text_edit.html", {
        "institution": institution, "event": spec, "form": form, "preview": preview,
        "placeholders": spec.placeholder_rows(), "is_sms": spec.channel == mail_texts.SMS,
    }, status=400 if form.errors else 200)


class Unreadable(str):
    """What the editor sent could not be read as the editor's content state (no 500, an error at the field)."""


class RichTextInput(DraftailRichTextArea):
    def value_from_datadict(self, data, files, name):
        if not (data.get(name) or "").strip():
            return ""
        try:
            return super().value_from_datadict(data, files, name)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError, AssertionError):
            return Unreadable("")


class RichTextField(forms.CharField):
    def validate(self, value):
        if isinstance(value, Unreadable):
            raise forms.ValidationError(_("Der Text konnte nicht gelesen werden. Bitte laden Sie die Seite neu und "
                                          "geben Sie ihn erneut ein."))
        super().validate(value)

    def to_python(self, value):
        return value if isinstance(value, Unreadable) else super().to_python(value)


class TermsForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in TERM_FIELDS:
            self.fields[key] = RichTextField(label=label, required=False, max_length=100_000,
                                             widget=RichTextInput(features=TERM_FEATURES))


def terms_edit(request, pk):
    institution = _institution(request, pk)
    terms = institution_terms(institution)
    form = TermsForm(request.POST or None,
                     initial={key: getattr(terms, key, "") for key, _label in TERM_FIELDS})
    if request.method == "POST" and form.is_valid():
        changed = svc.contract_terms_save(institution=institution, by=request.user, **form.cleaned_data)
        messages.success(request, _("Vertragsbedingungen von „%(name)s“ gespeichert.") % {"name": institution.name}
                         if changed else _("Keine Änderung."))
        return redirect("workpro_admin:texts_index")
    return TemplateResponse(request, "workpro_plugin/admin/terms_edit.html", {
        "institution": institution, "form": form,
    }, status=400 if form.errors else 200)


admin_urls = [
    path("texte/", texts_index, name="texts_index"),
    path("texte/<int:pk>/vertragsbedingungen/", terms_edit, name="terms_edit"),
    path("texte/<int:pk>/<slug:event>/", text_edit, name="text_edit"),
]
