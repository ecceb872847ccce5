"""Mail/SMS texts and contract terms of an institution (#23): fallback, language, placeholders, preview,
terms stored with the enrollment and printed in the Angebot."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.test import TestCase
from django.utils import timezone

from tests.factories import complete_sections, enrollment_in
from workpro_plugin.lib import mail_texts
from workpro_plugin.models import AuditAction, AuditEvent, ContractTerms, Enrollment, MailText
from workpro_plugin.services import enrollments as enrollment_svc
from workpro_plugin.services import notify
from workpro_plugin.services import texts as svc

pytestmark = pytest.mark.django_db
S = Enrollment.Status
TODAY = timezone.localdate()


def _invite(world, enrollment):
    return enrollment_svc.enrollment_invite(enrollment=enrollment, by=world.staff,
                                            at=timezone.now() + timedelta(days=2), place="Raum 3")


def _bewerber(world, holder=None):
    return enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=holder or world.holder)


def _texts(de=None, en=None):
    return {"de": de or {}, "en": en or {}}


# --- the sandbox -------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "Hallo {{ vorname }}, {{ angebot }}",
    "Ohne Platzhalter",
    "Ein { einzelnes } Zeichen und 100 % sicher",
])
def test_plain_placeholders_pass(text):
    mail_texts.check(text, mail_texts.EVENTS["invited"].placeholders)


@pytest.mark.parametrize("text, message", [
    ("{{ unbekannt }}", "gibt es für diesen Text nicht"),
    ("{{ vorname|upper }}", "fehlerhaft"),
    ("{{ einrichtung.signing_key }}", "kein erlaubter Platzhalter"),
    ("{% debug %}", "Befehle"),
    ("{% if vorname %}x{% endif %}", "Befehle"),
    ("{% include 'x.html' %}", "Befehle"),
    ("Hallo {{ vorname", "nicht vollständig"),
    ("Hallo vorname }}", "nicht vollständig"),
    ("{{ 'literal' }}", "kein erlaubter Platzhalter"),
    ("{{ }}", "fehlerhaft"),
])
def test_broken_or_unknown_placeholders_are_refused_in_german(text, message):
    with pytest.raises(mail_texts.PlaceholderError, match=message):
        mail_texts.check(text, mail_texts.EVENTS["invited"].placeholders)


def test_each_event_lists_the_placeholders_its_context_has():
    invited = mail_texts.EVENTS["invited"].placeholders
    assert {"vorname", "angebot", "termin", "termin_datum", "termin_uhrzeit", "termin_ort"} <= set(invited)
    assert "kosten" not in invited
    assert {"kosten", "vertragsbeginn", "vertragsende", "frist"} <= set(mail_texts.EVENTS["offer_made"].placeholders)
    assert "begruendung" in mail_texts.EVENTS["decided_abgelehnt"].placeholders
    # every default text passes its own check, in both languages
    from django.utils import translation
    for event in mail_texts.EVENTS.values():
        for language in ("de", "en"):
            with translation.override(language):
                for text in mail_texts.default_texts(event).values():
                    mail_texts.check(text, event.placeholders, required=event.required)


# --- saving -------------------------------------------------------------------------------------

def test_save_refuses_a_broken_placeholder_next_to_its_field(world):
    with pytest.raises(svc.TextError) as exc:
        svc.mail_text_save(institution=world.kita, event="invited", by=world.staff,
                           texts=_texts(en={"subject": "Invitation {{ first_name }}"}))
    assert exc.value.field == "subject_en" and "first_name" in exc.value.message
    assert not MailText.objects.exists()


def test_save_stores_only_what_differs_from_the_default_and_is_audited(world):
    defaults = mail_texts.default_texts(mail_texts.EVENTS["invited"])
    changed = svc.mail_text_save(institution=world.kita, event="invited", by=world.staff, texts=_texts(
        de={"subject": "Einladung für {{ vorname }}", "body": defaults["body"]}))
    assert changed == ["subject_de"]
    row = MailText.objects.get()
    assert (row.language, row.subject, row.body) == ("de", "Einladung für {{ vorname }}", "")
    event = AuditEvent.objects.get(action=AuditAction.TEXTS_CHANGED)
    assert event.actor == world.staff and event.detail == {"kind": "mail_text", "event": "invited",
                                                           "fields": ["subject_de"]}
    # emptied again: the row goes, the default applies
    svc.mail_text_save(institution=world.kita, event="invited", by=world.staff, texts=_texts())
    assert not MailText.objects.exists()


def test_sms_needs_the_password_placeholder(world):
    with pytest.raises(svc.TextError, match="passwort"):
        svc.mail_text_save(institution=world.kita, event="sms_password_issued", by=world.staff,
                           texts=_texts(de={"sms": "Ihr Passwort kommt per Post."}))


# --- sending: own text, fallback, language --------------------------------------------------------

def test_the_invitation_uses_the_institutions_text_in_the_participants_language(world, run_on_commit):
    svc.mail_text_save(institution=world.kita, event="invited", by=world.staff, texts=_texts(
        de={"subject": "Kennenlernen: {{ angebot }}", "body": "Liebe Familie von {{ vorname }},\n\nwir freuen uns "
            "auf Sie am {{ termin }} in {{ termin_ort }}."},
        en={"subject": "Meet us: {{ angebot }}"}))
    german = _bewerber(world)
    english_holder = world.stranger
    english_holder.workpro_person.language = "en"
    english_holder.workpro_person.save(update_fields=["language"])
    english = _bewerber(world, holder=english_holder)
    with run_on_commit():
        _invite(world, german)
        _invite(world, english)
    de_mail = next(m for m in mail.outbox if m.to == [world.holder.email])
    en_mail = next(m for m in mail.outbox if m.to == [english_holder.email])
    assert de_mail.subject == "Kennenlernen: Krippenplatz"
    first = world.holder.workpro_person.first_name
    assert f"Liebe Familie von {first}," in de_mail.body and "in Raum 3." in de_mail.body
    assert " um " in de_mail.body and "Uhr in Raum 3" in de_mail.body
    assert "Guten Tag," in de_mail.body and "Mit freundlichen Grüßen" in de_mail.body  # the frame stays
    assert "einladung.ics" in [a[0] for a in de_mail.attachments]
    html = de_mail.alternatives[0][0]
    assert f"Liebe Familie von {first}," in html
    # English: own subject; no own English body -> the plugin's English body, not the German text
    assert en_mail.subject == "Meet us: Krippenplatz"
    assert "Liebe Familie" not in en_mail.body


def test_other_institutions_and_events_keep_the_default(world, run_on_commit):
    svc.mail_text_save(institution=world.other, event="invited", by=world.other_staff,
                       texts=_texts(de={"subject": "BBZ lädt ein"}))
    with run_on_commit():
        _invite(world, _bewerber(world))
    assert mail.outbox[0].subject == "Einladung zum persönlichen Gespräch: Krippenplatz"


def test_a_text_broken_behind_the_editors_back_falls_back_to_the_default(world, run_on_commit):
    MailText.objects.create(institution=world.kita, event="invited", language="de",
                            subject="{% debug %}", body="{{ vorname.__class__ }}")
    with run_on_commit():
        _invite(world, _bewerber(world))
    message = mail.outbox[0]
    assert message.subject == "Einladung zum persönlichen Gespräch: Krippenplatz"
    assert "wir laden" in message.body


def test_the_password_sms_uses_the_own_text(world, sms_outbox):
    svc.mail_text_save(institution=world.kita, event="sms_password_issued", by=world.staff,
                       texts=_texts(de={"sms": "{{ einrichtung }}: Passwort {{ passwort }}"}))
    message = notify.queue_sms(to="+4915112345678", template="password_issued", institution=world.kita,
                               language="de", context={"password": "Geheim-123", "email": "a@example.org"},
                               secret_keys=("password",))
    assert notify.deliver(message.pk)
    assert sms_outbox[-1].body == f"{world.kita.name}: Passwort Geheim-123"


# --- preview --------------------------------------------------------------------------------------

def test_preview_renders_a_real_enrollment_and_sends_nothing(world):
    from workpro_plugin.models import OutboxMessage

    enrollment = enrollment_in(S.EINGELADEN, offer=world.offer, institution=world.kita, holder=world.holder)
    result = svc.preview(institution=world.kita, event="invited", language="de", enrollment=enrollment,
                         texts={"subject": "Hallo {{ vorname }}", "body": "Termin: {{ termin }}\n\n{{ vertragsnummer }}"})
    assert result["subject"] == f"Hallo {enrollment.participant.first_name}"
    assert "Termin: " in result["text"] and " Uhr" in result["text"]
    assert "[vertragsnummer]" in result["text"]  # what the enrollment has not yet is marked
    assert not OutboxMessage.objects.exists() and mail.outbox == []


# --- contract terms -------------------------------------------------------------------------------

def _pdf_text(content: bytes) -> str:
    from pypdf import PdfReader
    return " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(content)).pages)


def _make_offer(world, enrollment):
    complete_sections(enrollment, phase=2, income=20000)
    with TestCase.captureOnCommitCallbacks(execute=True):  # the Angebot is rendered after commit
        return enrollment_svc.enrollment_make_offer(enrollment=enrollment, by=world.staff, costs=Decimal("100"),
                                                    contract_start=TODAY + timedelta(days=30),
                                                    contract_end=TODAY + timedelta(days=400))


def test_terms_are_printed_in_the_angebot_and_kept_as_sent(world):
    svc.contract_terms_save(institution=world.kita, by=world.staff, contract="<p>Kündigung mit Monatsfrist.</p>",
                            house_rules="<p>Bringzeit bis 9 Uhr.</p>", fee_rules="")
    world.offer.terms_house_rules = "<p>Hausschuhe mitbringen.</p>"
    world.offer.save()
    enrollment = _make_offer(world, enrollment_in(S.EINGESTUFT, offer=world.offer, institution=world.kita,
                                                  holder=world.holder))
    enrollment.refresh_from_db()
    assert enrollment.contract_terms == {"contract": "<p>Kündigung mit Monatsfrist.</p>",
                                         "house_rules": "<p>Hausschuhe mitbringen.</p>", "fee_rules": ""}
    document = enrollment.documents.get(kind="contract_offer")
    with document.file.open("rb") as handle:
        text = _pdf_text(handle.read())
    assert "Kündigung mit Monatsfrist." in text and "Hausschuhe mitbringen." in text
    assert "Bringzeit" not in text  # the offer's own Hausordnung replaces the institution's
    # later edits do not reach the contract that was sent: a re-render prints the stored version
    svc.contract_terms_save(institution=world.kita, by=world.staff, contract="<p>Neue Fassung.</p>")
    from workpro_plugin.services.documents import render_contract_offer_pdf
    again = _pdf_text(render_contract_offer_pdf(enrollment, sign=False))
    assert "Kündigung mit Monatsfrist." in again and "Neue Fassung" not in again
    assert AuditEvent.objects.filter(action=AuditAction.TEXTS_CHANGED, detail__kind="contract_terms").count() == 2


def test_terms_are_cleaned_of_what_the_editor_cannot_make(world):
    svc.contract_terms_save(institution=world.kita, by=world.staff,
                            contract='<p>Text<img src="file:///etc/passwd"><script>x()</script></p>')
    stored = ContractTerms.objects.get(institution=world.kita).contract
    assert "Text" in stored and "img" not in stored and "script" not in stored


def test_the_ratified_contract_carries_the_sent_terms(world):
    from tests.factories import add_signed_copy

    svc.contract_terms_save(institution=world.kita, by=world.staff, contract="<p>Kündigung mit Monatsfrist.</p>")
    enrollment = _make_offer(world, enrollment_in(S.EINGESTUFT, offer=world.offer, institution=world.kita,
                                                  holder=world.holder))
    svc.contract_terms_save(institution=world.kita, by=world.staff, contract="<p>Neue Fassung.</p>")
    add_signed_copy(enrollment)
    enrollment = enrollment_svc.enrollment_upload_signed(enrollment=enrollment, by=world.holder)
    with TestCase.captureOnCommitCallbacks(execute=True):  # countersigned after commit
        enrollment = enrollment_svc.enrollment_ratify(enrollment=enrollment, by=world.staff)
    ratified = enrollment.documents.get(kind="ratified_contract")
    with ratified.file.open("rb") as handle:
        text = _pdf_text(handle.read())
    assert "Kündigung mit Monatsfrist." in text and "Neue Fassung" not in text



def test_preview_for_an_enrollment_without_interview_marks_the_appointment(world):
    enrollment = _bewerber(world)
    result = svc.preview(institution=world.kita, event="invited", language="de", enrollment=enrollment,
                         texts={"subject": "", "body": "Am {{ termin }} in {{ termin_ort }}."})
    assert result["subject"].startswith("Einladung zum persönlichen Gespräch")
    assert "Am [termin] in [termin_ort]." in result["text"]
