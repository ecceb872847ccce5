"""The enrollment status machine: the full transition table, guards, log, mails, numbers, deadlines."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from tests.factories import (
    add_signed_copy,
    complete_sections,
    enrollment_in,
    make_child,
    make_user,
    mark_printed,
)
from workpro_plugin.models import (
    OPEN_STATUSES,
    Enrollment,
    EnrollmentLog,
    EnrollmentSection,
    Person,
)
from workpro_plugin.services import enrollments as svc
from workpro_plugin.services.enrollments import EnrollmentActionError

pytestmark = pytest.mark.django_db
S = Enrollment.Status
TODAY = timezone.localdate()

CALLS = {
    "submit": lambda e, u: svc.enrollment_submit(enrollment=e, by=u),
    "invite": lambda e, u: svc.enrollment_invite(enrollment=e, by=u, at=timezone.now() + timedelta(days=3),
                                                 place="Raum 1"),
    "decide": lambda e, u: svc.enrollment_decide(  # the interview (in two days) is over
        enrollment=_interview_over(e), by=u, accept=True,
        basis=Enrollment.Basis.ATTENDED if e.status == S.EINGELADEN else Enrollment.Basis.NO_INTERVIEW),
    "make_offer": lambda e, u: svc.enrollment_make_offer(
        enrollment=e, by=u, costs=Decimal("150.00"), contract_start=TODAY + timedelta(days=30),
        contract_end=TODAY + timedelta(days=395)),
    "upload_signed": lambda e, u: svc.enrollment_upload_signed(enrollment=e, by=u),
    "return_upload": lambda e, u: svc.enrollment_return_upload(enrollment=e, by=u, reason="Unterschrift fehlt"),
    "ratify": lambda e, u: svc.enrollment_ratify(enrollment=e, by=u),
    "expire": lambda e, u: svc.enrollment_expire(enrollment=e, by=u),
    "withdraw": lambda e, u: svc.enrollment_withdraw(enrollment=e, by=u, reason="umgezogen"),
}
STAFF = {"staff", "superuser"}


def _interview_over(enrollment):
    if enrollment.interview_at:
        Enrollment.objects.filter(pk=enrollment.pk).update(interview_at=timezone.now() - timedelta(hours=1))
    return enrollment.pk
ALLOWED = {
    "submit": ({S.INTERESSENT: S.BEWERBER, S.KANDIDAT: S.EINGESTUFT}, {"holder"}),
    "invite": ({S.BEWERBER: S.EINGELADEN}, STAFF),
    "decide": ({S.BEWERBER: S.KANDIDAT, S.EINGELADEN: S.KANDIDAT}, {"system", *STAFF}),
    "make_offer": ({S.EINGESTUFT: S.ANGEBOT}, STAFF),
    "upload_signed": ({S.ANGEBOT: S.ANGENOMMEN}, {"holder"}),
    "return_upload": ({S.ANGENOMMEN: S.ANGEBOT}, STAFF),
    "ratify": ({S.ANGENOMMEN: S.RATIFIZIERT}, STAFF),
    "expire": ({S.ANGEBOT: S.ABGELAUFEN}, {"system", *STAFF}),
    "withdraw": ({s: S.ZURUECKGEZOGEN for s in OPEN_STATUSES}, {"holder", "system", *STAFF}),
}


@pytest.mark.parametrize("transition", sorted(CALLS))
def test_transition_table(world, transition):
    """Every (state × actor) for this transition: allowed ones succeed, all others change nothing."""
    world.offer.capacity = None  # dozens of contracts on one offer: capacity is tests/services/test_capacity.py
    world.offer.save(update_fields=["capacity"])
    actors = {"holder": world.holder, "staff": world.staff, "other_staff": world.other_staff,
              "stranger": world.stranger, "superuser": world.superuser, "system": None}
    targets, allowed_actors = ALLOWED[transition]
    checked = 0
    for status in S.values:
        for actor_name, actor in actors.items():
            enrollment = enrollment_in(status, offer=world.offer, institution=world.kita, holder=world.holder,
                                       for_transition=transition)
            log_before = EnrollmentLog.objects.filter(enrollment=enrollment).count()
            should_pass = status in targets and actor_name in allowed_actors
            try:
                result = CALLS[transition](enrollment, actor)
            except EnrollmentActionError as exc:
                assert not should_pass, f"{transition} from {status} by {actor_name} refused: {exc}"
                enrollment.refresh_from_db()
                assert enrollment.status == status
                assert EnrollmentLog.objects.filter(enrollment=enrollment).count() == log_before
            else:
                assert should_pass, f"{transition} from {status} by {actor_name} was allowed"
                assert result.status == targets[status]
                entry = EnrollmentLog.objects.filter(enrollment=enrollment).latest("pk")
                assert (entry.from_status, entry.to_status, entry.by) == (status, targets[status], actor)
            checked += 1
    assert checked == len(S.values) * len(actors)


def test_full_happy_path_with_mails(world, run_on_commit):
    holder, staff, offer = world.holder, world.staff, world.offer
    child = make_child(holder)
    enrollment = svc.enrollment_start(offer=offer, participant=child, by=holder)
    assert enrollment.contract_number == "KITA-%d-00001" % TODAY.year
    assert Person.objects.get(pk=child.pk).customer_number == "K-000001"
    complete_sections(enrollment, phase=1)
    svc.enrollment_mark_printed(enrollment=enrollment, by=holder)

    # Each action commits on its own, as in use: a PDF is rendered after its commit and the mail
    # attaching it goes once it is ready (within one block it would go at the block's end).
    with run_on_commit():
        e = svc.enrollment_submit(enrollment=enrollment, by=holder)
    with run_on_commit():
        e = svc.enrollment_invite(enrollment=e, by=staff, at=timezone.now() + timedelta(days=2), place="Raum 3",
                                  note="Bitte Impfpass mitbringen")
        _interview_over(e)
        e = svc.enrollment_decide(enrollment=e, by=staff, accept=True, basis=Enrollment.Basis.ATTENDED)
        complete_sections(e, phase=2, income=30000)
        svc.enrollment_mark_printed(enrollment=e, by=holder)
    with run_on_commit():
        e = svc.enrollment_submit(enrollment=e, by=holder)
    with run_on_commit():
        e = svc.enrollment_make_offer(enrollment=e, by=staff, costs=Decimal("100"),
                                      contract_start=TODAY + timedelta(days=30),
                                      contract_end=TODAY + timedelta(days=400))
    with run_on_commit():
        add_signed_copy(e)
        e = svc.enrollment_upload_signed(enrollment=e, by=holder)
        e = svc.enrollment_ratify(enrollment=e, by=staff)
    assert e.status == S.RATIFIZIERT
    subjects = [m.subject for m in mail.outbox]
    assert subjects == [  # "Anmeldung begonnen" was queued before this block and is not executed here
        "Anmeldung eingegangen: Krippenplatz",
        "Einladung zum persönlichen Gespräch: Krippenplatz", "Aufnahme als Kandidat: Krippenplatz",
        "Anmeldung eingestuft: Krippenplatz", "Ihr Angebot: Krippenplatz",
        "Unterschriebenes Angebot eingegangen: Krippenplatz", "Vertrag ratifiziert: Krippenplatz",
    ]
    assert all(m.to == ["eltern@example.org"] for m in mail.outbox)
    invitation = next(m for m in mail.outbox if "Einladung" in m.subject)
    assert "Raum 3" in invitation.body and "Bitte Impfpass mitbringen" in invitation.body
    ics = invitation.attachments[0]
    assert ics[0] == "einladung.ics" and "BEGIN:VEVENT" in ics[1] and "Raum 3" in ics[1]
    offer_mail = next(m for m in mail.outbox if m.subject.startswith("Ihr Angebot"))
    assert "100,00 €" in offer_mail.body
    assert [entry.action for entry in e.log_entries.all()] == [
        "workpro.enrollment.registered", "workpro.enrollment.participant_enrolled", "workpro.enrollment.printed",
        "workpro.enrollment.submitted", "workpro.enrollment.invited", "workpro.enrollment.decided_kandidat",
        "workpro.enrollment.printed", "workpro.enrollment.classified", "workpro.enrollment.offer_made",
        "workpro.enrollment.accepted", "workpro.enrollment.ratified",
    ]
    number = e.contract_number
    assert list(e.documents.filter(kind="application").order_by("pk").values_list("title", flat=True)) == [
        f"Anmeldung {number}", f"Anmeldung {number} (ergänzt zur Einstufung)"]


def test_submit_needs_current_print(world):
    enrollment = enrollment_in(S.INTERESSENT, offer=world.offer, institution=world.kita, holder=world.holder)
    EnrollmentSection.objects.filter(enrollment=enrollment).update(data={"changed": True})
    with pytest.raises(EnrollmentActionError) as exc:
        svc.enrollment_submit(enrollment=enrollment, by=world.holder)
    assert any("drucken" in reason for reason in exc.value.reasons)
    mark_printed(enrollment)
    assert svc.enrollment_submit(enrollment=enrollment, by=world.holder).status == S.BEWERBER


def test_submit_needs_required_sections(world):
    enrollment = enrollment_in(S.KANDIDAT, offer=world.offer, institution=world.kita, holder=world.holder)
    EnrollmentSection.objects.filter(enrollment=enrollment, section="income").delete()
    mark_printed(enrollment)
    with pytest.raises(EnrollmentActionError) as exc:
        svc.enrollment_submit(enrollment=enrollment, by=world.holder)
    assert any("Kandidat nachzutragen" in reason for reason in exc.value.reasons)


def test_decide_basis_must_fit_the_state(world):
    enrollment = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder)
    with pytest.raises(EnrollmentActionError, match="Entscheidungsgrundlage"):
        svc.enrollment_decide(enrollment=enrollment, by=world.staff, accept=True, basis=Enrollment.Basis.NO_SHOW)
    rejected = svc.enrollment_decide(enrollment=enrollment, by=world.staff, accept=False,
                                     basis=Enrollment.Basis.NO_INTERVIEW, reason="keine Plätze für dieses Alter")
    assert rejected.status == S.ABGELEHNT and rejected.decision_reason == "keine Plätze für dieses Alter"


def test_make_offer_costs_differing_from_fee_schedule_need_a_reason(world):
    from workpro_plugin.models import FeeBracket, FeeSchedule

    schedule = FeeSchedule.objects.create(name="Beiträge", maximum_rate=Decimal("400"))
    FeeBracket.objects.create(schedule=schedule, income_from=0, income_to=None, amount=Decimal("150"))
    world.offer.fee_schedule = schedule
    world.offer.save()
    enrollment = enrollment_in(S.EINGESTUFT, offer=world.offer, institution=world.kita, holder=world.holder)
    complete_sections(enrollment, phase=2, income=20000)
    kwargs = {"contract_start": TODAY + timedelta(days=30), "contract_end": TODAY + timedelta(days=60)}
    with pytest.raises(EnrollmentActionError, match="begründen"):
        svc.enrollment_make_offer(enrollment=enrollment, by=world.staff, costs=Decimal("120"), **kwargs)
    e = svc.enrollment_make_offer(enrollment=enrollment, by=world.staff, costs=Decimal("150"), **kwargs)
    assert e.signed_copy_deadline == TODAY + timedelta(days=world.offer.contract_return_days)


def test_make_offer_refuses_bad_terms(world):
    enrollment = enrollment_in(S.EINGESTUFT, offer=world.offer, institution=world.kita, holder=world.holder)
    with pytest.raises(EnrollmentActionError) as exc:
        svc.enrollment_make_offer(enrollment=enrollment, by=world.staff, costs=Decimal("100"),
                                  contract_start=TODAY + timedelta(days=30), contract_end=TODAY)
    assert exc.value.reasons
    enrollment.refresh_from_db()
    assert enrollment.costs is None and enrollment.status == S.EINGESTUFT


def test_returned_upload_needs_a_new_signed_copy(world):
    enrollment = enrollment_in(S.ANGENOMMEN, offer=world.offer, institution=world.kita, holder=world.holder)
    returned = svc.enrollment_return_upload(enrollment=enrollment, by=world.staff, reason="Seite 2 fehlt")
    assert returned.status == S.ANGEBOT
    Enrollment.objects.filter(pk=enrollment.pk).update(signed_copy_deadline=TODAY + timedelta(days=5))
    with pytest.raises(EnrollmentActionError, match="unterschriebenes Angebot"):
        svc.enrollment_upload_signed(enrollment=enrollment, by=world.holder)
    add_signed_copy(enrollment)
    assert svc.enrollment_upload_signed(enrollment=enrollment, by=world.holder).status == S.ANGENOMMEN


def test_stale_instance_loses_against_a_concurrent_change(world):
    from django_fsm import ConcurrentTransition

    enrollment = enrollment_in(S.ANGENOMMEN, offer=world.offer, institution=world.kita, holder=world.holder)
    first, second = Enrollment.objects.get(pk=enrollment.pk), Enrollment.objects.get(pk=enrollment.pk)
    first.ratify()
    first.save()
    second.return_upload()
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        second.save()
    with pytest.raises(EnrollmentActionError, match="nicht möglich"):
        svc.enrollment_ratify(enrollment=second, by=world.staff)  # the service reloads: a clear message
    assert EnrollmentLog.objects.filter(enrollment=enrollment).count() == 0


# --- participants, guardians, numbers ----------------------------------------------------------

def test_minor_can_only_be_enrolled_by_psb1(world):
    child = make_child(world.holder)
    with pytest.raises(EnrollmentActionError, match="PSB1"):
        svc.enrollment_start(offer=world.offer, participant=child, by=world.stranger)
    assert svc.enrollment_start(offer=world.offer, participant=child, by=world.holder).participant == child


def test_customer_number_once_per_person_contract_number_per_enrollment(world, make_offer):
    hort = make_offer(world.kita, "Hortplatz")
    first = svc.enrollment_start(offer=world.offer, participant=world.holder.workpro_person, by=world.holder)
    second = svc.enrollment_start(offer=hort, participant=world.holder.workpro_person, by=world.holder)
    again = svc.enrollment_start(offer=world.offer, participant=world.holder.workpro_person, by=world.holder)
    other_holder = make_user("zwei@example.org")
    third = svc.enrollment_start(offer=hort, participant=other_holder.workpro_person, by=other_holder)
    year = TODAY.year
    assert [first.contract_number, second.contract_number, third.contract_number] == [
        f"KITA-{year}-00001", f"KITA-{year}-00002", f"KITA-{year}-00003"]
    assert again.pk == first.pk
    assert world.holder.workpro_person.__class__.objects.get(user=world.holder).customer_number == "K-000001"
    assert Person.objects.get(user=other_holder).customer_number == "K-000002"


def test_customer_number_is_kept_across_institutions_of_the_operator(world, make_offer):
    bbz_offer = make_offer(world.other, "Ausbildung", category="ausbildung")
    svc.enrollment_start(offer=world.offer, participant=world.holder.workpro_person, by=world.holder)
    other = svc.enrollment_start(offer=bbz_offer, participant=world.holder.workpro_person, by=world.holder)
    assert other.contract_number == f"BBZ-{TODAY.year}-00001"
    assert Person.objects.get(user=world.holder).customer_number == "K-000001"


def test_custom_contract_number_format(world):
    world.kita.contract_number_prefix = "SONNE"
    world.kita.contract_number_format = "{prefix}/{number:04d}/{year}"
    world.kita.save()
    e = svc.enrollment_start(offer=world.offer, participant=world.holder.workpro_person, by=world.holder)
    assert e.contract_number == f"SONNE/0001/{TODAY.year}"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fifty_concurrent_enrollments_get_distinct_gapless_numbers(world):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (set DATABASE_URL); SQLite serialises all writers anyway")
    holders = [make_user(f"eltern{i}@example.org") for i in range(50)]
    errors, barrier = [], threading.Barrier(50)

    def enroll(user):
        from django.db import connection as thread_connection
        try:
            barrier.wait()
            svc.enrollment_start(offer=world.offer, participant=user.workpro_person, by=user)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=enroll, args=(user,)) for user in holders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(Enrollment.objects.values_list("contract_number", flat=True))
    assert numbers == [f"KITA-{TODAY.year}-{i:05d}" for i in range(1, 51)]
    customers = sorted(Person.objects.exclude(customer_number=None).values_list("customer_number", flat=True))
    assert customers == [f"K-{i:06d}" for i in range(1, 51)]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_staff_ratifying_at_once_exactly_one_wins(world):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (set DATABASE_URL)")
    enrollment = enrollment_in(S.ANGENOMMEN, offer=world.offer, institution=world.kita, holder=world.holder)
    colleague = make_user("leitung2@kita.test", person=False, groups=[world.kita.lead_group])
    results, barrier = [], threading.Barrier(2)

    def act(user, action):
        from django.db import connection as thread_connection
        try:
            barrier.wait()
            results.append(action(enrollment=enrollment.pk, by=user).status)
        except EnrollmentActionError as exc:
            results.append(exc.message)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=act, args=(world.staff, svc.enrollment_ratify)),
               threading.Thread(target=act, args=(colleague, svc.enrollment_ratify))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=str) == sorted([S.RATIFIZIERT, "Diese Aktion ist im Status „Ratifiziert“ nicht möglich."],
                                              key=str)
    assert EnrollmentLog.objects.filter(enrollment=enrollment, action="workpro.enrollment.ratified").count() == 1


# --- deadlines ------------------------------------------------------------------------------------

def test_overdue_offers_expire_once_with_mail(world, run_on_commit):
    enrollment = enrollment_in(S.ANGEBOT, offer=world.offer, institution=world.kita, holder=world.holder)
    Enrollment.objects.filter(pk=enrollment.pk).update(signed_copy_deadline=TODAY + timedelta(days=2))
    assert svc.expire_overdue_offers() == 0
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        with run_on_commit():
            assert svc.expire_overdue_offers() == 1
            assert svc.expire_overdue_offers() == 0  # safe to run twice
    enrollment.refresh_from_db()
    assert enrollment.status == S.ABGELAUFEN
    assert [m.subject for m in mail.outbox] == ["Angebot abgelaufen: Krippenplatz"]


def test_reminder_three_days_before_deadline_once(world, run_on_commit):
    enrollment = enrollment_in(S.ANGEBOT, offer=world.offer, institution=world.kita, holder=world.holder)
    Enrollment.objects.filter(pk=enrollment.pk).update(signed_copy_deadline=TODAY + timedelta(days=5))
    with run_on_commit():
        assert svc.send_deadline_reminders() == 0
        with time_machine.travel(timezone.now() + timedelta(days=2)):
            assert svc.send_deadline_reminders() == 1
            assert svc.send_deadline_reminders() == 0
    assert len(mail.outbox) == 1 and "Erinnerung" in mail.outbox[0].subject


def test_overdue_proof_applies_maximum_rate_once(world, run_on_commit):
    from workpro_plugin.models import FeeBracket, FeeSchedule

    schedule = FeeSchedule.objects.create(name="Beiträge", maximum_rate=Decimal("400"))
    FeeBracket.objects.create(schedule=schedule, income_from=0, income_to=None, amount=Decimal("150"))
    world.offer.fee_schedule = schedule
    world.offer.save()
    enrollment = enrollment_in(S.EINGESTUFT, offer=world.offer, institution=world.kita, holder=world.holder)
    complete_sections(enrollment, phase=2, income=20000)
    assert enrollment.computed_fee().amount == Decimal("150")
    with run_on_commit():
        svc.enrollment_request_proof(enrollment=enrollment, by=world.staff, deadline=TODAY + timedelta(days=10))
        with time_machine.travel(timezone.now() + timedelta(days=11)):
            assert svc.apply_overdue_proofs() == 1
            assert svc.apply_overdue_proofs() == 0
    enrollment.refresh_from_db()
    assert enrollment.proof_overdue
    assert enrollment.computed_fee().amount == Decimal("400")
    assert [m.subject for m in mail.outbox] == ["Bitte Einkommensnachweis einreichen: Krippenplatz",
                                                "Einkommensnachweis nicht eingegangen: Krippenplatz"]


def test_received_proof_stops_the_maximum_rate(world):
    enrollment = enrollment_in(S.EINGESTUFT, offer=world.offer, institution=world.kita, holder=world.holder)
    svc.enrollment_request_proof(enrollment=enrollment, by=world.staff, deadline=TODAY + timedelta(days=1))
    svc.enrollment_receive_proof(enrollment=enrollment, by=world.staff)
    with time_machine.travel(timezone.now() + timedelta(days=5)):
        assert svc.apply_overdue_proofs() == 0
    with pytest.raises(EnrollmentActionError):
        svc.enrollment_request_proof(enrollment=enrollment, by=world.holder, deadline=TODAY)


def test_schedules_exist_once():
    from django_q.models import Schedule

    names = set(Schedule.objects.values_list("name", flat=True))
    assert {"workpro-outbox-sweep", "workpro-expire-overdue-offers", "workpro-apply-overdue-proofs",
            "workpro-deadline-reminders"} <= names
    assert Schedule.objects.filter(name="workpro-deadline-reminders").count() == 1


def test_participant_with_own_login_gets_the_mail_too(world, run_on_commit):
    teen_user = make_user("teen@example.org", date_of_birth=TODAY - timedelta(days=16 * 365))
    teen = teen_user.workpro_person
    from workpro_plugin.models import Guardian

    Guardian.objects.create(participant=teen, guardian=world.holder.workpro_person, is_primary=True)
    enrollment = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder,
                               participant=teen)
    with run_on_commit():
        svc.enrollment_decide(enrollment=enrollment, by=world.staff, accept=True, basis="no_interview")
    assert sorted(m.to[0] for m in mail.outbox) == ["eltern@example.org", "teen@example.org"]
