"""Mail and SMS texts an institution may override: the events, their placeholders, and a sandbox for them.

An override is plain text with placeholders written like Django variables, `{{ vorname }}`. It is parsed
by Django's template engine, but by an engine without a single tag or filter, and the result is then
checked node by node: only text and bare placeholders from the event's list may appear. So no
`{% include %}`, `{% debug %}`, `{% load %}`, no filter, no attribute lookup (`{{ einrichtung.… }}`) and
no literal: a text can never reach anything but the named, already formatted strings it is given at
send time (the values are plain `str`, never model objects). Refusing at save time means a text that
was saved can always be rendered; if one still fails (a row changed behind the editor's back, a
placeholder retired by an update), the sender falls back to the plugin's default text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.template import Context, Engine, TemplateSyntaxError
from django.template.base import TextNode, Variable, VariableNode
from django.utils.translation import gettext_lazy as _

from .messages import ENROLLMENT_EVENTS

# Placeholder (German, what editors type) -> the key of the formatted event values, and its label.
PLACEHOLDERS: dict[str, tuple[str, str]] = {
    "teilnehmer": ("participant", _("Name des Teilnehmers")),
    "vorname": ("participant_first_name", _("Vorname des Teilnehmers")),
    "angebot": ("offer", _("Titel des Angebots")),
    "einrichtung": ("institution_name", _("Name der Einrichtung")),
    "vertragsnummer": ("contract_number", _("Vertragsnummer")),
    "kundennummer": ("customer_number", _("Kundennummer")),
    "termin": ("interview", _("Gesprächstermin (Datum und Uhrzeit)")),
    "termin_datum": ("interview_date", _("Datum des Gesprächs")),
    "termin_uhrzeit": ("interview_time", _("Uhrzeit des Gesprächs")),
    "termin_ort": ("interview_place", _("Ort des Gesprächs")),
    "kosten": ("costs", _("Kosten in Euro")),
    "vertragsbeginn": ("contract_start", _("Vertragsbeginn")),
    "vertragsende": ("contract_end", _("Vertragsende")),
    "frist": ("deadline", _("Frist für das unterschriebene Angebot")),
    "nachweis_frist": ("proof_deadline", _("Frist für den Einkommensnachweis")),
    "platz_frist": ("place_deadline", _("Frist für die Annahme des Platzes")),
    "neue_frist": ("new_deadline", _("Neue Frist")),
    "frist_art": ("which_label", _("Welche Frist verlängert wurde")),
    "gilt_ab": ("fee_from", _("Änderung gilt ab")),
    "fehlt": ("missing", _("Was noch fehlt")),
    "vergaberunde": ("round", _("Name der Vergaberunde")),
    "wunsch": ("wish", _("Rang des Wunsches")),
    "wartelistenplatz": ("waiting_rank", _("Platz auf der Warteliste")),
    "begruendung": ("reason", _("Begründung")),
}
KEY_TO_PLACEHOLDER = {key: name for name, (key, _label) in PLACEHOLDERS.items()}
KEY_TO_PLACEHOLDER["interview_date"] = "termin_datum"
# Every enrollment mail knows who and what it is about.
COMMON = ("teilnehmer", "vorname", "angebot", "einrichtung", "vertragsnummer", "kundennummer")
PERCENT_KEY = re.compile(r"%\((\w+)\)s")

# The SMS the plugin sends with its own texts: a new password (#21).
SMS_PLACEHOLDERS: dict[str, tuple[str, str]] = {
    "passwort": ("password", _("das neue Passwort")),
    "mailadresse": ("email", _("Mailadresse zum Anmelden")),
    "einrichtung": ("institution_name", _("Name der Einrichtung")),
}

EVENT_LABELS = {
    "participant_enrolled": _("Anmeldung begonnen"),
    "submitted": _("Anmeldung eingegangen"),
    "invited": _("Einladung"),
    "decided_kandidat": _("Aufnahme als Kandidat"),
    "decided_abgelehnt": _("Ablehnung"),
    "reopened_bewerber": _("Anmeldung wieder geöffnet"),
    "reopened_angebot": _("Angebot wieder geöffnet"),
    "deadline_extended": _("Frist verlängert"),
    "classified": _("Eingestuft"),
    "offer_made": _("Angebot"),
    "accepted": _("Unterschriebenes Angebot eingegangen"),
    "upload_returned": _("Unterlagen zurückgewiesen"),
    "ratified": _("Vertrag ratifiziert"),
    "expired": _("Angebot abgelaufen"),
    "withdrawn": _("Anmeldung zurückgezogen"),
    "proof_requested": _("Einkommensnachweis angefordert"),
    "proof_overdue": _("Einkommensnachweis nicht eingegangen"),
    "fee_changed": _("Änderungsmitteilung"),
    "offer_reminder": _("Erinnerung an die Frist"),
    "proof_reminder": _("Erinnerung an den Nachweis"),
    "care_reminder": _("Erinnerung: Notfallkontakt und Abholberechtigte"),
    "allocation_placed": _("Platzvergabe: Platz erhalten"),
    "allocation_waiting": _("Platzvergabe: Warteliste"),
    "allocation_ineligible": _("Platzvergabe: nicht möglich"),
    "allocation_released": _("Platzvergabe: höherer Wunsch erfüllt"),
    "place_offered": _("Nachrücken: Platz angeboten"),
}

MAIL, SMS = "mail", "sms"
LANGUAGES = (("de", _("Deutsch")), ("en", _("Englisch")))


@dataclass(frozen=True)
class TextEvent:
    code: str
    channel: str  # MAIL: subject and body; SMS: one text
    label: str
    placeholders: tuple[str, ...]
    required: tuple[str, ...] = ()

    def placeholder_rows(self) -> list[tuple[str, str]]:
        table = SMS_PLACEHOLDERS if self.channel == SMS else PLACEHOLDERS
        return [(name, str(table[name][1])) for name in self.placeholders]


def _mail_placeholders(code: str) -> tuple[str, ...]:
    texts = ENROLLMENT_EVENTS[code]
    keys = PERCENT_KEY.findall(" ".join(str(t) for t in (texts["subject"], *texts["paragraphs"])))
    names = list(COMMON)
    for key in keys:
        name = KEY_TO_PLACEHOLDER.get(key)
        if name and name not in names:
            names.append(name)
    if "termin_datum" in names:
        names[names.index("termin_datum"):names.index("termin_datum")] = ["termin"]
        if "termin_ort" not in names:
            names.append("termin_ort")
    if texts.get("extra") == "reason" and "begruendung" not in names:
        names.append("begruendung")
    return tuple(names)


def _events() -> dict[str, TextEvent]:
    events = {code: TextEvent(code, MAIL, label, _mail_placeholders(code)) for code, label in EVENT_LABELS.items()}
    events["sms_password_issued"] = TextEvent("sms_password_issued", SMS, _("SMS: neues Passwort"),
                                              tuple(SMS_PLACEHOLDERS), required=("passwort",))
    return events


EVENTS = _events()
SMS_TEMPLATES = {"password_issued": "sms_password_issued"}  # outbox template -> event code


def default_texts(event: TextEvent) -> dict[str, str]:
    """The plugin's own text of an event in the active language, written with placeholders."""
    if event.channel == SMS:
        return {"sms": str(_("WorkPro: Ihr neues Passwort für {{ mailadresse }}: {{ passwort }} (72 Std. gültig). "
                             "Anmelden unter Mein Konto."))}
    texts = ENROLLMENT_EVENTS[event.code]

    def placeholders(text) -> str:
        return PERCENT_KEY.sub(lambda m: "{{ %s }}" % KEY_TO_PLACEHOLDER.get(m.group(1), m.group(1)), str(text))
    return {"subject": placeholders(texts["subject"]),
            "body": "\n\n".join(placeholders(p) for p in texts["paragraphs"])}


# --- the sandbox ---------------------------------------------------------------------------------

ENGINE = Engine(libraries={}, autoescape=False, string_if_invalid="")
# Django always adds its default tags and filters to an Engine's builtins: take them away again, so that a
# tag or filter is a syntax error already when the text is parsed.
ENGINE.template_builtins = []
ENGINE.template_libraries = {}


class PlaceholderError(ValueError):
    pass


def check(text: str, allowed: tuple[str, ...], *, required: tuple[str, ...] = ()) -> None:
    """Raise PlaceholderError (German) unless `text` is plain text with placeholders from `allowed`."""
    try:
        template = ENGINE.from_string(text)
    except TemplateSyntaxError as exc:
        if "{%" in text:
            raise PlaceholderError(_("Befehle in {% … %} sind nicht erlaubt, nur Platzhalter wie {{ vorname }}.")) \
                from exc
        raise PlaceholderError(_("Ein Platzhalter ist fehlerhaft geschrieben: nur {{ name }} ohne Filter ist "
                                 "erlaubt.")) from exc
    used = []
    for node in template.nodelist:
        if isinstance(node, TextNode):
            if "{{" in node.s or "}}" in node.s or "{%" in node.s or "%}" in node.s:
                raise PlaceholderError(_("Ein Platzhalter ist nicht vollständig: bitte als {{ name }} schreiben."))
            continue
        if not isinstance(node, VariableNode):
            raise PlaceholderError(_("Nur Platzhalter wie {{ vorname }} sind erlaubt."))
        expression = node.filter_expression
        var = expression.var
        if expression.filters or not isinstance(var, Variable) or var.literal is not None or \
                var.lookups is None or len(var.lookups) != 1:
            raise PlaceholderError(_("„%(placeholder)s“ ist kein erlaubter Platzhalter: nur {{ name }} ohne Punkt "
                                     "und ohne Filter.") % {"placeholder": "{{ %s }}" % expression.token})
        if var.var not in allowed:
            raise PlaceholderError(_("Den Platzhalter {{ %(name)s }} gibt es für diesen Text nicht. Möglich sind: "
                                     "%(allowed)s.") % {"name": var.var, "allowed": ", ".join(allowed)})
        used.append(var.var)
    missing = [name for name in required if name not in used]
    if missing:
        raise PlaceholderError(_("Der Platzhalter {{ %(name)s }} muss im Text vorkommen.") % {"name": missing[0]})


def render(text: str, values: dict[str, str]) -> str:
    """Fill a checked text; values are plain strings (nothing else can be reached from a placeholder)."""
    return ENGINE.from_string(text).render(Context({k: str(v) for k, v in values.items()}, autoescape=False))


def mail_values(values: dict) -> dict[str, str]:
    """The placeholders of an enrollment mail from its formatted event values (lib.messages.event_values)."""
    out = {name: str(values.get(key, "") or "") for name, (key, _label) in PLACEHOLDERS.items()}
    if values.get("interview_date"):
        out["termin"] = str(_("%(date)s um %(time)s Uhr") % {"date": values["interview_date"],
                                                             "time": values.get("interview_time", "")})
    return out


def sms_values(values: dict) -> dict[str, str]:
    return {name: str(values.get(key, "") or "") for name, (key, _label) in SMS_PLACEHOLDERS.items()}


def paragraphs(body: str) -> list[str]:
    """A body's paragraphs: separated by a blank line."""
    return [p.strip() for p in re.split(r"\n\s*\n", body.replace("\r\n", "\n")) if p.strip()]
