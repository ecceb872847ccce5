"""Texts of the enrollment mails, per event; rendered in the recipient's language.

Each event has a subject and paragraphs; placeholders are filled from the outbox
context (participant, offer, contract_number, dates, costs, reason ...).
"""

from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext_lazy as _

from .choices import DeadlineKind

ENROLLMENT_EVENTS = {
    "care_reminder": {
        "subject": _("Bitte ergänzen: Notfallkontakt und Abholberechtigte für %(participant)s"),
        "paragraphs": [
            _("der Vertrag von %(participant)s zu „%(offer)s“ beginnt am %(contract_start)s. Vorher brauchen wir "
              "einen Notfallkontakt und die abholberechtigten Personen mit aktuellem Passfoto."),
            _("Es fehlt noch: %(missing)s"),
            _("Bitte tragen Sie die Angaben unter „Mein Konto“ beim Vertrag ein."),
        ],
    },
    "participant_enrolled": {
        "subject": _("Anmeldung begonnen: %(offer)s"),
        "paragraphs": [
            _("%(participant)s ist zum Angebot „%(offer)s“ angemeldet. Kundennummer: %(customer_number)s, "
              "Vertragsnummer: %(contract_number)s."),
            _("Bitte führen Sie unter „Mein Konto“ die angezeigten Aktionen aus, drucken Sie die Anmeldung und "
              "senden Sie sie ab."),
        ],
    },
    "submitted": {
        "subject": _("Anmeldung eingegangen: %(offer)s"),
        "paragraphs": [
            _("die Anmeldung von %(participant)s zu „%(offer)s“ ist bei uns eingegangen. Status: Bewerber."),
            _("Ein Mitarbeiter prüft die Bewerbung und meldet sich bei Ihnen."),
        ],
    },
    "invited": {
        "subject": _("Einladung zum persönlichen Gespräch: %(offer)s"),
        "paragraphs": [
            _("wir laden %(participant)s zum persönlichen Gespräch ein: am %(interview_date)s um "
              "%(interview_time)s Uhr, %(interview_place)s."),
            _("Den Termin finden Sie im Anhang auch als Kalendereintrag."),
        ],
        "extra": "interview_note",
    },
    "decided_kandidat": {
        "subject": _("Aufnahme als Kandidat: %(offer)s"),
        "paragraphs": [
            _("%(participant)s wurde für „%(offer)s“ als Kandidat aufgenommen."),
            _("Bitte melden Sie sich unter „Mein Konto“ an, führen Sie die restlichen angezeigten Aktionen aus und "
              "drucken, prüfen und senden Sie die Anmeldung erneut ab."),
        ],
        "extra": "reason",
    },
    "decided_abgelehnt": {
        "subject": _("Entscheidung zu Ihrer Bewerbung: %(offer)s"),
        "paragraphs": [_("leider können wir %(participant)s für „%(offer)s“ nicht aufnehmen.")],
        "extra": "reason",
    },
    # "reopened" is sent in the variant of the state it reopened to.
    "reopened_bewerber": {
        "subject": _("Anmeldung wieder geöffnet: %(offer)s"),
        "paragraphs": [
            _("die Einrichtung hat die Anmeldung von %(participant)s zu „%(offer)s“ wieder geöffnet. "
              "Status: Bewerber."),
            _("Ein Mitarbeiter prüft die Bewerbung erneut und meldet sich bei Ihnen."),
        ],
        "extra": "reason",
    },
    "reopened_angebot": {
        "subject": _("Angebot wieder geöffnet: %(offer)s"),
        "paragraphs": [
            _("die Einrichtung hat das Angebot für %(participant)s zu „%(offer)s“ wieder geöffnet. Status: Angebot."),
            _("Bitte hinterlegen Sie bis spätestens %(deadline)s ein vollständig unterschriebenes Angebot "
              "unter „Mein Konto“."),
        ],
        "extra": "reason",
    },
    "deadline_extended": {
        "subject": _("Frist verlängert: %(offer)s"),
        "paragraphs": [
            _("die %(which_label)s zu „%(offer)s“ (%(participant)s) ist verlängert bis %(new_deadline)s."),
        ],
        "extra": "reason",
    },
    "classified": {
        "subject": _("Anmeldung eingestuft: %(offer)s"),
        "paragraphs": [
            _("die vollständige Anmeldung von %(participant)s ist eingegangen. Status: Eingestuft."),
            _("Unsere Mitarbeiter prüfen die Anmeldung erneut und senden Ihnen gegebenenfalls ein Angebot."),
        ],
    },
    "offer_made": {
        "subject": _("Ihr Angebot: %(offer)s"),
        "paragraphs": [
            _("für %(participant)s liegt das unterschriebene Angebot zu „%(offer)s“ unter „Mein Konto“ bereit. "
              "Kosten: %(costs)s €, Vertragsbeginn %(contract_start)s, Vertragsende %(contract_end)s."),
            _("Wenn Sie das Angebot annehmen möchten: auf Papier ausdrucken, durch alle Vertragsparteien "
              "unterzeichnen lassen, scannen oder fotografieren und bis spätestens %(deadline)s in WorkPro "
              "hinterlegen."),
        ],
    },
    "accepted": {
        "subject": _("Unterschriebenes Angebot eingegangen: %(offer)s"),
        "paragraphs": [
            _("das unterschriebene Angebot für %(participant)s ist eingegangen. Status: Angenommen."),
            _("Der Vertrag wird von uns geprüft und bei sachlicher Richtigkeit ratifiziert."),
        ],
    },
    "upload_returned": {
        "subject": _("Unterlagen zurückgewiesen: %(offer)s"),
        "paragraphs": [
            _("das hinterlegte unterschriebene Angebot für %(participant)s konnten wir nicht annehmen."),
            _("Bitte hinterlegen Sie bis spätestens %(deadline)s ein vollständig unterschriebenes Angebot."),
        ],
        "extra": "reason",
    },
    "ratified": {
        "subject": _("Vertrag ratifiziert: %(offer)s"),
        "paragraphs": [
            _("der Vertrag %(contract_number)s für %(participant)s wurde von uns gegengezeichnet. "
              "Status: Ratifiziert. Damit ist der Vertrag zustande gekommen."),
            _("Den gegengezeichneten Vertrag finden Sie zur Ablage unter „Mein Konto“."),
        ],
    },
    "expired": {
        "subject": _("Angebot abgelaufen: %(offer)s"),
        "paragraphs": [
            _("die Frist für das unterschriebene Angebot (%(deadline)s) ist abgelaufen. Status: Abgelaufen."),
            _("Bei Fragen wenden Sie sich bitte an die Einrichtung."),
        ],
    },
    "withdrawn": {
        "subject": _("Anmeldung zurückgezogen: %(offer)s"),
        "paragraphs": [_("die Anmeldung von %(participant)s zu „%(offer)s“ wurde zurückgezogen.")],
        "extra": "reason",
    },
    "proof_requested": {
        "subject": _("Bitte Einkommensnachweis einreichen: %(offer)s"),
        "paragraphs": [
            _("bitte reichen Sie bis %(proof_deadline)s einen Nachweis über das angegebene Jahreseinkommen ein."),
            _("Wird der Nachweis nicht fristgerecht erbracht, gilt der Höchstsatz der Leistungsvergütung."),
        ],
    },
    "proof_overdue": {
        "subject": _("Einkommensnachweis nicht eingegangen: %(offer)s"),
        "paragraphs": [
            _("der angeforderte Einkommensnachweis ist bis %(proof_deadline)s nicht eingegangen. "
              "Es gilt daher der Höchstsatz der Leistungsvergütung."),
        ],
    },
    "fee_changed": {
        "subject": _("Änderungsmitteilung: %(offer)s"),
        "paragraphs": [
            _("der angeforderte Einkommensnachweis ist bis %(proof_deadline)s nicht eingegangen. Für den Vertrag "
              "%(contract_number)s gilt daher ab %(fee_from)s der Höchstsatz von %(costs)s."),
            _("Die Änderungsmitteilung ist in WorkPro unter „Dokumente“ hinterlegt und dieser Mail beigefügt."),
        ],
    },
    "offer_reminder": {
        "subject": _("Erinnerung: Frist für das unterschriebene Angebot endet am %(deadline)s"),
        "paragraphs": [
            _("bitte denken Sie daran, das unterschriebene Angebot für %(participant)s bis %(deadline)s in "
              "WorkPro zu hinterlegen. Danach verfällt das Angebot."),
        ],
    },
    "allocation_placed": {
        "subject": _("Platzvergabe: %(participant)s erhält einen Platz in „%(offer)s“"),
        "paragraphs": [
            _("in der Platzvergabe „%(round)s“ hat %(participant)s einen Platz in „%(offer)s“ erhalten "
              "(%(wish)s. Wunsch)."),
            _("Bitte melden Sie sich unter „Mein Konto“ an, führen Sie die restlichen angezeigten Aktionen aus und "
              "drucken, prüfen und senden Sie die Anmeldung erneut ab."),
        ],
    },
    "allocation_placed_interview": {
        "subject": _("Platzvergabe: für %(participant)s ist ein Platz in „%(offer)s“ vorgemerkt"),
        "paragraphs": [
            _("für %(participant)s ist ein Platz in „%(offer)s“ vorgemerkt."),
            _("Die Einrichtung möchte Sie vor der Aufnahme kennenlernen: Sie erhalten in Kürze eine Einladung zum "
              "persönlichen Gespräch mit Termin und Ort. Danach entscheidet die Einrichtung über die Aufnahme."),
        ],
    },
    "allocation_waiting": {
        "subject": _("Platzvergabe: %(participant)s steht auf der Warteliste für „%(offer)s“"),
        "paragraphs": [
            _("in der Platzvergabe „%(round)s“ konnte %(participant)s keinen Platz in „%(offer)s“ erhalten "
              "(%(wish)s. Wunsch)."),
            "%(reason)s",
            _("%(participant)s steht auf Platz %(waiting_rank)s der Warteliste. Wird ein Platz frei, bieten wir "
              "ihn Ihnen mit einer Frist zur Annahme an."),
        ],
    },
    "allocation_ineligible": {
        "subject": _("Platzvergabe: „%(offer)s“ ist für %(participant)s nicht möglich"),
        "paragraphs": ["%(reason)s"],
    },
    "allocation_released": {
        "subject": _("Platzvergabe: Wunsch „%(offer)s“ nicht mehr nötig"),
        "paragraphs": [
            _("%(participant)s hat einen Platz in einem höheren Wunsch erhalten. Die Anmeldung zu „%(offer)s“ "
              "(%(wish)s. Wunsch) wurde deshalb geschlossen."),
        ],
    },
    "place_offered": {
        "subject": _("Ein Platz ist frei geworden: %(offer)s"),
        "paragraphs": [
            _("in „%(offer)s“ ist ein Platz frei geworden, und %(participant)s ist als Nächstes auf der Warteliste."),
            _("Bitte nehmen Sie den Platz bis %(place_deadline)s unter „Mein Konto“ an („Platz annehmen“) oder "
              "lehnen Sie ihn ab. Ohne Antwort geht der Platz an das nächste Kind auf der Warteliste."),
        ],
    },
    "proof_reminder": {
        "subject": _("Erinnerung: Einkommensnachweis bis %(proof_deadline)s"),
        "paragraphs": [
            _("bitte reichen Sie den Einkommensnachweis bis %(proof_deadline)s ein; sonst gilt der Höchstsatz."),
        ],
    },
}


def _format(value: str, kind: str) -> str:
    """ISO strings from the outbox context, formatted in the active language."""

    if not value:
        return ""
    if kind == "date":
        return date_format(date.fromisoformat(value[:10]), "DATE_FORMAT")
    if kind == "datetime":
        moment = timezone.localtime(datetime.fromisoformat(value))
        return date_format(moment, "DATE_FORMAT"), date_format(moment, "TIME_FORMAT")
    if kind == "money":
        return number_format(value, 2, force_grouping=True)
    return value


def event_name(context: dict) -> str:
    """The key of an enrollment event's texts ("reopened" is sent in the variant of the state it reopened to)."""
    name = context["event"]
    return f"reopened_{context.get('status')}" if name == "reopened" else name


class _Values(dict):
    """A value the context does not have is printed empty (a preview for an enrollment without an
    interview yet), never a KeyError."""

    def __missing__(self, key):
        return ""


def event_values(context: dict) -> dict:
    """The outbox context with dates, money and the interview time formatted in the active language."""
    values = _Values(context)
    for key in ("contract_start", "contract_end", "deadline", "proof_deadline", "place_deadline", "new_deadline", "fee_from"):
        values[key] = _format(context.get(key, ""), "date")
    if context.get("which") in DeadlineKind.values:
        values["which_label"] = str(DeadlineKind(context["which"]).label)
    values["costs"] = _format(context.get("costs", ""), "money")
    if context.get("interview_at"):
        values["interview_date"], values["interview_time"] = _format(context["interview_at"], "datetime")
    return values


def render_event(context: dict) -> dict:
    """Subject, paragraphs and an optional extra text of an enrollment event mail."""
    event = ENROLLMENT_EVENTS[event_name(context)]
    values = event_values(context)
    extra_key = event.get("extra")
    return {
        "subject": str(event["subject"]) % values,
        "paragraphs": [str(paragraph) % values for paragraph in event["paragraphs"]],
        "extra": context.get(extra_key, "") if extra_key else "",
    }


LOG_LABELS = {
    "workpro.enrollment.proof_uploaded": _("Einkommensnachweis hochgeladen"),
    "workpro.enrollment.fee_changed": _("Beitrag geändert: Höchstsatz (Änderungsmitteilung)"),
    "workpro.enrollment.participant_login": _("Eigener Zugang für den Teilnehmer eingerichtet"),
    "workpro.enrollment.coming_of_age_notice": _("Hinweis: Teilnehmer wird volljährig"),
    "workpro.enrollment.came_of_age": _("Volljährig: Teilnehmer ist Ansprechpartner"),
    "workpro.enrollment.came_of_age_no_login": _("Volljährig ohne eigenen Zugang: Einrichtung informiert"),
    "workpro.enrollment.guardian_access_ended": _("Zugang des PSB1 beendet"),
    "workpro.enrollment.emergency_contact_saved": _("Notfallkontakt gespeichert"),
    "workpro.enrollment.pickup_person_saved": _("Abholberechtigte Person gespeichert"),
    "workpro.enrollment.care_contact_removed": _("Kontakt entfernt"),
    "workpro.enrollment.care_reminder_14": _("Erinnerung: Notfallkontakt/Abholberechtigte (14 Tage)"),
    "workpro.enrollment.care_reminder_3": _("Erinnerung: Notfallkontakt/Abholberechtigte (3 Tage)"),
    "workpro.enrollment.registered": _("Interesse registriert"),
    "workpro.enrollment.participant_enrolled": _("Zum Angebot angemeldet"),
    "workpro.enrollment.printed": _("Anmeldung gedruckt"),
    "workpro.enrollment.submitted": _("Anmeldung abgesendet"),
    "workpro.enrollment.invited": _("Zum Gespräch eingeladen"),
    "workpro.enrollment.decided_kandidat": _("Als Kandidat aufgenommen"),
    "workpro.enrollment.decided_abgelehnt": _("Abgelehnt"),
    "workpro.enrollment.classified": _("Eingestuft"),
    "workpro.enrollment.offer_made": _("Angebot erstellt"),
    "workpro.enrollment.accepted": _("Angebot angenommen"),
    "workpro.enrollment.upload_returned": _("Unterlagen zurückgewiesen"),
    "workpro.enrollment.ratified": _("Ratifiziert"),
    "workpro.enrollment.expired": _("Abgelaufen"),
    "workpro.enrollment.withdrawn": _("Zurückgezogen"),
    "workpro.enrollment.contract_ended": _("Vertragsende erreicht: Platz frei"),
    "workpro.enrollment.reopened": _("Wieder geöffnet"),
    "workpro.enrollment.deadline_extended_offer": _("Frist für das unterschriebene Angebot verlängert"),
    "workpro.enrollment.deadline_extended_proof": _("Frist für den Einkommensnachweis verlängert"),
    "workpro.enrollment.deadline_extended_care": _("Frist für Notfallkontakt und Abholberechtigte verlängert"),
    "workpro.enrollment.proof_requested": _("Einkommensnachweis angefordert"),
    "workpro.enrollment.proof_received": _("Einkommensnachweis erhalten"),
    "workpro.enrollment.proof_overdue": _("Nachweis überfällig: Höchstsatz"),
    "workpro.enrollment.offer_reminder": _("Erinnerung an die Frist gesendet"),
    "workpro.enrollment.proof_reminder": _("Erinnerung an den Nachweis gesendet"),
    "workpro.enrollment.allocation_placed": _("Platzvergabe: Platz erhalten"),
    "workpro.enrollment.allocation_placed_interview": _("Platzvergabe: Platz vorgemerkt, Einladung ausstehend"),
    "workpro.enrollment.allocation_waiting": _("Platzvergabe: Warteliste"),
    "workpro.enrollment.allocation_ineligible": _("Platzvergabe: nicht möglich"),
    "workpro.enrollment.allocation_released": _("Platzvergabe: höherer Wunsch erfüllt"),
    "workpro.enrollment.wishes_ranked": _("Wunschliste geändert"),
    "workpro.enrollment.criterion_confirmed": _("Kriterium bestätigt"),
    "workpro.enrollment.place_offered": _("Nachrücken: Platz angeboten"),
    "workpro.enrollment.place_accepted": _("Nachrücken: Platz angenommen"),
    "workpro.enrollment.place_declined": _("Nachrücken: Platz abgelehnt"),
    "workpro.enrollment.place_offer_expired": _("Nachrücken: Frist abgelaufen"),
}

NEXT_STEPS = {
    "interessent": _("Teilnehmer wählen, die angezeigten Aktionen ausführen, „Anmeldung drucken“ und "
                     "„Anmeldung absenden“."),
    "bewerber": _("Ein Mitarbeiter prüft die Bewerbung und meldet sich."),
    "eingeladen": _("Zum vereinbarten Gesprächstermin erscheinen."),
    "kandidat": _("Die restlichen Aktionen ausführen, die Anmeldung erneut drucken und absenden."),
    "abgelehnt": _("Keine weiteren Schritte."),
    "eingestuft": _("Die Einrichtung erstellt gegebenenfalls ein Angebot."),
    "angebot": _("Angebot ausdrucken, durch alle Vertragsparteien unterzeichnen lassen und den Scan bis zur Frist "
                 "hinterlegen („Angebot annehmen“)."),
    "angenommen": _("Die Einrichtung prüft den Vertrag und ratifiziert ihn."),
    "ratifiziert": _("Der Vertrag ist zustande gekommen."),
    "abgelaufen": _("Die Frist ist abgelaufen. Bitte wenden Sie sich an die Einrichtung."),
    "zurueckgezogen": _("Keine weiteren Schritte."),
}

# The steps of the two application rounds (interessent, kandidat), in the order they are due.
APPLICATION_STEPS = {
    "choose_participant": _("Teilnehmer wählen („Zum Angebot anmelden“)."),
    "fill_sections": _("Die fehlenden Angaben der Anmeldung ausfüllen, dann „Anmeldung drucken“ und "
                       "„Anmeldung absenden“."),
    "fill_sections_again": _("Die restlichen Angaben ausfüllen, die Anmeldung erneut drucken und absenden."),
    "print": _("„Anmeldung drucken“ und prüfen, dann „Anmeldung absenden“."),
    "submit": _("„Anmeldung absenden“."),
}


def log_label(action: str) -> str:
    return str(LOG_LABELS.get(action, action))


# Zusatzangebote: logged on the contract.
LOG_LABELS.update({
    "workpro.enrollment.addon_requested": _("Zusatzangebot angefragt"),
    "workpro.enrollment.addon_confirmed": _("Zusatzangebot bestätigt"),
    "workpro.enrollment.addon_declined": _("Zusatzangebot abgelehnt"),
    "workpro.enrollment.addon_cancelled": _("Zusatzbuchung zurückgezogen"),
})
