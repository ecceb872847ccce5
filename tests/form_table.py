"""Every form of WorkPro: its URL, user, a valid payload, and the tables a refused post leaves alone.

Read by the bad-input tests (tests/security/test_bad_input.py: each payload mutated field by
field) and the CSRF tests (tests/security/test_csrf_redirects.py: each payload posted without
a token). URLs and payloads name the objects of the form world (tests/form_world.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import form_world
from tests.factories import pdf_bytes
from tests.helpers import totp
from workpro_plugin.models import (
    AddonBooking,
    App,
    AppAcceptance,
    AppAssignment,
    CannedReply,
    Consent,
    Conversation,
    ConversationEvent,
    Document,
    EmergencyContact,
    Enrollment,
    EnrollmentLog,
    EnrollmentSection,
    Guardian,
    Message,
    OutboxMessage,
    Person,
    PickupPerson,
    TwoFactorEnrolment,
)

User = get_user_model()
TODAY = timezone.localdate()
PASSWORD = form_world.PASSWORD
OK = frozenset({200, 302, 400, 403, 404, 405})


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


@dataclass(frozen=True)
class Form:
    id: str
    url: Callable
    user: str | None
    payload: Callable  # world -> the valid payload (files are built fresh per example)
    guarded: tuple
    examples: int = 40
    statuses: frozenset = OK
    draft: tuple | None = None  # (enrollment attribute, section): a refused post may keep a draft there
    fields: tuple = field(default=())  # fields to mutate besides the payload's keys
    stable: tuple = field(default=())  # routing fields (a wrong one is a 404): mutated less often
    valid_status: int = 302  # what the unmutated payload gets


def _section(code: str, enrollment: str = "e_int"):
    return lambda w: reverse("workpro:enrollment_section", args=[getattr(w, enrollment).pk, code])


def _pdf(name="scan.pdf"):
    return SimpleUploadedFile(name, pdf_bytes(), content_type="application/pdf")


def _photo(name="foto.jpg"):
    return SimpleUploadedFile(name, form_world.photo_jpeg(), content_type="image/jpeg")


PERSONAL = {"last_name": "Muster", "first_name": "Ida", "date_of_birth": "2021-05-04", "street": "Weg 1",
            "postcode": "10115", "city": "Berlin", "email": "ida@example.org", "mobile": "0151 23456789"}
# A wrong code counts towards the throttle (a change that is wanted); the devices themselves must not change.
DEVICES = (TOTPDevice.objects.all(), ["user_id", "key", "confirmed"])
ENROLMENTS = (TwoFactorEnrolment.objects.all(), ["user_id", "used_at", "completed_at"])


ENROLLMENT_MODELS = (Enrollment, EnrollmentLog, Document, OutboxMessage)
CHAT_MODELS = (Conversation, Message, ConversationEvent, Document, OutboxMessage)

FORMS = [
    # --- public ---------------------------------------------------------------------------------
    Form("register", lambda w: w.offer.relative_url(w.kita.site), None,
         lambda w: {"last_name": "Muster", "first_name": "Maria", "email": "maria@example.org", "privacy": "on",
                    "website": ""},
         (User, Person, Enrollment, Consent, OutboxMessage)),
    Form("login", lambda w: reverse("workpro:login"), None,
         lambda w: {"username": w.holder.email, "password": PASSWORD, "next": "/workpro/konto/daten/"},
         (User, Person), statuses=OK | {429}),
    Form("password_request", lambda w: reverse("workpro:password_request"), None,
         lambda w: {"last_name": "Muster", "first_name": "Eltern", "date_of_birth": "1985-01-01",
                    "mobile": "0151 23456789", "customer_number": "", "email": "neu@example.org"},
         (User, Person, OutboxMessage)),
    # --- portal ---------------------------------------------------------------------------------
    Form("set_password", lambda w: reverse("workpro:set_password"), "holder",
         lambda w: {"old_password": PASSWORD, "new_password1": "ein-neues-Passwort-42",
                    "new_password2": "ein-neues-Passwort-42"},
         (User, Person)),
    Form("contact_data", lambda w: reverse("workpro:contact_data"), "holder",
         lambda w: {"email": "neu@example.org", "street": "Hauptstr. 5", "postcode": "10115", "city": "Berlin",
                    "mobile": "0151 23456789", "language": "de", "current_password": PASSWORD},
         (User, Person, OutboxMessage)),
    Form("withdraw", lambda w: reverse("workpro:enrollment_withdraw", args=[w.e_bew.pk]), "applicant",
         lambda w: {"reason": "Wir ziehen um."}, (Enrollment, EnrollmentLog)),
    Form("participant", lambda w: reverse("workpro:enrollment_participant", args=[w.e_new.pk]), "holder",
         lambda w: {"participant": "neu", "last_name": "Muster", "first_name": "Paul", "date_of_birth": day(-700),
                    "relation": "mutter", "custody": "on"},
         (Person, Guardian, Enrollment)),
    Form("section_personal", _section("personal"), "holder", lambda w: dict(PERSONAL),
         (Person, Guardian, Document), draft=("e_int", "personal")),
    Form("section_education", _section("education"), "holder",
         lambda w: {"school": "Grundschule", "graduation": "keiner", "graduation_year": "2020",
                    "current_activity": "Schule"},
         (Person, Guardian, Document), draft=("e_int", "education")),
    Form("section_questions", _section("questions"), "holder",
         lambda w: {"q_kurz": "Nüsse", "q_lang": "", "q_zahl": "35", "q_datum": day(60), "q_janein": "ja",
                    "q_wahl": "Füchse", "q_mehr": ["Mo", "Di"], "q_datei": _pdf()},
         (Person, Guardian, Document), draft=("e_int", "questions")),
    Form("section_health", _section("health"), "holder",
         lambda w: {"allergies": "Nüsse", "medication": "", "diet": "vegetarisch", "notes": "", "confirmed": "on"},
         (Person, Guardian, Document), draft=("e_int", "health")),
    Form("section_guardians", _section("guardians"), "holder",
         lambda w: {"guardians-TOTAL_FORMS": "1", "guardians-INITIAL_FORMS": "0", "guardians-MIN_NUM_FORMS": "0",
                    "guardians-MAX_NUM_FORMS": "3", "guardians-0-last_name": "Muster",
                    "guardians-0-first_name": "Max", "guardians-0-relation": "vater",
                    "guardians-0-phone": "030 123456", "guardians-0-email": "max@example.org"},
         (Person, Guardian, Document), draft=("e_int", "guardians")),
    Form("section_income", _section("income", "e_kand"), "holder",
         lambda w: {"earners-TOTAL_FORMS": "1", "earners-INITIAL_FORMS": "0", "earners-MIN_NUM_FORMS": "1",
                    "earners-MAX_NUM_FORMS": "10", "earners-0-name": "Mutter", "earners-0-relation": "Mutter",
                    "earners-0-annual_income": "32000,50"},
         (Person, Guardian, Document), draft=("e_kand", "income")),
    Form("section_uploads", _section("uploads", "e_kand"), "holder",
         lambda w: {"title": "Impfnachweis", "file": _pdf()}, (Person, Guardian, Document, EnrollmentSection),
         examples=30),
    Form("accept", lambda w: reverse("workpro:enrollment_accept", args=[w.e_angebot.pk]), "holder",
         lambda w: {"files": [_pdf("seite1.pdf"), _photo("seite2.jpg")]}, ENROLLMENT_MODELS, examples=30),
    Form("participant_login", lambda w: reverse("workpro:participant_login", args=[w.child.pk]), "holder",
         lambda w: {"email": "lena@example.org"}, (User, Person, OutboxMessage)),
    Form("care_emergency", lambda w: reverse("workpro:care", args=[w.e_rat.pk]), "holder",
         lambda w: {"kind": "notfallkontakt", "notfall-name": "Tante Tina", "notfall-relation": "Tante",
                    "notfall-phone": "030 9876543"},
         (EmergencyContact, PickupPerson, EnrollmentLog), stable=("kind",)),
    Form("care_pickup", lambda w: reverse("workpro:care", args=[w.e_rat.pk]), "holder",
         lambda w: {"kind": "abholberechtigt", "abholung-name": "Onkel Olaf", "abholung-relation": "Onkel",
                    "abholung-phone": "030 9876543", "abholung-photo": _photo()},
         (EmergencyContact, PickupPerson, EnrollmentLog), examples=30, stable=("kind",)),
    Form("care_edit_emergency",
         lambda w: reverse("workpro:care_edit", args=[w.e_rat.pk, "notfallkontakt", w.emergency.pk]), "holder",
         lambda w: {"name": "Oma Erna", "relation": "Großmutter", "phone": "030 111222"},
         (EmergencyContact, PickupPerson, EnrollmentLog)),
    Form("care_edit_pickup",
         lambda w: reverse("workpro:care_edit", args=[w.e_rat.pk, "abholberechtigt", w.pickup.pk]), "holder",
         lambda w: {"name": "Opa Otto", "relation": "Großvater", "phone": "030 111222", "photo": _photo()},
         (EmergencyContact, PickupPerson, EnrollmentLog), examples=30),
    Form("addon_book", lambda w: reverse("workpro:addon_book", args=[w.e_rat.pk, w.addon.pk]), "holder",
         lambda w: {"starts_on": day(32), "ends_on": day(35), "note": "Bitte mit Mittagessen", "consent": "on"},
         (AddonBooking, OutboxMessage)),
    Form("app_accept", lambda w: reverse("workpro:app_accept", args=[w.app.pk, w.child.pk]), "holder",
         lambda w: {"terms": w.app.terms_sha256}, (AppAcceptance,)),
    Form("chat_thread", lambda w: reverse("workpro:chat_thread", args=[w.conversation.pk]), "holder",
         lambda w: {"body": "Wann ist Elternabend?", "attachment": _pdf()}, CHAT_MODELS),
    Form("chat_offer", lambda w: reverse("workpro:chat_offer", args=[w.offer.pk]), "holder",
         lambda w: {"body": "Gibt es noch Plätze?"}, CHAT_MODELS),
    Form("chat_enrollment", lambda w: reverse("workpro:chat_enrollment", args=[w.e_kand.pk]), "holder",
         lambda w: {"body": "Frage zur Anmeldung"}, CHAT_MODELS),
    Form("chat_edit", lambda w: reverse("workpro:chat_edit", args=[w.conversation.pk, w.message.pk]), "holder",
         lambda w: {"body": "Hallo liebe Kita"}, CHAT_MODELS),
    Form("data_export", lambda w: reverse("workpro:data_export"), "holder",
         lambda w: {"person": str(w.child.pk)}, (Person,), examples=25, valid_status=200),
    # --- staff (Wagtail admin) ------------------------------------------------------------------
    Form("admin_einladen", lambda w: reverse("workpro_admin:enrollment_action", args=[w.e_bew.pk, "einladen"]),
         "staff", lambda w: {"date": day(5), "time": "10:30", "place": "Raum 1", "note": "Bitte pünktlich"},
         ENROLLMENT_MODELS, examples=30),
    Form("admin_entscheiden",
         lambda w: reverse("workpro_admin:enrollment_action", args=[w.e_bew.pk, "entscheiden"]), "staff",
         lambda w: {"decision": "abgelehnt", "basis": "no_interview", "reason": "Keine Plätze"},
         ENROLLMENT_MODELS, examples=30),
    Form("admin_nachweis",
         lambda w: reverse("workpro_admin:enrollment_action", args=[w.e_bew.pk, "nachweis-anfordern"]), "staff",
         lambda w: {"deadline": day(14)}, ENROLLMENT_MODELS, examples=30),
    Form("admin_angebot",
         lambda w: reverse("workpro_admin:enrollment_action", args=[w.e_eing.pk, "angebot-erstellen"]), "staff",
         lambda w: {"costs": f"{w.e_eing.computed_fee().amount:.2f}".replace(".", ","), "costs_reason": "",
                    "contract_start": day(30), "contract_end": day(400), "deadline": day(14)},
         ENROLLMENT_MODELS, examples=30),
    Form("admin_offer_preview", lambda w: reverse("workpro_admin:offer_preview", args=[w.e_eing.pk]), "staff",
         lambda w: {"costs": "150,00", "costs_reason": "", "contract_start": day(30), "contract_end": day(400),
                    "deadline": day(14)},
         (Enrollment, Document), examples=15, valid_status=200),
    Form("admin_ratifizieren",
         lambda w: reverse("workpro_admin:enrollment_action", args=[w.e_angen.pk, "ratifizieren"]), "staff",
         lambda w: {"confirm": "on", "signature_0": "on", "signature_1": "on", "signature_2": "on"},
         ENROLLMENT_MODELS, examples=15),
    Form("admin_zurueckweisen",
         lambda w: reverse("workpro_admin:enrollment_action", args=[w.e_angen.pk, "unterlagen-zurueckweisen"]),
         "staff", lambda w: {"reason": "Unterschrift fehlt"}, ENROLLMENT_MODELS, examples=30),
    Form("admin_zurueckziehen",
         lambda w: reverse("workpro_admin:enrollment_action", args=[w.e_bew.pk, "zurueckziehen"]), "staff",
         lambda w: {"reason": "Auf Wunsch der Eltern"}, ENROLLMENT_MODELS, examples=30),
    Form("admin_frist_verlaengern",
         lambda w: reverse("workpro_admin:enrollment_action", args=[w.e_angebot.pk, "frist-verlaengern"]), "staff",
         lambda w: {"which": "offer", "deadline": day(20), "reason": "Eltern im Urlaub"}, ENROLLMENT_MODELS,
         examples=30),
    Form("admin_bulk_invite", lambda w: reverse("workpro_admin:bulk_invite"), "staff",
         lambda w: {"enrollments": [str(w.e_bew.pk)], "date": day(5), "time": "09:00", "place": "Raum 2",
                    "note": ""},
         ENROLLMENT_MODELS, examples=30),
    Form("admin_bulk_decide", lambda w: reverse("workpro_admin:bulk_decide"), "staff",
         lambda w: {"enrollments": [str(w.e_bew.pk)], "decision": "kandidat", "basis": "no_interview",
                    "reason": ""},
         ENROLLMENT_MODELS, examples=30),
    Form("admin_addon_confirm", lambda w: reverse("workpro_admin:addon_confirm", args=[w.booking.pk]), "staff",
         lambda w: {"cost": "50,00", "cost_reason": "laut Gebührenordnung"},
         (AddonBooking, Document, OutboxMessage), examples=15),
    Form("admin_addon_decline", lambda w: reverse("workpro_admin:addon_decline", args=[w.booking.pk]), "staff",
         lambda w: {"reason": "Ausgebucht"}, (AddonBooking, Document, OutboxMessage), examples=30),
    Form("admin_app_assign", lambda w: reverse("workpro_admin:app_assign", args=[w.app_other.pk]), "staff",
         lambda w: {"offer": str(w.offer.pk), "participant": ""}, (AppAssignment,), examples=30),
    Form("admin_app_revoke", lambda w: reverse("workpro_admin:app_revoke", args=[w.assignment.pk]), "staff",
         lambda w: {"reason": "Vertrag beendet"}, (AppAssignment,), examples=30),
    Form("admin_chat_reply", lambda w: reverse("workpro_chat:thread", args=[w.conversation.pk]), "staff",
         lambda w: {"body": "Elternabend ist am Montag.", "attachment": _pdf()}, CHAT_MODELS, examples=30),
    Form("admin_chat_assign", lambda w: reverse("workpro_chat:assign", args=[w.conversation.pk]), "staff",
         lambda w: {"assignee": str(w.caseworker.pk)}, CHAT_MODELS, examples=30, fields=("mir",)),
    Form("admin_chat_hide",
         lambda w: reverse("workpro_chat:hide", args=[w.conversation.pk, w.message.pk]), "staff",
         lambda w: {"reason": "Beleidigung"}, CHAT_MODELS, examples=30),
    Form("admin_chat_edit",
         lambda w: reverse("workpro_chat:edit", args=[w.conversation.pk, w.staff_message.pk]), "staff",
         lambda w: {"body": "Elternabend ist am Dienstag."}, CHAT_MODELS, examples=30),
    Form("admin_chat_enrollment_reply", lambda w: reverse("workpro_chat:enrollment_reply", args=[w.e_kand.pk]),
         "staff", lambda w: {"body": "Bitte Nachweis nachreichen."}, CHAT_MODELS, examples=30),
    Form("admin_chat_insert_canned", lambda w: reverse("workpro_chat:thread", args=[w.conversation.pk]), "staff",
         lambda w: {"einfuegen": "1", "textbaustein": str(w.canned.pk), "body": "Guten Tag"}, CHAT_MODELS,
         examples=30, valid_status=200),
    Form("admin_canned_create", lambda w: reverse("workpro_plugin_cannedreply_modeladmin_create"), "staff",
         lambda w: {"institution": str(w.kita.pk), "offer": "", "title": "Termin", "body": "Hallo {vorname}",
                    "is_active": "on"}, (CannedReply,), examples=30),
    Form("admin_app_create", lambda w: reverse("workpro_plugin_app_modeladmin_create"), "staff",
         lambda w: {"institution": str(w.kita.pk), "name": "Mensa", "description": "Speiseplan",
                    "launch_url": "https://mensa.example.org/", "terms": "Nur für Teilnehmer.", "is_active": "on"},
         (App,), examples=30),
    Form("admin_2fa_setup", lambda w: reverse("workpro_admin:two_factor_setup"), "admin_new",
         lambda w: {"token": totp(w.new_device), "next": "/admin/"}, (DEVICES, ENROLMENTS), examples=15),
    Form("admin_2fa_verify", lambda w: reverse("workpro_admin:two_factor_verify"), "admin_2fa",
         lambda w: {"token": totp(w.device), "next": "/admin/"}, (DEVICES,), examples=15),
]
