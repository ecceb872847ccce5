"""Platzvergabe in the Wagtail admin: Kriterienkatalog, round preview/confirm/export, waiting list,
criterion confirmation; every page scoped to the staff member's institutions."""


import pytest
from django.utils import timezone

from tests.factories import make_child, make_offer, make_user, wish
from workpro_plugin.models import (
    AllocationResult,
    AllocationRound,
    Criterion,
    CriterionConfirmation,
    Enrollment,
)

pytestmark = pytest.mark.django_db
S = Enrollment.Status
TODAY = timezone.localdate()
BASE = "/admin/workpro/"


@pytest.fixture
def krippe(world, client):
    offer = make_offer(world.kita, "Krippe Sonne", capacity=1)
    fams = []
    for name, lottery in (("anna", 10), ("ben", 20)):
        holder = make_user(f"{name}@example.org")
        fams.append(wish(offer, holder, make_child(holder, first_name=name.title()), 1, lottery=lottery))
    world.client = client
    return world, offer, fams


def _login(world, who):
    world.client.force_login(getattr(world, who))
    return world.client


def test_staff_preview_then_confirm_a_round_and_export_it(krippe):
    world, offer, (anna, ben) = krippe
    client = _login(world, "caseworker")
    assert client.get(BASE + "vergabe/").status_code == 200
    form = client.get(BASE + "vergabe/neu/")
    assert offer.title in form.content.decode() and world.other.name not in form.content.decode()
    response = client.post(BASE + "vergabe/neu/", {"title": "Krippe 2027", "stichtag": TODAY.isoformat(),
                                                   "offers": [offer.pk]})
    round_ = AllocationRound.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/vergabe/{round_.pk}/")
    preview = client.get(BASE + f"vergabe/{round_.pk}/").content.decode()
    assert "Vorschau" in preview and "Anna Muster" in preview and "Platz erhalten" in preview
    assert AllocationResult.objects.count() == 0
    client.post(BASE + f"vergabe/{round_.pk}/bestaetigen/")
    anna.refresh_from_db(), ben.refresh_from_db()
    assert (anna.status, ben.status) == (S.KANDIDAT, S.BEWERBER)
    page = client.get(BASE + f"vergabe/{round_.pk}/").content.decode()
    assert "bestätigt" in page and "entschied die Losnummer" in page
    export = client.get(BASE + f"vergabe/{round_.pk}/export/")
    text = export.content.decode("utf-8-sig")
    assert export["Content-Type"].startswith("text/csv") and "Ben Muster" in text and "Warteliste" in text


def test_a_round_form_with_bad_input_keeps_the_entries_and_says_why(krippe):
    world, offer, _fams = krippe
    client = _login(world, "staff")
    response = client.post(BASE + "vergabe/neu/", {"title": "Krippe 2027", "stichtag": "31.02.2027"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Bitte ein Datum im Format TT.MM.JJJJ eingeben." in html
    assert "Bitte wählen Sie mindestens ein Angebot." in html and 'value="Krippe 2027"' in html


def test_another_institution_sees_no_round_waiting_list_or_foreign_offer(krippe):
    world, offer, (anna, ben) = krippe
    round_ = AllocationRound.objects.create(title="Krippe 2027", stichtag=TODAY)
    round_.offers.set([offer])
    client = _login(world, "other_staff")
    assert "Krippe 2027" not in client.get(BASE + "vergabe/").content.decode()
    assert client.get(BASE + f"vergabe/{round_.pk}/").status_code == 404
    assert client.get(BASE + f"vergabe/{round_.pk}/export/").status_code == 404
    assert client.post(BASE + f"vergabe/{round_.pk}/bestaetigen/").status_code == 404
    assert client.get(BASE + f"warteliste/{offer.pk}/").status_code == 404
    client.post(BASE + "vergabe/neu/", {"title": "fremd", "stichtag": TODAY.isoformat(), "offers": [offer.pk]})
    assert not AllocationRound.objects.filter(title="fremd").exists()
    assert client.get(BASE + f"vergabe/anmeldung/{anna.pk}/kriterium/").status_code == 404
    holder = _login(world, "holder")
    assert holder.get(BASE + "vergabe/").status_code == 302


def test_waiting_list_and_platz_anbieten_after_a_place_frees(krippe, run_on_commit):
    world, offer, (anna, ben) = krippe
    world.kita.confirm_move_up = True
    world.kita.save()
    client = _login(world, "staff")
    round_ = AllocationRound.objects.create(title="Krippe 2027", stichtag=TODAY)
    round_.offers.set([offer])
    client.post(BASE + f"vergabe/{round_.pk}/bestaetigen/")
    page = client.get(BASE + f"warteliste/{offer.pk}/").content.decode()
    assert "Ben Muster" in page and "Platz anbieten" not in page  # no place free yet
    from workpro_plugin.services.enrollments import enrollment_withdraw

    with run_on_commit():
        enrollment_withdraw(enrollment=anna, by=world.staff, reason="umgezogen")
    assert "Platz anbieten" in client.get(BASE + f"warteliste/{offer.pk}/").content.decode()
    client.post(BASE + f"warteliste/anmeldung/{ben.pk}/platz-anbieten/")
    ben.refresh_from_db()
    assert ben.place_offered_at is not None and ben.place_accept_deadline > TODAY


def test_staff_confirm_a_hardship_with_a_reason(krippe):
    world, offer, (anna, ben) = krippe
    hardship = Criterion.objects.create(institution=world.kita, kind=Criterion.Kind.HARDSHIP, label="Härtefall",
                                        points=50)
    client = _login(world, "caseworker")
    url = BASE + f"vergabe/anmeldung/{ben.pk}/kriterium/"
    refused = client.post(url, {"criterion": hardship.pk, "reason": ""})
    assert refused.status_code == 400 and "Bitte begründen Sie die Bestätigung." in refused.content.decode()
    client.post(url, {"criterion": hardship.pk, "reason": "Pflegefall in der Familie"})
    assert CriterionConfirmation.objects.get(enrollment=ben).reason == "Pflegefall in der Familie"


def test_kriterienkatalog_is_scoped_and_validated(krippe):
    world, offer, _fams = krippe
    Criterion.objects.create(institution=world.other, kind=Criterion.Kind.SIBLING, label="Geschwister BBZ",
                             points=5)
    client = _login(world, "staff")
    listing = client.get("/admin/workpro_plugin/criterion/").content.decode()
    assert "Geschwister BBZ" not in listing
    create = client.get("/admin/workpro_plugin/criterion/create/").content.decode()
    assert world.other.name not in create
    response = client.post("/admin/workpro_plugin/criterion/create/", {
        "institution": world.kita.pk, "kind": "residence", "label": "Wohnsitz", "points": 10, "sort_order": 0,
        "parameter": ""})
    assert response.status_code == 400
    assert "Bitte nennen Sie die Postleitzahlen oder Orte der Gemeinde." in response.content.decode()
    client.post("/admin/workpro_plugin/criterion/create/", {
        "institution": world.kita.pk, "kind": "residence", "label": "Wohnsitz", "points": 10, "sort_order": 0,
        "parameter": "12345"})
    assert Criterion.objects.filter(institution=world.kita, label="Wohnsitz").exists()
    foreign = Criterion.objects.get(label="Geschwister BBZ")
    assert client.get(f"/admin/workpro_plugin/criterion/edit/{foreign.pk}/").status_code == 404


def test_rundnachricht_to_the_waiting_list_reaches_only_waiting_families(krippe):
    from workpro_plugin.models import Message

    world, offer, (anna, ben) = krippe
    round_ = AllocationRound.objects.create(title="Krippe 2027", stichtag=TODAY)
    round_.offers.set([offer])
    client = _login(world, "staff")
    client.post(BASE + f"vergabe/{round_.pk}/bestaetigen/")  # Anna placed, Ben waiting
    url = "/admin/workpro/nachrichten/rundnachricht/"
    form = {"angebot": offer.pk, "status": "", "gruppe": "warteliste", "betreff": "Warteliste",
            "text": "Wir melden uns, sobald ein Platz frei wird.", "textbaustein": ""}
    confirm = client.post(url, {**form, "weiter": "1"})
    assert "geht an 1 Familie" in confirm.content.decode() and "Ben Muster" in confirm.content.decode()
    client.post(url, {**form, "familien": "1", "senden": "1"})
    sent = Message.objects.filter(body__startswith="Warteliste")
    assert [m.conversation.enrollment_id for m in sent] == [ben.pk]
