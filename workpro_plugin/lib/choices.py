"""Choices and status sets shared by models, forms, services and templates (pure Django, no models).

Models import them from here (and re-export them: `from workpro_plugin.models import EnrollmentStatus`
keeps working); code that only needs a status value imports this module instead of the models.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# --- offers ---

class SchemaType(models.TextChoices):
    """The schema.org type an offer category maps to in the page's structured data (JSON-LD)."""

    COURSE = "Course", _("Kurs (Course)")
    PROGRAM = "EducationalOccupationalProgram", _("Aus- oder Weiterbildungsgang (EducationalOccupationalProgram)")
    SERVICE = "Service", _("Dienstleistung, z. B. Betreuung oder Wohnen (Service)")


EDUCATIONAL_SCHEMA_TYPES = {SchemaType.COURSE, SchemaType.PROGRAM}

# The categories and age groups every installation starts with (shared by all institutions; editors add
# their own in the admin). Migration 0029 created them from the former fixed lists; the demo and the test
# factories recreate them where a flushed database lost them. (slug, name, English name, type / ages)
DEFAULT_OFFER_CATEGORIES = (
    ("ausbildung", "Ausbildung", "Vocational training", SchemaType.COURSE),
    ("umschulung", "Umschulung", "Retraining", SchemaType.COURSE),
    ("weiterbildung", "Weiterbildung", "Further education", SchemaType.COURSE),
    ("sprachkurs", "Sprachkurs", "Language course", SchemaType.COURSE),
    ("betreuung", "Betreuung", "Childcare", SchemaType.SERVICE),
    ("wohnen", "Wohnen", "Housing", SchemaType.SERVICE),
    ("zusatzleistung", "Zusatzleistung", "Additional service", SchemaType.SERVICE),
)
DEFAULT_AGE_GROUPS = (
    ("u3", "Kinder unter 3 Jahren", "Children under 3", 0, 2),
    ("3-6", "Kinder von 3 bis 6 Jahren", "Children aged 3 to 6", 3, 6),
    ("6-12", "Schulkinder (6 bis 12 Jahre)", "School children (6 to 12)", 6, 12),
    ("12-17", "Jugendliche (12 bis 17 Jahre)", "Young people (12 to 17)", 12, 17),
    ("18+", "Erwachsene (ab 18 Jahren)", "Adults (18 and over)", 18, None),
)


class ApplicationSection(models.TextChoices):
    """The parts of the application form an offer can require."""

    PERSONAL = "personal", _("Persönliche Daten des Teilnehmers")
    GUARDIANS = "guardians", _("Personensorgeberechtigte (bei Minderjährigen)")
    INCOME = "income", _("Haushalt und Jahreseinkommen")
    EDUCATION = "education", _("Schul- und Ausbildungsweg")
    HEALTH = "health", _("Gesundheit und Betreuungshinweise")
    UPLOADS = "uploads", _("Nachweise hochladen")


class SectionPhase(models.IntegerChoices):
    BEFORE_APPLICATION = 1, _("Vor dem Absenden der Bewerbung")
    AS_CANDIDATE = 2, _("Als Kandidat (vor der Einstufung)")


# --- enrollments ---

class EnrollmentStatus(models.TextChoices):
    INTERESSENT = "interessent", _("Interessent")
    BEWERBER = "bewerber", _("Bewerber")
    EINGELADEN = "eingeladen", _("Eingeladen")
    KANDIDAT = "kandidat", _("Kandidat")
    ABGELEHNT = "abgelehnt", _("Abgelehnt")
    EINGESTUFT = "eingestuft", _("Eingestuft")
    ANGEBOT = "angebot", _("Angebot")
    ANGENOMMEN = "angenommen", _("Angenommen")
    RATIFIZIERT = "ratifiziert", _("Ratifiziert")
    ABGELAUFEN = "abgelaufen", _("Abgelaufen")
    ZURUECKGEZOGEN = "zurueckgezogen", _("Zurückgezogen")


S = EnrollmentStatus


# An offer's places are taken by an outstanding Angebot (it reserves the place until it is
# accepted, expires or is withdrawn) and by accepted and ratified contracts.
PLACE_TAKING_STATUSES = (S.ANGEBOT, S.ANGENOMMEN, S.RATIFIZIERT)

# The transitions whose target takes a place: each is checked against the offer's capacity
# under the offer's row lock (services.enrollments).
PLACE_TAKING_TRANSITIONS = ("make_offer", "upload_signed", "ratify")


CLOSED_STATUSES = (S.ABGELEHNT, S.RATIFIZIERT, S.ABGELAUFEN, S.ZURUECKGEZOGEN)


OPEN_STATUSES = tuple(s for s in S.values if s not in CLOSED_STATUSES)


# Everything but a dead end: an enrollment in one of these still stands (ratified contracts included).
STANDING_STATUSES = tuple(s for s in S.values if s not in (S.ABGELEHNT, S.ABGELAUFEN, S.ZURUECKGEZOGEN))


# --- Platzvergabe ---

# Applications that take part in an allocation round: submitted, not yet decided.
ALLOCATION_POOL_STATUSES = (S.BEWERBER, S.EINGELADEN)

# An enrollment in one of these holds one of the offer's places for allocation purposes: it was
# admitted (by a round or a decision) and is on its way to a contract, or has one.
PLACE_HOLDING_STATUSES = (S.KANDIDAT, S.EINGESTUFT, S.ANGEBOT, S.ANGENOMMEN, S.RATIFIZIERT)


def holds_place(prefix: str = "") -> models.Q:
    """Applications holding one of an offer's places: admitted and on their way to a contract (or with one
    that has not ended), or placed at an institution that talks to the family first (place reserved, invitation pending)."""
    return models.Q(**{f"{prefix}status__in": PLACE_HOLDING_STATUSES, f"{prefix}contract_ended_at__isnull": True}) | models.Q(
        **{f"{prefix}status__in": ALLOCATION_POOL_STATUSES, f"{prefix}place_reserved_at__isnull": False})


def status_holds_place(status: str, *, reserved: bool) -> bool:
    """`holds_place` for one application in memory."""
    return status in PLACE_HOLDING_STATUSES or (status in ALLOCATION_POOL_STATUSES and reserved)


class CriterionKind(models.TextChoices):
    SIBLING = "sibling", _("Geschwisterkind in der Einrichtung")
    RESIDENCE = "residence", _("Wohnsitz in der Gemeinde")
    EMPLOYMENT = "employment", _("Berufstätigkeit oder Ausbildung der Sorgeberechtigten (von der Einrichtung "
                                 "bestätigt)")
    AGE = "age", _("Alter zum Stichtag (Punkte je vollendetem Lebensjahr)")
    WAITING_TIME = "waiting_time", _("Wartezeit seit der Anmeldung (Punkte je vollem Monat)")
    HARDSHIP = "hardship", _("Härtefall (von der Einrichtung bestätigt)")
    CONFIRMED = "confirmed", _("Sonstiges Kriterium (von der Einrichtung bestätigt)")


# Criteria whose points come from a staff confirmation with a recorded reason, not from data.
# Berufstätigkeit is confirmed from the employer's certificate the family hands in.
CONFIRMED_CRITERIA = (CriterionKind.EMPLOYMENT, CriterionKind.HARDSHIP, CriterionKind.CONFIRMED)


class AllocationOutcome(models.TextChoices):
    PLACED = "placed", _("Platz erhalten")
    WAITING = "waiting", _("Warteliste")
    RELEASED = "released", _("nicht mehr nötig (höherer Wunsch erfüllt)")
    INELIGIBLE = "ineligible", _("nicht möglich")


class AllocationRoundStatus(models.TextChoices):
    DRAFT = "draft", _("Entwurf")
    CONFIRMED = "confirmed", _("bestätigt")


class DecisionBasis(models.TextChoices):
    ATTENDED = "attended", _("nach dem Gespräch")
    NO_SHOW = "no_show", _("Nichterscheinen zum Gesprächstermin")
    NO_INTERVIEW = "no_interview", _("ohne Gespräch")
    ALLOCATION = "allocation", _("Platzvergabe")


class DeadlineKind(models.TextChoices):
    """The deadlines a Leitung can extend ("Frist verlängern")."""

    OFFER = "offer", _("Frist für das unterschriebene Angebot")
    PROOF = "proof", _("Frist für den Einkommensnachweis")
    CARE = "care", _("Frist für Notfallkontakt und Abholberechtigte")


# --- add-on bookings ---

class AddonBookingStatus(models.TextChoices):
    REQUESTED = "angefragt", _("Angefragt")
    CONFIRMED = "bestaetigt", _("Bestätigt")
    DECLINED = "abgelehnt", _("Abgelehnt")
    CANCELLED = "storniert", _("Storniert")


B = AddonBookingStatus


# A booking in one of these holds its period: a second one for the same add-on must not overlap.
HOLDING_STATUSES = (B.REQUESTED, B.CONFIRMED)


# --- audit ---

class AuditAction(models.TextChoices):
    LOGIN = "auth.login", _("Erfolgreiche Anmeldung")
    LOGIN_FAILED = "auth.login_failed", _("Fehlgeschlagene Anmeldung")
    LOCKED_OUT = "auth.locked_out", _("Zugang gesperrt")
    LOGOUT = "auth.logout", _("Abmeldung")
    TWO_FACTOR_ENABLED = "auth.2fa_enabled", _("Zwei-Faktor-Authentifizierung eingerichtet")
    TWO_FACTOR_DISABLED = "auth.2fa_disabled", _("Zwei-Faktor-Authentifizierung entfernt")
    TWO_FACTOR_VERIFIED = "auth.2fa_verified", _("Zweiter Faktor bestätigt")
    TWO_FACTOR_FAILED = "auth.2fa_failed", _("Falscher Code (zweiter Faktor)")
    TWO_FACTOR_LINK_SENT = "auth.2fa_link_sent", _("Einrichtungslink für den zweiten Faktor verschickt")
    TWO_FACTOR_RECOVERY_CREATED = "auth.2fa_recovery_created", _("Wiederherstellungscodes erzeugt")
    TWO_FACTOR_RECOVERY_USED = "auth.2fa_recovery_used", _("Wiederherstellungscode verwendet")
    ACCESS_DENIED = "access.denied", _("Zugriff verweigert")
    PERSON_VIEWED = "person.viewed", _("Personendaten angesehen")
    PERSON_CHANGED = "person.changed", _("Personendaten geändert")
    EMAIL_CHANGED = "person.email_changed", _("Mailadresse geändert")
    CONTACT_CORRECTED = "person.contact_corrected", _("Kontaktdaten durch die Einrichtung korrigiert")
    PASSWORD_SENT = "person.password_sent", _("Neues Passwort durch die Einrichtung gesendet")
    APPLICATION_CHANGED = "enrollment.data_changed", _("Angaben der Anmeldung geändert")
    STATUS_CHANGED = "enrollment.status", _("Status oder Schritt der Anmeldung")
    DOCUMENT_VIEWED = "document.viewed", _("Dokument geöffnet")
    DOCUMENT_DEPOSITED = "document.deposited", _("Dokument hinterlegt")
    DATA_EXPORTED = "data.exported", _("Liste exportiert")
    ALLOCATION_CONFIRMED = "allocation.confirmed", _("Vergaberunde bestätigt")
    TEXTS_CHANGED = "institution.texts_changed", _("Mail-/SMS-Text oder Vertragsbedingungen geändert")
