"""The demo offers' own questions (#23) and plausible answers for the demo families.

Children's offers ask what a KiTa or Hort needs (Allergien, Eingewöhnung, Betreuungsumfang, Schule und
Klasse) instead of school degrees and jobs; the training offers ask for Führerschein and Vorbildung.
The ids are fixed, so loading the demo again gives the same questions.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from workpro_plugin.lib.questions import QUESTION_SECTIONS, questions_of_section

HOURS = ["bis 30 Stunden pro Woche", "bis 40 Stunden pro Woche", "bis 45 Stunden pro Woche"]
DAYS = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag"]


def _q(kind: str, qid: str, label: str, *, help_text: str = "", required: bool = True, phase: int = 1,
       choices: list[str] | None = None) -> dict:
    value = {"label": label, "help_text": help_text, "required": required, "phase": str(phase)}
    if choices is not None:
        value["choices"] = "\n".join(choices)
    return {"type": kind, "id": qid, "value": value}


def _kita(prefix: str, *, lunch: bool = False) -> list[dict]:
    questions = [
        _q("date", f"{prefix}-eingewoehnung", "Eingewöhnung gewünscht ab",
           help_text="Die Eingewöhnung dauert zwei bis vier Wochen; ein Elternteil begleitet sie."),
        _q("choice", f"{prefix}-betreuungsumfang", "Betreuungsumfang", choices=HOURS),
        _q("long_text", f"{prefix}-allergien", "Allergien und Unverträglichkeiten", required=False,
           help_text="z. B. Nüsse, Laktose; leer lassen, wenn keine bekannt sind."),
    ]
    if lunch:
        questions.append(_q("yes_no", f"{prefix}-mittagessen", "Teilnahme am Mittagessen"))
    questions.append(_q("file", f"{prefix}-masernschutz", "Nachweis über den Masernschutz", required=False,
                        phase=2, help_text="Impfausweis oder ärztliche Bescheinigung (PDF, JPEG oder PNG)."))
    return questions


DEMO_QUESTIONS = {
    "krippenplatz": _kita("krippe"),
    "kindergartenplatz": _kita("kiga", lunch=True),
    "hortplatz": [
        _q("short_text", "hort-schule", "Schule und Klasse", help_text="z. B. „Lindenschule, Klasse 1b“"),
        _q("multiple_choice", "hort-tage", "Betreuungstage", choices=DAYS),
        _q("long_text", "hort-allergien", "Allergien und Unverträglichkeiten", required=False),
        _q("yes_no", "hort-heimweg", "Darf Ihr Kind den Heimweg allein antreten?", phase=2),
    ],
    "ausbildung-fachinformatiker": [
        _q("choice", "fi-fuehrerschein", "Führerschein", choices=["keiner", "Klasse B", "Klasse B und weitere"]),
        _q("long_text", "fi-vorbildung", "Vorbildung und Erfahrung in der IT", required=False,
           help_text="z. B. Praktika, Informatikkurse, eigene Projekte."),
    ],
    "umschulung-pflegefachkraft": [
        _q("yes_no", "pflege-fuehrerschein", "Führerschein Klasse B vorhanden",
           help_text="Für die Einsätze in der ambulanten Pflege."),
        _q("long_text", "pflege-vorbildung", "Vorbildung und Erfahrung in der Pflege", required=False),
        _q("date", "pflege-gutschein", "Bildungsgutschein ausgestellt am", required=False),
    ],
    "sprachkurs-deutsch-b1": [
        _q("choice", "dtz-vorkenntnisse", "Vorkenntnisse Deutsch", choices=["A1", "A2", "B1 (teilweise)"]),
    ],
    "krippe-regenbogenkinder": _kita("regenbogen"),
    "krippe-wolkenkinder": _kita("wolken"),
}

# Children's offers: no school degree, no job; the allergies are asked as an own question above.
DEMO_OMITTED = {
    "krippenplatz": "health.allergies",
    "kindergartenplatz": "health.allergies",
}


def _answer(question: dict):
    kind = question["type"]
    today = timezone.localdate()
    if kind == "date":
        return date(today.year + (today.month >= 8), 8, 1).isoformat()
    if kind == "choice":
        return question["choices"][min(1, len(question["choices"]) - 1)]
    if kind == "multiple_choice":
        return question["choices"][:3]
    if kind == "yes_no":
        return True
    if kind == "number":
        return "35"
    if kind == "short_text":
        return "Lindenschule, Klasse 1b" if "Schule" in question["label"] else "–"
    if kind == "long_text":
        return "keine bekannt" if "Allergien" in question["label"] else ""
    return None  # files are left to the family


def answer_demo_questions(enrollment, by, *, phase: int) -> None:
    """Answer the questions of `phase` of the enrollment's offer like a family would (through the service)."""
    from workpro_plugin.services import applications

    for section, section_phase in QUESTION_SECTIONS.items():
        if section_phase != phase:
            continue
        questions = questions_of_section(enrollment.question_definitions, section)
        if questions:
            applications.questions_save(enrollment=enrollment, by=by, section=section, is_complete=True,
                                        answers={q["id"]: _answer(q) for q in questions})
