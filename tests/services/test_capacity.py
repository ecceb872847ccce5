"""An offer's capacity holds: no transition that takes a place (Angebot, Angenommen,
Ratifiziert) can exceed it, checked under the offer's row lock.

Sequential cases run on every database; the parallel one needs PostgreSQL's row locks.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import enrollment_in, make_child, make_user
from tests.helpers import needs_postgres, race
from workpro_plugin.models import Enrollment, EnrollmentLog
from workpro_plugin.services import enrollments as svc
from workpro_plugin.services.enrollments import EnrollmentActionError

S = Enrollment.Status
TODAY = timezone.localdate()


def _make_offer(enrollment, by):
    return svc.enrollment_make_offer(enrollment=enrollment, by=by, costs=Decimal("150.00"),
                                     contract_start=TODAY + timedelta(days=30),
                                     contract_end=TODAY + timedelta(days=395))


def _families(world, count, status):
    enrollments = []
    for _ in range(count):
        i = Enrollment.objects.count()
        holder = make_user(f"familie{i}@example.org")
        enrollments.append(enrollment_in(status, offer=world.offer, institution=world.kita, holder=holder,
                                         participant=make_child(holder, first_name=f"Kind{i}")))
    return enrollments


def _set_capacity(offer, capacity):
    offer.capacity = capacity
    offer.save(update_fields=["capacity"])


@pytest.mark.django_db
def test_second_angebot_on_a_one_place_offer_is_refused_in_german(world):
    _set_capacity(world.offer, 1)
    first, second = _families(world, 2, S.EINGESTUFT)
    assert _make_offer(first, world.staff).status == S.ANGEBOT
    logs_before = EnrollmentLog.objects.count()
    with pytest.raises(EnrollmentActionError, match="alle Plätze vergeben \\(1 von 1\\)"):
        _make_offer(second, world.staff)
    second.refresh_from_db()
    assert second.status == S.EINGESTUFT and second.costs is None
    assert EnrollmentLog.objects.count() == logs_before  # a refusal changes and logs nothing


@pytest.mark.django_db
def test_an_expired_or_withdrawn_angebot_frees_its_place(world):
    _set_capacity(world.offer, 1)
    first, second = _families(world, 2, S.EINGESTUFT)
    _make_offer(first, world.staff)
    svc.enrollment_withdraw(enrollment=first, by=world.staff, reason="umgezogen")
    assert _make_offer(second, world.staff).status == S.ANGEBOT


@pytest.mark.django_db
def test_accepting_and_ratifying_cannot_exceed_a_capacity_lowered_meanwhile(world):
    """Two Angebote were made for two places, then the offer was cut to one place: the first to
    accept takes it, the second can neither accept nor be ratified past the capacity."""
    _set_capacity(world.offer, 2)
    first, second = _families(world, 2, S.ANGEBOT)
    _set_capacity(world.offer, 1)
    with pytest.raises(EnrollmentActionError, match="alle Plätze vergeben"):
        svc.enrollment_upload_signed(enrollment=first, by=first.account_holder)
    svc.enrollment_withdraw(enrollment=second, by=world.staff, reason="verzichtet")
    accepted = svc.enrollment_upload_signed(enrollment=first, by=first.account_holder)
    assert svc.enrollment_ratify(enrollment=accepted, by=world.staff).status == S.RATIFIZIERT


@pytest.mark.django_db
def test_an_angebot_counts_as_a_taken_place_on_the_offer_page(world):
    _set_capacity(world.offer, 3)
    _families(world, 1, S.ANGEBOT)
    _families(world, 1, S.ANGENOMMEN)
    _families(world, 1, S.BEWERBER)
    world.offer.refresh_from_db()
    assert (world.offer.places_taken, world.offer.places_free) == (2, 1)


@pytest.mark.django_db
def test_an_unlimited_offer_takes_any_number(world):
    _set_capacity(world.offer, None)
    for enrollment in _families(world, 3, S.EINGESTUFT):
        assert _make_offer(enrollment, world.staff).status == S.ANGEBOT


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_parallel_angebote_on_a_five_place_offer_give_exactly_five(world):
    needs_postgres()
    _set_capacity(world.offer, 5)
    enrollments = _families(world, 20, S.EINGESTUFT)
    results = race(20, lambda i: _make_offer(enrollments[i].pk, world.staff))
    made = [r for r in results if isinstance(r, Enrollment)]
    refused = [r for r in results if isinstance(r, EnrollmentActionError)]
    print(f"\n20 parallel Angebot erstellen on 5 places: {len(made)} made, {len(refused)} refused, "
          f"{len(results) - len(made) - len(refused)} other")
    assert len(made) == 5 and len(refused) == 15, results
    assert all("alle Plätze vergeben (5 von 5)" in str(r) for r in refused)
    assert Enrollment.objects.filter(offer=world.offer, status=S.ANGEBOT).count() == 5
