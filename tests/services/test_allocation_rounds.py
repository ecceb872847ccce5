"""Platzvergabe: Kriterienkatalog, Vergaberunde (preview, confirm, explanations, replay),
Wunschliste and Nachrücken, on the database."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import make_child, make_offer, make_user, wish
from workpro_plugin.models import (
    AllocationResult,
    AllocationRound,
    AuditEvent,
    Criterion,
    Enrollment,
    EnrollmentLog,
    OutboxMessage,
)
from workpro_plugin.selectors import allocation as selectors
from workpro_plugin.services import allocation as svc
from workpro_plugin.services import enrollments as enrollment_svc
from workpro_plugin.services.allocation import AllocationError, WishChange

pytestmark = pytest.mark.django_db
S = Enrollment.Status
TODAY = timezone.localdate()


@pytest.fixture
def kitas(world):
    """Two Krippen: 'Sonne' (1 place, KiTa) and 'Mond' (1 place, second institution), four families."""
    sonne = make_offer(world.kita, "Krippe Sonne", capacity=1)
    mond = make_offer(world.other, "Krippe Mond", capacity=1)
    Criterion.objects.create(institution=world.kita, kind=Criterion.Kind.RESIDENCE, label="Wohnsitz in Musterstadt",
                             points=10, parameter="12345, Musterstadt")
    hardship = Criterion.objects.create(institution=world.kita, kind=Criterion.Kind.HARDSHIP, label="Härtefall",
                                        points=50)
    families = {}
    for name in ("anna", "ben", "cem", "dora"):
        holder = make_user(f"{name}@example.org")
        families[name] = (holder, make_child(holder, first_name=name.title(), postcode="99999", city="Anderswo"))
    staff = make_user("leitung2@bbz.test", person=False, groups=[world.kita.lead_group, world.other.lead_group])
    return world, sonne, mond, hardship, families, staff


def _round(offers, by, stichtag=None):
    return svc.round_create(title="Krippe 2027", stichtag=stichtag or TODAY, offers=offers, by=by)


def test_preview_saves_nothing_and_ranks_by_points_then_lottery(kitas):
    world, sonne, mond, hardship, fam, staff = kitas
    anna = wish(sonne, *fam["anna"], 1, lottery=500)
    ben = wish(sonne, *fam["ben"], 1, lottery=100)
    fam["anna"][1].__class__.objects.filter(pk=fam["anna"][1].pk).update(postcode="12345")
    round_ = _round([sonne], world.staff)
    logs = EnrollmentLog.objects.count()
    plan = svc.plan_round(round_)
    table = plan.tables[0]
    assert [(c.enrollment.pk, c.points, c.outcome) for c in table.candidates] == [
        (anna.pk, 10, "placed"), (ben.pk, 0, "waiting")]
    assert AllocationResult.objects.count() == 0 and EnrollmentLog.objects.count() == logs
    assert set(Enrollment.objects.values_list("status", flat=True)) == {S.BEWERBER}


def test_tie_is_broken_by_the_recorded_lottery_number_and_explained(kitas):
    world, sonne, mond, hardship, fam, staff = kitas
    anna = wish(sonne, *fam["anna"], 1, lottery=900)
    ben = wish(sonne, *fam["ben"], 1, lottery=12)
    plan = svc.round_confirm(round_=_round([sonne], world.staff), by=world.staff)
    anna.refresh_from_db(), ben.refresh_from_db()
    assert (ben.status, anna.status) == (S.KANDIDAT, S.BEWERBER)
    waiting = AllocationResult.objects.get(enrollment=anna)
    assert waiting.outcome == "waiting" and waiting.waiting_rank == 1
    assert "entschied die Losnummer (Anna: 900, kleinere zuerst)" in waiting.reason
    assert plan.round.is_confirmed


def test_confirmed_round_places_releases_lower_wishes_explains_and_replays(kitas):
    """Anna wants Sonne then Mond; Ben only Sonne (Härtefall, 50 points); Cem Mond first.
    Deferred acceptance: Ben takes Sonne, Anna falls back to Mond and outranks Cem there
    (Cem's lottery number is higher), Cem waits for Mond as number 1 with a reason."""
    world, sonne, mond, hardship, fam, staff = kitas
    a1 = wish(sonne, *fam["anna"], 1, lottery=1)
    a2 = wish(mond, *fam["anna"], 2, lottery=2)
    b1 = wish(sonne, *fam["ben"], 1, lottery=3)
    c1 = wish(mond, *fam["cem"], 1, lottery=4)
    svc.criterion_confirm(enrollment=b1, criterion=hardship, reason="Alleinerziehend, Schichtdienst", by=world.staff)
    round_ = _round([sonne, mond], staff)
    outbox = OutboxMessage.objects.count()
    svc.round_confirm(round_=round_, by=staff)
    for e in (a1, a2, b1, c1):
        e.refresh_from_db()
    assert (a1.status, a2.status, b1.status, c1.status) == (S.BEWERBER, S.KANDIDAT, S.KANDIDAT, S.BEWERBER)
    results = {r.enrollment_id: r for r in AllocationResult.objects.filter(round=round_)}
    assert results[a1.pk].outcome == "waiting" and results[a1.pk].waiting_rank == 1
    assert "niedrigste aufgenommene Punktzahl war 50, Anna hatte 0 Punkte" in results[a1.pk].reason
    assert results[c1.pk].outcome == "waiting" and results[c1.pk].lowest_admitted_points == 0
    assert b1.decision_basis == Enrollment.Basis.ALLOCATION
    # Every family got a mail; the round is in the audit log and replays to the same matching.
    assert OutboxMessage.objects.count() - outbox == 4
    assert AuditEvent.objects.filter(action="allocation.confirmed", object_id=str(round_.pk)).exists()
    round_.refresh_from_db()
    assert svc.replay(round_) == svc.recorded_matching(round_)
    assert svc.recorded_matching(round_)[fam["anna"][1].pk] == mond.pk


def test_a_child_placed_in_its_first_wish_releases_the_second(kitas):
    world, sonne, mond, hardship, fam, staff = kitas
    a1 = wish(sonne, *fam["anna"], 1, lottery=1)
    a2 = wish(mond, *fam["anna"], 2, lottery=1)
    svc.round_confirm(round_=_round([sonne, mond], staff), by=staff)
    a1.refresh_from_db(), a2.refresh_from_db()
    assert (a1.status, a2.status) == (S.KANDIDAT, S.ZURUECKGEZOGEN)
    assert AllocationResult.objects.get(enrollment=a2).outcome == "released"


def test_an_age_group_that_does_not_fit_is_ineligible_with_a_reason(kitas):
    world, sonne, mond, hardship, fam, staff = kitas
    sonne.age_min, sonne.starts_on = 6, TODAY + timedelta(days=60)
    sonne.save()
    anna = wish(sonne, *fam["anna"], 1, lottery=1)
    svc.round_confirm(round_=_round([sonne], world.staff), by=world.staff)
    result = AllocationResult.objects.get(enrollment=anna)
    assert result.outcome == "ineligible" and "nimmt Kinder ab 6 Jahren auf" in result.reason
    anna.refresh_from_db()
    assert anna.status == S.BEWERBER


def test_a_round_cannot_be_confirmed_before_its_stichtag_or_twice(kitas):
    world, sonne, mond, hardship, fam, staff = kitas
    wish(sonne, *fam["anna"], 1)
    early = _round([sonne], world.staff, stichtag=TODAY + timedelta(days=3))
    with pytest.raises(AllocationError, match="erst nach dem Stichtag"):
        svc.round_confirm(round_=early, by=world.staff)
    round_ = _round([sonne], world.staff)
    svc.round_confirm(round_=round_, by=world.staff)
    with pytest.raises(AllocationError, match="bereits bestätigt"):
        svc.round_confirm(round_=round_, by=world.staff)


def test_staff_cannot_allocate_another_institutions_offers(kitas):
    world, sonne, mond, hardship, fam, staff = kitas
    with pytest.raises(AllocationError, match="nur Angebote Ihrer Einrichtungen"):
        _round([sonne, mond], world.staff)
    round_ = _round([mond], world.other_staff)
    with pytest.raises(AllocationError):
        svc.round_confirm(round_=round_, by=world.staff)


def test_the_lottery_number_is_drawn_once_and_kept(kitas):
    world, sonne, mond, hardship, fam, staff = kitas
    anna = wish(sonne, *fam["anna"], 1, lottery=None)
    svc.plan_round(_round([sonne], world.staff))
    anna.refresh_from_db()
    drawn = anna.lottery_number
    assert drawn
    svc.plan_round(_round([sonne], world.staff))
    anna.refresh_from_db()
    assert anna.lottery_number == drawn


# --- Wunschliste ------------------------------------------------------------------------------------

def test_wishes_are_ranked_until_the_stichtag(kitas):
    world, sonne, mond, hardship, fam, staff = kitas
    holder, child = fam["anna"]
    a1 = wish(sonne, holder, child, 1)
    a2 = wish(mond, holder, child, 2)
    svc.wishes_rank(participant=child, by=holder, changes=[WishChange(a1.pk, 2), WishChange(a2.pk, 1, care_hours=35)])
    assert [e.pk for e in svc.wishes_of(child)] == [a2.pk, a1.pk]
    with pytest.raises(AllocationError, match="eigenen Rang"):
        svc.wishes_rank(participant=child, by=holder, changes=[WishChange(a1.pk, 1), WishChange(a2.pk, 1)])
    AllocationRound.objects.create(title="alt", stichtag=TODAY - timedelta(days=1)).offers.set([sonne])
    with pytest.raises(AllocationError, match="Stichtag der Platzvergabe"):
        svc.wishes_rank(participant=child, by=holder, changes=[WishChange(a1.pk, 1), WishChange(a2.pk, 2)])


def test_another_family_cannot_rank_my_wishes(kitas):
    world, sonne, mond, hardship, fam, staff = kitas
    a1 = wish(sonne, *fam["anna"], 1)
    with pytest.raises(AllocationError, match="gehört nicht"):
        svc.wishes_rank(participant=fam["anna"][1], by=fam["ben"][0], changes=[WishChange(a1.pk, 3)])


# --- Nachrücken ---------------------------------------------------------------------------------------

def _two_waiting(kitas):
    world, sonne, mond, hardship, fam, staff = kitas
    placed = wish(sonne, *fam["anna"], 1, lottery=1)
    first = wish(sonne, *fam["ben"], 1, lottery=2)
    second = wish(sonne, *fam["cem"], 1, lottery=3)
    svc.round_confirm(round_=_round([sonne], world.staff), by=world.staff)
    return world, sonne, placed, first, second


def test_a_freed_place_is_offered_to_the_next_child_who_accepts(kitas, run_on_commit):
    world, sonne, placed, first, second = _two_waiting(kitas)
    assert [e.pk for _rank, e, _r in selectors.waiting_list(sonne)] == [first.pk, second.pk]
    with run_on_commit():
        enrollment_svc.enrollment_withdraw(enrollment=placed, by=world.staff, reason="umgezogen")
    first.refresh_from_db()
    assert first.place_offered_at is not None
    assert first.place_accept_deadline == TODAY + timedelta(days=7)
    assert OutboxMessage.objects.filter(recipient=first.account_holder.email,
                                        context__event="place_offered").exists()
    accepted = svc.place_accept(enrollment=first, by=first.account_holder)
    assert accepted.status == S.KANDIDAT and accepted.place_offered_at is None
    assert [e.pk for _rank, e, _r in selectors.waiting_list(sonne)] == [second.pk]


def test_a_declined_or_expired_place_goes_to_the_next_one(kitas, run_on_commit):
    world, sonne, placed, first, second = _two_waiting(kitas)
    with run_on_commit():
        enrollment_svc.enrollment_withdraw(enrollment=placed, by=world.staff, reason="umgezogen")
    with run_on_commit():
        svc.place_decline(enrollment=first, by=first.account_holder)
    first.refresh_from_db(), second.refresh_from_db()
    assert first.status == S.ZURUECKGEZOGEN and second.place_offered_at is not None
    Enrollment.objects.filter(pk=second.pk).update(place_accept_deadline=TODAY - timedelta(days=1))
    with run_on_commit():
        assert svc.expire_place_offers() == 1
    second.refresh_from_db()
    assert second.status == S.ZURUECKGEZOGEN and selectors.waiting_list(sonne) == []


def test_only_the_family_can_accept_and_not_after_the_deadline(kitas, run_on_commit):
    world, sonne, placed, first, second = _two_waiting(kitas)
    with run_on_commit():
        enrollment_svc.enrollment_withdraw(enrollment=placed, by=world.staff, reason="umgezogen")
    with pytest.raises(AllocationError, match="nicht erlaubt"):
        svc.place_accept(enrollment=first, by=second.account_holder)
    Enrollment.objects.filter(pk=first.pk).update(place_accept_deadline=TODAY - timedelta(days=1))
    with pytest.raises(AllocationError, match="Frist zur Annahme"):
        svc.place_accept(enrollment=first, by=first.account_holder)


def test_institutions_can_confirm_each_move_up_first(kitas, run_on_commit):
    world, sonne, placed, first, second = _two_waiting(kitas)
    world.kita.confirm_move_up = True
    world.kita.save()
    with run_on_commit():
        enrollment_svc.enrollment_withdraw(enrollment=placed, by=world.staff, reason="umgezogen")
    first.refresh_from_db()
    assert first.place_offered_at is None
    assert selectors.next_waiting(sonne).pk == first.pk
    with pytest.raises(AllocationError, match="nicht erlaubt"):
        svc.place_offer(enrollment=first, by=world.other_staff)
    assert svc.place_offer(enrollment=first, by=world.staff).place_offered_at is not None
    with pytest.raises(AllocationError, match="kein Platz frei"):
        svc.place_offer(enrollment=second, by=world.staff)


def test_unmet_demand_counts_waiting_children_per_institution_and_age_group(kitas):
    world, sonne, placed, first, second = _two_waiting(kitas)
    rows = svc.unmet_demand([world.kita])
    assert rows == [{"institution": world.kita.name, "age_group": "Kinder unter 3 Jahren", "waiting": 2}]


def test_the_daily_schedule_expires_place_offers(kitas, run_on_commit):
    from django_q.models import Schedule

    from workpro_plugin import tasks

    schedule = Schedule.objects.get(name="workpro-expire-place-offers")
    assert (schedule.func, schedule.schedule_type) == ("workpro_plugin.tasks.expire_place_offers_task", "D")
    world, sonne, placed, first, second = _two_waiting(kitas)
    with run_on_commit():
        enrollment_svc.enrollment_withdraw(enrollment=placed, by=world.staff, reason="umgezogen")
    Enrollment.objects.filter(pk=first.pk).update(place_accept_deadline=TODAY - timedelta(days=1))
    with run_on_commit():
        assert tasks.expire_place_offers_task() == 1
    second.refresh_from_db()
    assert second.place_offered_at is not None


def _confirm_queries(world, offers, families, start):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i, (holder, child) in enumerate(families):
        wish(offers[0], holder, child, 1, lottery=start + i)
        wish(offers[1], holder, child, 2, lottery=start + i)
    round_ = _round(offers, world.staff)
    with CaptureQueriesContext(connection) as queries:
        svc.round_confirm(round_=round_, by=world.staff)
    return len(queries)


def test_round_confirm_queries_do_not_grow_with_the_applications(kitas):
    """Reads and writes go per kind, not per application: a round of 2 applications and one of 8 cost the
    same number of queries (the first round only warms the content type cache)."""
    world, sonne, mond, hardship, fam, staff = kitas
    _confirm_queries(world, [sonne, make_offer(world.kita, "Krippe Stern", capacity=1)], [fam["anna"]], 1)
    one = _confirm_queries(world, [make_offer(world.kita, f"Krippe {n}", capacity=1) for n in ("Wind", "Wolke")],
                           [fam["ben"]], 5)
    holders = [fam["cem"][0], fam["dora"][0], make_user("eva@example.org"), make_user("fritz@example.org")]
    four = _confirm_queries(world, [make_offer(world.kita, f"Krippe {n}", capacity=2) for n in ("Regen", "Schnee")],
                            [(h, make_child(h, first_name="Kind")) for h in holders], 10)
    assert one == four


# --- interview first ----------------------------------------------------------------------------------

def test_interview_first_reserves_the_place_until_staff_invite_and_decide(kitas, run_on_commit):
    """Where the institution talks to families first, a placed wish keeps its place (Bewerber, "Einladung
    ausstehend"), is invited with a date by staff, and only a rejection after that frees the place."""
    from datetime import datetime

    world, sonne, mond, hardship, fam, staff = kitas
    world.kita.interview_first = True
    world.kita.save()
    anna = wish(sonne, *fam["anna"], 1, lottery=1)
    ben = wish(sonne, *fam["ben"], 1, lottery=2)
    svc.round_confirm(round_=_round([sonne], world.staff), by=world.staff)
    anna.refresh_from_db()
    assert anna.status == S.BEWERBER and anna.place_reserved_at is not None
    assert "Einladung zum Gespräch ausstehend" in anna.next_step
    assert OutboxMessage.objects.filter(recipient=anna.account_holder.email,
                                        context__event="allocation_placed_interview").exists()
    assert EnrollmentLog.objects.filter(enrollment=anna, action="workpro.enrollment.allocation_placed_interview"
                                        ).exists()
    assert selectors.free_places(sonne) == 0 and sonne.places_taken == 1
    assert [e.pk for _rank, e, _r in selectors.waiting_list(sonne)] == [ben.pk]

    again = svc.plan_round(_round([sonne], world.staff))  # a reserved place is not allocated again
    assert [(c.enrollment.pk, c.outcome) for c in again.candidates] == [(ben.pk, "waiting")]

    at = timezone.make_aware(datetime.combine(TODAY + timedelta(days=3), datetime.min.time().replace(hour=10)))
    with run_on_commit():
        invited = enrollment_svc.enrollment_invite(enrollment=anna, by=world.staff, at=at, place="Gruppenraum")
    ben.refresh_from_db()
    assert invited.status == S.EINGELADEN and ben.place_offered_at is None  # still holds the place
    with run_on_commit():
        enrollment_svc.enrollment_decide(enrollment=anna, by=world.staff, accept=False,
                                         basis=Enrollment.Basis.NO_INTERVIEW, reason="passt nicht")
    ben.refresh_from_db()
    assert ben.place_offered_at is not None  # the place freed by the rejection goes to the next child


def test_interview_first_applies_to_a_place_accepted_from_the_waiting_list(kitas, run_on_commit):
    world, sonne, placed, first, second = _two_waiting(kitas)
    world.kita.interview_first = True
    world.kita.save()
    with run_on_commit():
        enrollment_svc.enrollment_withdraw(enrollment=placed, by=world.staff, reason="umgezogen")
    accepted = svc.place_accept(enrollment=first, by=first.account_holder)
    assert accepted.status == S.BEWERBER and accepted.place_reserved_at is not None
    assert accepted.place_offered_at is None and selectors.free_places(sonne) == 0
    assert OutboxMessage.objects.filter(recipient=first.account_holder.email,
                                        context__event="allocation_placed_interview").exists()


# --- a contract ending frees its place ----------------------------------------------------------------

def test_a_contract_past_its_end_frees_the_place_once_and_the_next_child_moves_up(kitas, run_on_commit):
    from django_q.models import Schedule

    from workpro_plugin import tasks

    schedule = Schedule.objects.get(name="workpro-release-ended-contracts")
    assert (schedule.func, schedule.schedule_type) == ("workpro_plugin.tasks.release_ended_contracts_task", "D")
    world, sonne, placed, first, second = _two_waiting(kitas)
    Enrollment.objects.filter(pk=placed.pk).update(status=S.RATIFIZIERT, contract_end=TODAY)
    with run_on_commit():
        assert tasks.release_ended_contracts_task() == 0  # ends today: the place is still used
    assert selectors.free_places(sonne) == 0
    Enrollment.objects.filter(pk=placed.pk).update(contract_end=TODAY - timedelta(days=1))
    with run_on_commit():
        assert tasks.release_ended_contracts_task() == 1
    first.refresh_from_db(), second.refresh_from_db(), placed.refresh_from_db()
    assert placed.status == S.RATIFIZIERT and placed.contract_ended_at is not None
    assert first.place_offered_at is not None and second.place_offered_at is None
    assert EnrollmentLog.objects.filter(enrollment=placed, action="workpro.enrollment.contract_ended").exists()
    with run_on_commit():
        assert tasks.release_ended_contracts_task() == 0  # once
    second.refresh_from_db()
    assert second.place_offered_at is None


def test_waiting_counts_of_all_offers_in_one_query(kitas, django_assert_num_queries):
    world, sonne, placed, first, second = _two_waiting(kitas)
    empty = make_offer(world.kita, "Krippe Leer", capacity=3)
    with django_assert_num_queries(1):
        counts = selectors.waiting_counts([sonne, empty])
    assert counts == {sonne.pk: len(selectors.waiting_list(sonne))} == {sonne.pk: 2}


def test_bulk_place_changes_move_their_sites_places_generation_only(kitas, run_on_commit):
    """A round's and the daily contract end's updates send no post_save: they tell the places of their
    institutions' sites themselves, or listings and offer pages show old free places for ten minutes."""
    from workpro_plugin import tasks
    from workpro_plugin.lib.content_cache import content_generation, structure_generation

    world, sonne, mond, hardship, fam, staff = kitas
    wish(sonne, *fam["anna"], 1, lottery=1)
    kita_site, other_site = world.kita.site_id, world.other.site_id
    before = content_generation(kita_site), structure_generation(kita_site), content_generation(other_site)
    svc.round_confirm(round_=_round([sonne], world.staff), by=world.staff)
    assert content_generation(kita_site) != before[0]
    assert (structure_generation(kita_site), content_generation(other_site)) == before[1:]

    enrollment = Enrollment.objects.get(offer=sonne)
    Enrollment.objects.filter(pk=enrollment.pk).update(status=S.RATIFIZIERT, contract_end=TODAY - timedelta(days=1))
    before = content_generation(kita_site), content_generation(other_site)
    with run_on_commit():
        assert tasks.release_ended_contracts_task() == 1
    assert content_generation(kita_site) != before[0] and content_generation(other_site) == before[1]


def test_waiting_time_counts_from_the_day_the_family_applied_in_berlin_not_in_utc():
    """Applied at 00:30 on 1 June in Berlin (22:30 on 31 May in UTC): on 31 August that is two whole
    months; counted from the UTC date it would be three."""
    from datetime import UTC, date, datetime

    from workpro_plugin.models import Person

    applied = datetime(2026, 5, 31, 22, 30, tzinfo=UTC)  # as the database hands it back
    enrollment = Enrollment(participant=Person(first_name="Anna", last_name="Muster"), submitted_at=applied)
    waiting = Criterion(kind=Criterion.Kind.WAITING_TIME, label="Wartezeit in Monaten", points=2)
    context = svc.Context(stichtag=date(2026, 8, 31), confirmed=set(), siblings_at={}, guardians_of={})

    result = svc.score(enrollment, [waiting], context)

    assert result.points == 4 and result.lines == [("Wartezeit in Monaten", 4)]
