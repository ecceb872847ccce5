"""Platzvergabe in Mein Konto: the Wunschliste, the waiting rank with its reason, a place offered
from the waiting list, and the Kriterienkatalog published on the offer page."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import make_child, make_offer, make_user, wish
from workpro_plugin.models import AllocationRound, Criterion, Enrollment
from workpro_plugin.services import allocation as svc
from workpro_plugin.services.enrollments import enrollment_withdraw

pytestmark = pytest.mark.django_db
S = Enrollment.Status
TODAY = timezone.localdate()


@pytest.fixture
def family(world):
    sonne = make_offer(world.kita, "Krippe Sonne", capacity=1, asks_care_hours=True)
    mond = make_offer(world.kita, "Krippe Mond", capacity=1)
    holder = world.holder
    lena = make_child(holder, first_name="Lena")
    client = Client(HTTP_HOST="kita.test")
    client.force_login(holder)
    return world, sonne, mond, holder, lena, client


def test_wishlist_ranks_the_childs_applications(family):
    world, sonne, mond, holder, lena, client = family
    first = wish(sonne, holder, lena, 1, care_hours=35)
    second = wish(mond, holder, lena, 2)
    page = client.get(f"/workpro/konto/wunschliste/{lena.pk}/").content.decode()
    assert "Wunschliste von Lena" in page and "Krippe Sonne" in page and "Krippe Mond" in page
    response = client.post(f"/workpro/konto/wunschliste/{lena.pk}/", {
        f"w{first.pk}-rank": 2, f"w{first.pk}-care_hours": 45, f"w{second.pk}-rank": 1})
    assert response.status_code == 302
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.wish_rank, first.care_hours, second.wish_rank) == (2, 45, 1)


def test_wishlist_errors_stand_next_to_the_field_and_keep_the_input(family):
    world, sonne, mond, holder, lena, client = family
    first = wish(sonne, holder, lena, 1)
    second = wish(mond, holder, lena, 2)
    response = client.post(f"/workpro/konto/wunschliste/{lena.pk}/", {
        f"w{first.pk}-rank": 1, f"w{first.pk}-care_hours": "viel", f"w{second.pk}-rank": 1})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Bitte eine ganze Zahl eingeben." in html and 'value="viel"' in html
    first.refresh_from_db()
    assert first.wish_rank == 1 and first.care_hours is None
    response = client.post(f"/workpro/konto/wunschliste/{lena.pk}/", {
        f"w{first.pk}-rank": 1, f"w{first.pk}-care_hours": 30, f"w{second.pk}-rank": 1})
    assert response.status_code == 400 and "Jeder Wunsch braucht einen eigenen Rang" in response.content.decode()


def test_another_familys_wishlist_does_not_exist(family):
    world, sonne, mond, holder, lena, client = family
    wish(sonne, holder, lena, 1)
    stranger = Client(HTTP_HOST="kita.test")
    stranger.force_login(world.stranger)
    assert stranger.get(f"/workpro/konto/wunschliste/{lena.pk}/").status_code == 404


def test_after_a_round_the_parent_sees_the_waiting_rank_and_why(family):
    world, sonne, mond, holder, lena, client = family
    other = make_user("nachbar@example.org")
    winner = wish(sonne, other, make_child(other, first_name="Mia"), 1, lottery=1)
    Criterion.objects.create(institution=world.kita, kind=Criterion.Kind.RESIDENCE, label="Wohnsitz in Musterstadt",
                             points=10, parameter="12345")
    winner.participant.__class__.objects.filter(pk=winner.participant_id).update(postcode="12345")
    mine = wish(sonne, holder, lena, 1, lottery=2, care_hours=30)
    round_ = AllocationRound.objects.create(title="Krippe 2027", stichtag=TODAY)
    round_.offers.set([sonne])
    svc.round_confirm(round_=round_, by=world.staff)
    detail = client.get(f"/workpro/konto/anmeldung/{mine.pk}/").content.decode()
    assert "Platz 1 auf der Warteliste" in detail
    assert "die niedrigste aufgenommene Punktzahl war 10, Lena hatte 0 Punkte" in detail
    assert "Platz 1 auf der Warteliste" in client.get("/workpro/konto/").content.decode()


def test_a_freed_place_is_accepted_in_mein_konto(family, run_on_commit):
    world, sonne, mond, holder, lena, client = family
    other = make_user("nachbar@example.org")
    winner = wish(sonne, other, make_child(other, first_name="Mia"), 1, lottery=1)
    mine = wish(sonne, holder, lena, 1, lottery=2, care_hours=30)
    round_ = AllocationRound.objects.create(title="Krippe 2027", stichtag=TODAY)
    round_.offers.set([sonne])
    svc.round_confirm(round_=round_, by=world.staff)
    with run_on_commit():
        enrollment_withdraw(enrollment=winner, by=world.staff, reason="umgezogen")
    detail = client.get(f"/workpro/konto/anmeldung/{mine.pk}/").content.decode()
    deadline = (TODAY + timedelta(days=7)).strftime("%d.%m.%Y")
    assert "Ein Platz ist frei geworden!" in detail and deadline in detail and "Platz annehmen" in detail
    stranger = Client(HTTP_HOST="kita.test")
    stranger.force_login(world.stranger)
    assert stranger.post(f"/workpro/konto/anmeldung/{mine.pk}/platz-annehmen/").status_code == 404
    client.post(f"/workpro/konto/anmeldung/{mine.pk}/platz-annehmen/")
    mine.refresh_from_db()
    assert mine.status == S.KANDIDAT


def test_the_offer_page_publishes_the_kriterienkatalog(family):
    world, sonne, mond, holder, lena, client = family
    Criterion.objects.create(institution=world.kita, kind=Criterion.Kind.SIBLING,
                             label="Geschwisterkind in der Einrichtung", points=20)
    Criterion.objects.create(institution=world.other, kind=Criterion.Kind.SIBLING, label="Fremdes Kriterium",
                             points=5)
    html = Client(HTTP_HOST="kita.test").get(sonne.relative_url(world.kita.site)).content.decode()
    assert "Kriterienkatalog für die Platzvergabe" in html and "Geschwisterkind in der Einrichtung" in html
    assert "Fremdes Kriterium" not in html
