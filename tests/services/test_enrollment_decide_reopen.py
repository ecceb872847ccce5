"""Staff's daily exceptions: decisions that respect the interview, reopening, extending deadlines."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from django.utils.formats import date_format

from tests.factories import enrollment_in, make_child
from workpro_plugin.models import Enrollment, EnrollmentLog, OutboxMessage
from workpro_plugin.services import enrollments as svc
from workpro_plugin.services import minors
from workpro_plugin.services.enrollments import EnrollmentActionError

pytestmark = pytest.mark.django_db
S = Enrollment.Status
B = Enrollment.Basis
TODAY = timezone.localdate()


def _invited(world, at):
    enrollment = enrollment_in(S.EINGELADEN, offer=world.offer, institution=world.kita, holder=world.holder)
    Enrollment.objects.filter(pk=enrollment.pk).update(interview_at=at)
    enrollment.refresh_from_db()
    return enrollment


# --- decisions respect the interview -------------------------------------------------------------

def test_no_show_on_29_november_for_an_interview_on_5_december_is_refused(world):
    """The reported bug: a no-show rejection was accepted and mailed six days before the interview."""
    interview = timezone.make_aware(datetime(2026, 12, 5, 10, 0))
    with time_machine.travel(timezone.make_aware(datetime(2026, 11, 20, 9, 0)), tick=False):
        enrollment = _invited(world, interview)
    with time_machine.travel(timezone.make_aware(datetime(2026, 11, 29, 15, 0)), tick=False):
        with pytest.raises(EnrollmentActionError) as refused:
            svc.enrollment_decide(enrollment=enrollment, by=world.staff, accept=False, basis=B.NO_SHOW,
                                  reason="nicht erschienen")
    assert refused.value.field == "basis"
    assert "erst nach dem Gesprächstermin" in str(refused.value) and "05.12.2026" in str(refused.value)
    enrollment.refresh_from_db()
    assert enrollment.status == S.EINGELADEN and not enrollment.decision_basis
    assert not OutboxMessage.objects.filter(context__event="decided_abgelehnt").exists()
    assert not EnrollmentLog.objects.filter(enrollment=enrollment, action__startswith="workpro.enrollment.decided")


@pytest.mark.parametrize("basis", [B.ATTENDED, B.NO_SHOW])
def test_attended_and_no_show_are_possible_once_the_interview_time_has_passed(world, basis):
    interview = timezone.now() + timedelta(hours=2)
    enrollment = _invited(world, interview)
    with time_machine.travel(interview - timedelta(minutes=1)):
        with pytest.raises(EnrollmentActionError, match="erst nach dem Gesprächstermin"):
            svc.enrollment_decide(enrollment=enrollment, by=world.staff, accept=False, basis=basis, reason="x")
    with time_machine.travel(interview + timedelta(minutes=1)):
        decided = svc.enrollment_decide(enrollment=enrollment, by=world.staff, accept=False, basis=basis,
                                        reason="nicht erschienen")
    assert decided.status == S.ABGELEHNT and decided.decision_basis == basis


def test_without_interview_is_possible_at_any_time(world):
    before = _invited(world, timezone.now() + timedelta(days=6))
    assert before.decision_bases() == [B.NO_INTERVIEW]
    assert svc.enrollment_decide(enrollment=before, by=world.staff, accept=True,
                                 basis=B.NO_INTERVIEW).status == S.KANDIDAT
    applicant = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder)
    assert svc.enrollment_decide(enrollment=applicant, by=world.staff, accept=True,
                                 basis=B.NO_INTERVIEW).status == S.KANDIDAT


def test_the_model_refuses_a_basis_not_possible_yet(world):
    from django_fsm import TransitionNotAllowed

    enrollment = _invited(world, timezone.now() + timedelta(days=6))
    with pytest.raises(TransitionNotAllowed):
        enrollment.decide(accept=False, basis=B.NO_SHOW)
    assert enrollment.status == S.EINGELADEN and not enrollment.decision_basis


# --- reopen --------------------------------------------------------------------------------------

def test_leitung_reopens_a_rejection_to_bewerber_logged_and_mailed(world, run_on_commit):
    rejected = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder)
    svc.enrollment_decide(enrollment=rejected, by=world.staff, accept=False, basis=B.NO_INTERVIEW, reason="voll")
    with pytest.raises(EnrollmentActionError) as missing:
        svc.enrollment_reopen(enrollment=rejected, by=world.staff, reason="  ")
    assert missing.value.field == "reason"
    with run_on_commit():
        reopened = svc.enrollment_reopen(enrollment=rejected, by=world.staff, reason="Ein Platz ist frei geworden")
    assert reopened.status == S.BEWERBER and not reopened.decision_basis and not reopened.decision_reason
    entry = reopened.log_entries.latest("pk")
    assert (entry.action, entry.from_status, entry.to_status, entry.by) == (
        "workpro.enrollment.reopened", S.ABGELEHNT, S.BEWERBER, world.staff)
    assert entry.note == "Ein Platz ist frei geworden" and entry.label == "Wieder geöffnet"
    sent = mail.outbox[-1]
    assert sent.to == ["eltern@example.org"] and sent.subject == "Anmeldung wieder geöffnet: Krippenplatz"
    assert "Ein Platz ist frei geworden" in sent.body and "Status: Bewerber" in sent.body


def test_reopening_an_expired_offer_needs_a_new_deadline(world, run_on_commit):
    expired = enrollment_in(S.ANGEBOT, offer=world.offer, institution=world.kita, holder=world.holder,
                            for_transition="expire")
    svc.expire_overdue_offers()
    expired.refresh_from_db()
    assert expired.status == S.ABGELAUFEN
    with pytest.raises(EnrollmentActionError) as no_date:
        svc.enrollment_reopen(enrollment=expired, by=world.staff, reason="Urlaub")
    assert no_date.value.field == "deadline"
    with pytest.raises(EnrollmentActionError, match="Vergangenheit") as past:
        svc.enrollment_reopen(enrollment=expired, by=world.staff, reason="Urlaub", deadline=TODAY - timedelta(days=1))
    assert past.value.field == "deadline"
    new = TODAY + timedelta(days=10)
    with run_on_commit():
        reopened = svc.enrollment_reopen(enrollment=expired, by=world.staff, reason="Urlaub", deadline=new)
    assert reopened.status == S.ANGEBOT and reopened.signed_copy_deadline == new
    assert reopened.current_deadline == new
    sent = mail.outbox[-1]
    assert sent.subject == "Angebot wieder geöffnet: Krippenplatz"
    assert date_format(new, "DATE_FORMAT") in sent.body and "Urlaub" in sent.body


def test_only_the_leitung_of_the_institution_may_reopen(world):
    for who in ("caseworker", "other_staff", "holder", "stranger"):
        rejected = enrollment_in(S.ABGELEHNT, offer=world.offer, institution=world.kita, holder=world.holder)
        with pytest.raises(EnrollmentActionError, match="nicht erlaubt"):
            svc.enrollment_reopen(enrollment=rejected, by=getattr(world, who), reason="Bitte")
        rejected.refresh_from_db()
        assert rejected.status == S.ABGELEHNT and not rejected.log_entries.exists()


@pytest.mark.parametrize("status", [s for s in S.values if s not in (S.ABGELEHNT, S.ABGELAUFEN)])
def test_only_rejected_or_expired_enrollments_reopen(world, status):
    enrollment = enrollment_in(status, offer=world.offer, institution=world.kita, holder=world.holder)
    with pytest.raises(EnrollmentActionError, match="nicht möglich"):
        svc.enrollment_reopen(enrollment=enrollment, by=world.staff, reason="x", deadline=TODAY)


# --- extend deadlines ----------------------------------------------------------------------------

def test_extend_the_signed_offer_deadline_before_and_after_it_passed(world, run_on_commit):
    offer = enrollment_in(S.ANGEBOT, offer=world.offer, institution=world.kita, holder=world.holder)
    new = TODAY + timedelta(days=21)
    with run_on_commit():
        extended = svc.enrollment_extend_deadline(enrollment=offer, by=world.staff, which="offer", deadline=new,
                                                  reason="Eltern im Urlaub")
    assert extended.signed_copy_deadline == new and extended.status == S.ANGEBOT
    entry = extended.log_entries.latest("pk")
    assert entry.action == "workpro.enrollment.deadline_extended_offer" and "Eltern im Urlaub" in entry.note
    sent = mail.outbox[-1]
    assert sent.subject == "Frist verlängert: Krippenplatz"
    assert "die Frist für das unterschriebene Angebot" in sent.body and date_format(new, "DATE_FORMAT") in sent.body
    # Passed but not yet expired by the nightly job: extended in place, the upload is possible again.
    passed = enrollment_in(S.ANGEBOT, offer=world.offer, institution=world.kita, holder=world.holder,
                           for_transition="expire")
    svc.enrollment_extend_deadline(enrollment=passed, by=world.staff, which="offer", deadline=new, reason="krank")
    assert svc.enrollment_upload_signed(enrollment=passed, by=world.holder).status == S.ANGENOMMEN


def test_extending_an_expired_offer_reopens_it(world):
    expired = enrollment_in(S.ANGEBOT, offer=world.offer, institution=world.kita, holder=world.holder,
                            for_transition="expire")
    svc.expire_overdue_offers()
    new = TODAY + timedelta(days=5)
    result = svc.enrollment_extend_deadline(enrollment=expired, by=world.staff, which="offer", deadline=new,
                                            reason="Post kam zu spät")
    assert (result.status, result.signed_copy_deadline) == (S.ANGEBOT, new)
    assert result.log_entries.latest("pk").action == "workpro.enrollment.reopened"
    assert svc.expire_overdue_offers() == 0


def test_extend_the_income_proof_deadline_lifts_the_maximum_rate(world):
    enrollment = enrollment_in(S.EINGESTUFT, offer=world.offer, institution=world.kita, holder=world.holder)
    svc.enrollment_request_proof(enrollment=enrollment, by=world.caseworker, deadline=TODAY)
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        svc.apply_overdue_proofs()
        enrollment.refresh_from_db()
        assert enrollment.proof_overdue
        new = timezone.localdate() + timedelta(days=7)
        extended = svc.enrollment_extend_deadline(enrollment=enrollment, by=world.staff, which="proof",
                                                  deadline=new, reason="Arbeitgeber braucht länger")
    assert extended.proof_deadline == new and not extended.proof_overdue and extended.current_deadline == new


def test_extend_the_care_deadline_moves_the_reminders(world, run_on_commit):
    child = make_child(world.holder)
    contract = enrollment_in(S.ANGENOMMEN, offer=world.offer, institution=world.kita, holder=world.holder,
                             participant=child)
    Enrollment.objects.filter(pk=contract.pk).update(contract_start=TODAY + timedelta(days=3))
    contract.refresh_from_db()
    assert contract.care_deadline_effective == contract.contract_start
    new = TODAY + timedelta(days=30)
    extended = svc.enrollment_extend_deadline(enrollment=contract, by=world.staff, which="care", deadline=new,
                                              reason="Passfoto folgt")
    assert extended.care_deadline == new and extended.care_deadline_effective == new
    assert minors.send_care_reminders() == 0  # the contract starts in 3 days, but the data is due in 30
    with time_machine.travel(timezone.now() + timedelta(days=27)):
        assert minors.send_care_reminders() == 1


def test_extend_deadline_refusals(world):
    applicant = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder)
    offer = enrollment_in(S.ANGEBOT, offer=world.offer, institution=world.kita, holder=world.holder)
    cases = [
        (dict(enrollment=offer, by=world.caseworker, which="offer", deadline=TODAY, reason="x"), "nicht erlaubt"),
        (dict(enrollment=offer, by=world.other_staff, which="offer", deadline=TODAY, reason="x"), "nicht erlaubt"),
        (dict(enrollment=offer, by=world.staff, which="offer", deadline=TODAY - timedelta(days=1), reason="x"),
         "Vergangenheit"),
        (dict(enrollment=offer, by=world.staff, which="offer", deadline=TODAY, reason=""), "Grund"),
        (dict(enrollment=applicant, by=world.staff, which="offer", deadline=TODAY, reason="x"), "Angebot"),
        (dict(enrollment=applicant, by=world.staff, which="proof", deadline=TODAY, reason="x"), "Einkommensnachweis"),
        (dict(enrollment=applicant, by=world.staff, which="care", deadline=TODAY, reason="x"), "Notfallkontakt"),
    ]
    for kwargs, message in cases:
        with pytest.raises(EnrollmentActionError, match=message):
            svc.enrollment_extend_deadline(**kwargs)
    offer.refresh_from_db()
    assert offer.signed_copy_deadline == TODAY + timedelta(days=7) and not offer.log_entries.exists()
    assert svc.extendable_deadlines(applicant) == [] and svc.extendable_deadlines(offer) == ["offer", "care"]


def test_mails_are_in_the_account_holders_language(world, run_on_commit):
    person = world.holder.workpro_person
    person.language = "en"
    person.save(update_fields=["language"])
    offer = enrollment_in(S.ANGEBOT, offer=world.offer, institution=world.kita, holder=world.holder)
    with run_on_commit():
        svc.enrollment_extend_deadline(enrollment=offer, by=world.staff, which="offer",
                                       deadline=TODAY + timedelta(days=9), reason="Urlaub")
    assert mail.outbox[-1].subject == "Deadline extended: Krippenplatz"
