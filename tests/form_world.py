"""One small world in which every form of WorkPro can be filled in validly.

Used by the bad-input, upload-attack and CSRF tests: each form needs an object in the
right state (an enrollment in "angebot" to accept, a minor's ratified contract for the
Notfallkontakt, a requested add-on booking to decide, ...). Built on the `world` fixture.
"""

from __future__ import annotations

import io
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import (
    enrollment_in,
    make_child,
    make_offer,
    make_user,
    make_world,
    set_questions,
)
from workpro_plugin.backoffice.views.two_factor import ENROLMENT_KEY
from workpro_plugin.models import (
    App,
    CannedReply,
    EmergencyContact,
    Enrollment,
    FeeBracket,
    FeeSchedule,
    OfferSection,
    PickupPerson,
    TwoFactorEnrolment,
)
from workpro_plugin.services import addons as addon_svc
from workpro_plugin.services import apps as app_svc
from workpro_plugin.services import chat as chat_svc
from workpro_plugin.services import two_factor as two_factor_svc

S = Enrollment.Status
PASSWORD = "Kita-Passwort-2024!"  # the holder's, set by the module_world fixture (conftest)


def photo_jpeg(size=(400, 500), color=(200, 120, 90)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="JPEG")
    return buffer.getvalue()


# The offer's own questions, one of each field type (the section "questions").
QUESTIONS = (
    {"type": "short_text", "id": "kurz", "label": "Allergien"},
    {"type": "long_text", "id": "lang", "label": "Hinweise", "required": False},
    {"type": "number", "id": "zahl", "label": "Stunden pro Woche"},
    {"type": "date", "id": "datum", "label": "Eingewöhnung ab"},
    {"type": "yes_no", "id": "janein", "label": "Mittagessen"},
    {"type": "choice", "id": "wahl", "label": "Gruppe", "choices": ["Bären", "Füchse"]},
    {"type": "multiple_choice", "id": "mehr", "label": "Tage", "choices": ["Mo", "Di"]},
    {"type": "file", "id": "datei", "label": "Impfausweis", "required": False},
)


def build(world=None) -> SimpleNamespace:
    """Extends `world` (or a new one) with one object per form; returns it with the new attributes."""
    today = timezone.localdate()
    w = world or make_world()
    offer = w.offer
    schedule = FeeSchedule.objects.create(name="Beiträge", institution=w.kita, maximum_rate=Decimal("420"))
    FeeBracket.objects.create(schedule=schedule, income_from=0, income_to=None, amount=Decimal("150"))
    offer.fee_schedule = schedule
    offer.required_documents = "Impfnachweis"
    offer.save()
    for section, phase in (("personal", 1), ("education", 1), ("health", 1), ("guardians", 1), ("uploads", 2)):
        OfferSection.objects.create(page=offer, section=section, phase=phase)
    set_questions(offer, *QUESTIONS)

    holder = w.holder
    me = holder.workpro_person
    w.me = me
    # Zum Angebot anmelden, step two: who takes part.
    w.e_new = Enrollment.objects.create(offer=offer, institution=w.kita, account_holder=holder)
    # Phase-one sections (Interessent) and phase-two sections (Kandidat), each for a child.
    w.child_int = make_child(holder, first_name="Ida")
    w.e_int = enrollment_in(S.INTERESSENT, offer=offer, institution=w.kita, holder=holder, participant=w.child_int)
    w.child_kand = make_child(holder, first_name="Karl")
    w.e_kand = enrollment_in(S.KANDIDAT, offer=offer, institution=w.kita, holder=holder, participant=w.child_kand)
    # Angebot annehmen: the holder takes part themself.
    w.e_angebot = enrollment_in(S.ANGEBOT, offer=offer, institution=w.kita, holder=holder)
    # A minor's ratified contract: Notfallkontakt, Abholberechtigte, add-ons, apps, chat.
    # 14 years old: old enough for an own login (WORKPRO_MINOR_LOGIN_MIN_AGE), still a minor.
    w.child = make_child(holder, first_name="Lena", date_of_birth=today - timedelta(days=15 * 365))
    w.e_rat = enrollment_in(S.RATIFIZIERT, offer=offer, institution=w.kita, holder=holder, participant=w.child)
    Enrollment.objects.filter(pk=w.e_rat.pk).update(contract_start=today + timedelta(days=20),
                                                    contract_end=today + timedelta(days=400),
                                                    contract_number="KITA-2026-00042")
    w.e_rat.refresh_from_db()
    w.emergency = EmergencyContact.objects.create(enrollment=w.e_rat, name="Oma Erna", relation="Großmutter",
                                                  phone="+4930123456")
    w.pickup = PickupPerson(enrollment=w.e_rat, name="Opa Otto", relation="Großvater", phone="+4930654321",
                            photo_uploaded_at=timezone.now())
    w.pickup.photo.save("opa.jpg", ContentFile(photo_jpeg()), save=False)
    w.pickup.save()

    w.addon = make_offer(w.kita, "Ferienbetreuung", is_addon=True, starts_on=today + timedelta(days=30),
                         ends_on=today + timedelta(days=60), capacity=5)
    w.addon.addon_for.add(offer)
    w.addon.save()
    w.addon_booked = make_offer(w.kita, "Mittagessen", is_addon=True, starts_on=today + timedelta(days=30),
                                ends_on=today + timedelta(days=90), capacity=5)
    w.addon_booked.addon_for.add(offer)
    w.addon_booked.save()
    w.booking = addon_svc.addon_book(enrollment=w.e_rat, addon=w.addon_booked, by=holder,
                                     starts_on=today + timedelta(days=31), ends_on=today + timedelta(days=40),
                                     consent=True)

    w.app = App.objects.create(institution=w.kita, name="Lernplattform", description="Lernen",
                               launch_url="https://lernen.example.org/start", terms="1. Nur für Teilnehmer.")
    w.assignment = app_svc.app_assign(app=w.app, by=w.staff, participant=w.child)
    w.app_other = App.objects.create(institution=w.kita, name="Bibliothek", description="Lesen",
                                     launch_url="https://bib.example.org/", terms="Leise sein.")
    w.canned = CannedReply.objects.create(institution=w.kita, title="Danke", body="Danke, {vorname}!")

    w.conversation = chat_svc.conversation_for_enrollment(enrollment=w.e_rat, by=holder)
    w.message = chat_svc.message_post(conversation=w.conversation, by=holder, body="Hallo Kita", as_staff=False)
    w.staff_message = chat_svc.message_post(conversation=w.conversation, by=w.staff, body="Hallo zurück",
                                            as_staff=True)

    # Staff side: one enrollment per admin action.
    w.applicant = make_user("bewerber@example.org")
    w.e_bew = enrollment_in(S.BEWERBER, offer=offer, institution=w.kita, holder=w.applicant)
    w.classified = make_user("eingestuft@example.org")
    w.e_eing = enrollment_in(S.EINGESTUFT, offer=offer, institution=w.kita, holder=w.classified)
    w.accepted = make_user("angenommen@example.org")
    w.e_angen = enrollment_in(S.ANGENOMMEN, offer=offer, institution=w.kita, holder=w.accepted)

    # Two-factor: one admin user setting up (a link not yet opened, and one opened: its token in the
    # session, see open_enrolment), one with a confirmed device (verify).
    w.admin_new = make_user("neu@kita.test", person=False, groups=[w.kita.staff_group])
    w.new_device = TOTPDevice.objects.create(user=w.admin_new, name="WorkPro", confirmed=False)
    far = timezone.now() + timedelta(days=3650)  # tests travel in time
    w.link_token, w.opened_token = "formworld-link-" + "a" * 30, "formworld-link-" + "b" * 30
    TwoFactorEnrolment.objects.create(user=w.admin_new, token_hash=two_factor_svc._hash(w.link_token),
                                      expires_at=far)
    TwoFactorEnrolment.objects.create(user=w.admin_new, token_hash=two_factor_svc._hash(w.opened_token),
                                      expires_at=far, used_at=timezone.now())
    w.admin_2fa = make_user("zweifaktor@kita.test", person=False, groups=[w.kita.staff_group])
    w.device = TOTPDevice.objects.create(user=w.admin_2fa, name="WorkPro", confirmed=True)
    return w


def open_enrolment(client, w) -> None:
    """What opening the mailed link leaves in admin_new's session (the client is logged in as admin_new)."""
    session = client.session
    session[ENROLMENT_KEY] = w.opened_token
    session.save()


@contextmanager
def shared(django_db_blocker):
    """The world built once for a whole test module, in a transaction rolled back at its end.

    Each test's own transaction (the `db` fixture) is a savepoint inside it, so tests still
    see the world as built. For modules whose tests only post forms: ~0.4 s saved per test.
    """
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            cache.clear()
            yield build()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            cache.clear()
