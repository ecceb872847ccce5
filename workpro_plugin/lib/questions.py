"""The offer's own questions: definitions, their form, the stored answers and how they print.

An editor composes the questions as StreamField blocks on the offer (blocks.OfferQuestionsBlock).
`definitions_of` turns them into plain dicts ({"id", "type", "label", "help_text", "required",
"phase", "choices"}); an enrollment keeps the definitions it was filled in under (its version),
so a changed offer never changes or breaks an application already started. The answers live in
the EnrollmentSection of the phase (`QUESTION_SECTIONS`) as {"answers": {question id: value}}.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from .formats import format_date

# Section codes of the questions, by phase (1: Bewerber, 2: Kandidat).
QUESTIONS = "questions"
QUESTIONS_CANDIDATE = "questions_candidate"
QUESTION_SECTIONS = {QUESTIONS: 1, QUESTIONS_CANDIDATE: 2}
QUESTION_SECTION_LABELS = {QUESTIONS: _("Fragen der Einrichtung"),
                           QUESTIONS_CANDIDATE: _("Fragen der Einrichtung (als Kandidat)")}
QUESTION_TYPES = ("short_text", "long_text", "number", "date", "yes_no", "choice", "multiple_choice", "file")
YES, NO = "ja", "nein"

REQUIRED = _("Bitte beantworten Sie diese Frage.")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def definitions_of(stream) -> list[dict]:
    """The questions of an offer's StreamField value as plain, JSON-able dicts (in order)."""
    result = []
    for child in stream or []:
        if child.block_type not in QUESTION_TYPES or not child.id:
            continue
        value = child.value
        choices = [line.strip() for line in (value.get("choices") or "").splitlines() if line.strip()] \
            if child.block_type in ("choice", "multiple_choice") else []
        result.append({"id": str(child.id), "type": child.block_type, "label": str(value.get("label") or ""),
                       "help_text": str(value.get("help_text") or ""), "required": bool(value.get("required")),
                       "phase": 2 if str(value.get("phase")) == "2" else 1, "choices": choices})
    return result


def section_for_phase(phase: int) -> str:
    return QUESTIONS_CANDIDATE if phase == 2 else QUESTIONS


def questions_of_section(definitions: list[dict], section: str) -> list[dict]:
    phase = QUESTION_SECTIONS.get(section)
    return [q for q in definitions or [] if q.get("phase", 1) == phase]


def field_name(question: dict) -> str:
    return f"q_{question['id']}"


class _DateField(forms.DateField):
    def validate(self, value):
        super().validate(value)
        if value and not 1900 <= value.year <= 2100:
            raise forms.ValidationError(_("Bitte ein Datum zwischen 1900 und 2100 eingeben."))


def _field(question: dict, stored):
    required = bool(question.get("required"))
    common = {"label": question.get("label", ""), "help_text": question.get("help_text", ""),
              "required": required}
    kind = question.get("type")
    if kind == "long_text":
        return forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                               error_messages={"required": REQUIRED}, **common)
    if kind == "number":
        return forms.DecimalField(max_digits=12, decimal_places=2, localize=True, min_value=-10**9, max_value=10**9,
                                  error_messages={"required": REQUIRED, "invalid": _("Bitte eine Zahl eingeben."),
                                                  "max_decimal_places": _("Höchstens zwei Nachkommastellen."),
                                                  "max_digits": _("Bitte eine kleinere Zahl eingeben."),
                                                  "max_whole_digits": _("Bitte eine kleinere Zahl eingeben.")},
                                  **common)
    if kind == "date":
        return _DateField(widget=DATE_WIDGET, error_messages={
            "required": REQUIRED, "invalid": _("Bitte ein Datum im Format TT.MM.JJJJ eingeben.")}, **common)
    if kind == "yes_no":
        return forms.ChoiceField(choices=[(YES, _("ja")), (NO, _("nein"))], widget=forms.RadioSelect,
                                 error_messages={"required": REQUIRED,
                                                 "invalid_choice": _("Bitte „ja“ oder „nein“ wählen.")}, **common)
    if kind == "choice":
        options = question.get("choices") or []
        return forms.ChoiceField(choices=[("", _("bitte wählen"))] + [(o, o) for o in options],
                                 error_messages={"required": REQUIRED,
                                                 "invalid_choice": _("Bitte eine der Möglichkeiten wählen.")},
                                 **common)
    if kind == "multiple_choice":
        options = question.get("choices") or []
        return forms.MultipleChoiceField(choices=[(o, o) for o in options], widget=forms.CheckboxSelectMultiple,
                                         error_messages={"required": _("Bitte mindestens eine Möglichkeit wählen."),
                                                         "invalid_choice": _("Bitte nur die angebotenen "
                                                                             "Möglichkeiten wählen.")}, **common)
    if kind == "file":
        # A file uploaded before stays the answer: the question is then no longer required.
        common["required"] = required and not (isinstance(stored, dict) and stored.get("document"))
        if isinstance(stored, dict) and stored.get("name"):
            common["help_text"] = " ".join(filter(None, [str(common["help_text"]), str(_(
                "Bereits hochgeladen: %(name)s. Eine neue Datei ersetzt sie.") % {"name": stored["name"]})]))
        return forms.FileField(error_messages={"required": REQUIRED, "empty": _("Die Datei ist leer.")}, **common)
    return forms.CharField(max_length=200, error_messages={"required": REQUIRED}, **common)


def _initial(question: dict, value):
    if question.get("type") == "yes_no":
        return {True: YES, False: NO}.get(value, value if value in (YES, NO) else None)
    if question.get("type") == "file":
        return None
    return value


class QuestionsForm(forms.Form):
    """The questions of one phase; `answers` are the stored ones (answers or a draft as typed)."""

    def __init__(self, *args, questions: list[dict], answers: dict | None = None, **kwargs):
        answers = answers or {}
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            name = field_name(question)
            stored = answers.get(question["id"])
            self.fields[name] = _field(question, stored)
            if stored not in (None, "", []):
                self.initial[name] = _initial(question, stored)

    @property
    def has_files(self) -> bool:
        return any(q.get("type") == "file" for q in self.questions)

    def answers(self) -> dict:
        """The cleaned answers as JSON (files excluded: the service stores those as documents)."""
        result = {}
        for question in self.questions:
            value = self.cleaned_data.get(field_name(question))
            kind = question.get("type")
            if kind == "file":
                continue
            if kind == "yes_no":
                value = {YES: True, NO: False}.get(value)
            elif isinstance(value, datetime.date):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = str(int(value)) if value == value.to_integral() else str(value)
            result[question["id"]] = value if value not in ("",) else None
        return result

    def uploads(self) -> dict:
        """{question id: uploaded file} of the file questions answered in this request."""
        return {q["id"]: self.cleaned_data.get(field_name(q)) for q in self.questions
                if q.get("type") == "file" and self.cleaned_data.get(field_name(q))}

    def raw_answers(self) -> dict:
        """What was typed, even if invalid (NUL characters dropped: PostgreSQL refuses them)."""
        result = {}
        for question in self.questions:
            name = field_name(question)
            if question.get("type") == "file":
                continue
            if question.get("type") == "multiple_choice":
                values = self.data.getlist(name) if hasattr(self.data, "getlist") else self.data.get(name, [])
                result[question["id"]] = [str(v).replace("\x00", "")[:200] for v in values][:50]
            else:
                result[question["id"]] = str(self.data.get(name, "")).replace("\x00", "")[:2000]
        return result


def display_answer(question: dict, value) -> str:
    if value in (None, "", []):
        return "–"
    kind = question.get("type")
    if kind == "yes_no" or isinstance(value, bool):
        return str(_("ja")) if value in (True, YES) else str(_("nein")) if value in (False, NO) else str(value)
    if kind == "date":
        return format_date(value)
    if kind == "number":
        try:
            return f"{Decimal(str(value)):f}".replace(".", ",")
        except (InvalidOperation, ValueError):
            return str(value)
    if kind == "multiple_choice" and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if kind == "file" and isinstance(value, dict):
        return str(_("%(name)s (hochgeladen am %(date)s)") % {"name": value.get("name", ""),
                                                             "date": format_date(value.get("date"))})
    return str(value)


def question_rows(questions: list[dict], answers: dict) -> list[tuple[str, str]]:
    """(label, answer) rows, each with the label it was asked under."""
    return [(q.get("label", ""), display_answer(q, (answers or {}).get(q["id"]))) for q in questions]


def answers_text(questions: list[dict], sections: dict[str, dict]) -> str:
    """All answers of an enrollment as one line ("Frage: Antwort; ..."), for the spreadsheet export."""
    parts = []
    for section in QUESTION_SECTIONS:
        answers = (sections.get(section) or {}).get("answers") or {}
        parts += [f"{label}: {value}" for label, value in question_rows(questions_of_section(questions, section),
                                                                         answers)]
    return "; ".join(parts)
