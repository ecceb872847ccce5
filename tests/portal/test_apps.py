"""Anwendungen: assigning apps, accepting their terms (participant or PSB1), opening, revoking, access."""

from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import enrollment_in, make_child, make_user
from tests.helpers import HOST
from workpro_plugin.models import App, AppAcceptance, AppAssignment, Enrollment
from workpro_plugin.models.apps import terms_digest
from workpro_plugin.services import apps as svc

pytestmark = pytest.mark.django_db
S = Enrollment.Status
PAGE = "/workpro/konto/anwendungen/"


def _accept_url(app, person):
    return f"/workpro/konto/anwendungen/{app.pk}/fuer/{person.pk}/annehmen/"


def _open_url(app, person):
    return f"/workpro/konto/anwendungen/{app.pk}/fuer/{person.pk}/oeffnen/"


def _make_app(institution, name="Lernplattform", **fields):
    fields.setdefault("description", f"{name} der Einrichtung")
    fields.setdefault("launch_url", "https://lernen.example.org/start")
    fields.setdefault("terms", "1. Zugang nur für Teilnehmer.\n2. Keine Weitergabe der Zugangsdaten.")
    return App.objects.create(institution=institution, name=name, **fields)


@pytest.fixture
def apps(world, client):
    """The holder (adult participant) and their child without login, both with ratified contracts; one app."""
    me = world.holder.workpro_person
    child = make_child(world.holder)
    enrollment_in(S.RATIFIZIERT, offer=world.offer, institution=world.kita, holder=world.holder)
    enrollment_in(S.RATIFIZIERT, offer=world.offer, institution=world.kita, holder=world.holder, participant=child)
    app = _make_app(world.kita)
    world.client = client
    return SimpleNamespace(**vars(world), me=me, child=child, app=app)


def _tiles(client):
    soup = BeautifulSoup(client.get(PAGE, **HOST).content, "html.parser")
    return {section.h2.get_text(strip=True): section for section in soup.select("main section")}


def test_offer_assignment_reaches_participants_with_accepted_or_ratified_contracts(apps, make_offer):
    svc.app_assign(app=apps.app, by=apps.caseworker, offer=apps.offer)
    applicant = make_user("bewerber@example.org")
    enrollment_in(S.BEWERBER, offer=apps.offer, institution=apps.kita, holder=applicant)
    accepted = make_user("angenommen@example.org")
    enrollment_in(S.ANGENOMMEN, offer=apps.offer, institution=apps.kita, holder=accepted)
    other_offer = make_user("anderes@example.org")
    enrollment_in(S.RATIFIZIERT, offer=make_offer(apps.kita, "Hort"), institution=apps.kita, holder=other_offer)
    for user, sees in ((apps.holder, True), (accepted, True), (applicant, False), (other_offer, False)):
        apps.client.force_login(user)
        assert ("Lernplattform" in apps.client.get(PAGE, **HOST).content.decode()) == sees, user


def test_participant_accepts_then_opens_the_app(apps):
    svc.app_assign(app=apps.app, by=apps.caseworker, participant=apps.me)
    apps.client.force_login(apps.holder)
    overview = BeautifulSoup(apps.client.get("/workpro/konto/", **HOST).content, "html.parser")
    assert overview.find("a", href=PAGE).get_text(strip=True) == "Anwendungen"
    tile = _tiles(apps.client)["Ihre Anwendungen"]
    assert "Keine Weitergabe der Zugangsdaten." in tile.get_text()
    assert tile.find("button", string="Annehmen") is not None
    assert tile.find("a", href=_open_url(apps.app, apps.me)) is None
    not_yet = apps.client.get(_open_url(apps.app, apps.me), **HOST, follow=True)
    assert "zuerst an" in not_yet.content.decode()
    assert apps.client.get(_accept_url(apps.app, apps.me), **HOST).status_code == 405
    response = apps.client.post(_accept_url(apps.app, apps.me), {"terms": apps.app.terms_sha256}, **HOST)
    assert response.status_code == 302
    acceptance = AppAcceptance.objects.get()
    assert (acceptance.person, acceptance.accepted_by) == (apps.me, apps.holder)
    assert acceptance.terms_sha256 == terms_digest(apps.app.terms) and acceptance.terms_text == apps.app.terms
    tile = _tiles(apps.client)["Ihre Anwendungen"]
    link = tile.find("a", href=_open_url(apps.app, apps.me))
    assert link is not None and link.get_text(strip=True) == "Öffnen"
    assert tile.find("button", string="Annehmen") is None
    opened = apps.client.get(_open_url(apps.app, apps.me), **HOST)
    assert opened.status_code == 302 and opened["Location"] == "https://lernen.example.org/start"
    apps.client.post(_accept_url(apps.app, apps.me), {"terms": apps.app.terms_sha256}, **HOST)
    assert AppAcceptance.objects.count() == 1  # accepting twice records nothing new


def test_psb1_accepts_for_a_minor_without_own_login(apps):
    svc.app_assign(app=apps.app, by=apps.caseworker, offer=apps.offer)
    apps.client.force_login(apps.holder)
    sections = _tiles(apps.client)
    assert "Anwendungen für Kind Muster" in sections and "Ihre Anwendungen" in sections
    apps.client.post(_accept_url(apps.app, apps.child), {"terms": apps.app.terms_sha256}, **HOST)
    acceptance = AppAcceptance.objects.get()
    assert (acceptance.person, acceptance.accepted_by) == (apps.child, apps.holder)
    assert _tiles(apps.client)["Anwendungen für Kind Muster"].find("a", href=_open_url(apps.app, apps.child))
    assert _tiles(apps.client)["Ihre Anwendungen"].find("button", string="Annehmen") is not None


def test_a_participant_with_own_login_accepts_for_themself_not_the_psb1(apps):
    teen_user = make_user("teen@example.org", last_name="Muster", first_name="Teen")
    teen = teen_user.workpro_person
    from workpro_plugin.models import Guardian

    Guardian.objects.create(participant=teen, guardian=apps.me, is_primary=True, relation="mutter")
    enrollment_in(S.RATIFIZIERT, offer=apps.offer, institution=apps.kita, holder=apps.holder, participant=teen)
    svc.app_assign(app=apps.app, by=apps.caseworker, participant=teen)
    apps.client.force_login(apps.holder)
    assert "Teen" not in apps.client.get(PAGE, **HOST).content.decode()
    assert apps.client.post(_accept_url(apps.app, teen), {"terms": apps.app.terms_sha256}, **HOST).status_code == 404
    assert apps.client.get(_open_url(apps.app, teen), **HOST).status_code == 404
    apps.client.force_login(teen_user)
    assert apps.client.post(_accept_url(apps.app, teen), {"terms": apps.app.terms_sha256}, **HOST).status_code == 302
    assert AppAcceptance.objects.get().accepted_by == teen_user


def test_changed_terms_must_be_accepted_again(apps):
    svc.app_assign(app=apps.app, by=apps.caseworker, participant=apps.me)
    apps.client.force_login(apps.holder)
    old_hash = apps.app.terms_sha256
    apps.client.post(_accept_url(apps.app, apps.me), {"terms": old_hash}, **HOST)
    apps.app.terms += "\n3. Neu: Datenschutzhinweise beachten."
    apps.app.save()
    tile = _tiles(apps.client)["Ihre Anwendungen"]
    assert "wurden geändert" in tile.get_text() and tile.find("a", href=_open_url(apps.app, apps.me)) is None
    assert apps.client.get(_open_url(apps.app, apps.me), **HOST).status_code == 302
    assert apps.client.get(_open_url(apps.app, apps.me), **HOST)["Location"] == PAGE
    stale = apps.client.post(_accept_url(apps.app, apps.me), {"terms": old_hash}, **HOST)
    assert stale.status_code == 400 and "inzwischen geändert" in stale.content.decode()
    apps.client.post(_accept_url(apps.app, apps.me), {"terms": apps.app.terms_sha256}, **HOST)
    assert AppAcceptance.objects.filter(person=apps.me).count() == 2
    assert apps.client.get(_open_url(apps.app, apps.me), **HOST)["Location"].startswith("https://")


def test_revoked_and_inactive_apps_disappear(apps):
    assignment = svc.app_assign(app=apps.app, by=apps.caseworker, participant=apps.me)
    library = _make_app(apps.kita, "Bibliothek", launch_url="https://bibliothek.example.org/")
    svc.app_assign(app=library, by=apps.caseworker, participant=apps.me)
    apps.client.force_login(apps.holder)
    apps.client.post(_accept_url(apps.app, apps.me), {"terms": apps.app.terms_sha256}, **HOST)

    apps.client.force_login(apps.caseworker)
    response = apps.client.post(f"/admin/workpro/zuweisung/{assignment.pk}/entziehen/", {"reason": "Kurs beendet"})
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.revoked_at is not None and assignment.revoked_by == apps.caseworker
    assert assignment.revoke_reason == "Kurs beendet"
    again = apps.client.post(f"/admin/workpro/zuweisung/{assignment.pk}/entziehen/", {})
    assert again.status_code == 400 and "bereits entzogen" in again.content.decode()
    library.is_active = False
    library.save()

    apps.client.force_login(apps.holder)
    page = apps.client.get(PAGE, **HOST).content.decode()
    assert "Lernplattform" not in page and "Bibliothek" not in page
    assert apps.client.get(_open_url(apps.app, apps.me), **HOST).status_code == 404
    assert apps.client.post(_accept_url(library, apps.me), {"terms": library.terms_sha256}, **HOST).status_code == 404
    # Assigned again later: the earlier acceptance of the same terms still counts.
    svc.app_assign(app=apps.app, by=apps.caseworker, participant=apps.me)
    assert apps.client.get(_open_url(apps.app, apps.me), **HOST).status_code == 302


@pytest.mark.parametrize("who", ["stranger", "staff", "other_staff"])
def test_nobody_else_accepts_or_opens_for_a_person(apps, who):
    svc.app_assign(app=apps.app, by=apps.caseworker, offer=apps.offer)
    apps.client.force_login(getattr(apps, who))
    assert "Lernplattform" not in apps.client.get(PAGE, **HOST).content.decode()
    for person in (apps.me, apps.child):
        assert apps.client.post(_accept_url(apps.app, person), {"terms": apps.app.terms_sha256},
                                **HOST).status_code == 404
        assert apps.client.get(_open_url(apps.app, person), **HOST).status_code == 404
    assert not AppAcceptance.objects.exists()
    with pytest.raises(svc.AppError):
        svc.app_accept(app=apps.app, person=apps.child, by=getattr(apps, who), terms_sha256=apps.app.terms_sha256)


def test_page_queries_do_not_grow_with_the_number_of_apps(apps):
    svc.app_assign(app=apps.app, by=apps.caseworker, offer=apps.offer)
    apps.client.force_login(apps.holder)
    apps.client.get(PAGE, **HOST)
    with CaptureQueriesContext(connection) as one:
        apps.client.get(PAGE, **HOST)
    for index in range(4):
        extra = _make_app(apps.kita, f"App {index}")
        svc.app_assign(app=extra, by=apps.caseworker, participant=apps.child)
        apps.client.post(_accept_url(extra, apps.child), {"terms": extra.terms_sha256}, **HOST)
    with CaptureQueriesContext(connection) as many:
        content = apps.client.get(PAGE, **HOST).content.decode()
    assert content.count("Öffnen") == 4
    assert len(many) == len(one)


# --- staff in the admin ----------------------------------------------------------------------------

def test_staff_create_apps_for_their_own_institution_with_https_only(apps):
    apps.client.force_login(apps.caseworker)
    form = {"institution": apps.kita.pk, "name": "Klasseninfo", "description": "Neuigkeiten der Gruppe",
            "launch_url": "http://info.example.org/", "terms": "Nur für Eltern.", "is_active": "on"}
    response = apps.client.post("/admin/workpro_plugin/app/create/", form)
    assert response.status_code == 400 and "https://" in response.content.decode()
    assert BeautifulSoup(response.content, "html.parser").find("input", {"name": "name"})["value"] == "Klasseninfo"
    foreign = apps.client.post("/admin/workpro_plugin/app/create/", {**form, "institution": apps.other.pk,
                                                                     "launch_url": "https://info.example.org/"})
    assert foreign.status_code == 400 and not App.objects.filter(name="Klasseninfo").exists()
    done = apps.client.post("/admin/workpro_plugin/app/create/", {**form, "launch_url": "https://info.example.org/"})
    assert done.status_code == 302
    assert App.objects.get(name="Klasseninfo").institution == apps.kita


def test_staff_assign_in_the_admin_with_clear_errors(apps, make_offer):
    url = f"/admin/workpro/anwendung/{apps.app.pk}/zuweisen/"
    apps.client.force_login(apps.caseworker)
    page = BeautifulSoup(apps.client.get(url).content, "html.parser")
    offers = [o.get_text() for o in page.select("select[name=offer] option")]
    assert "Krippenplatz" in offers
    people = [o.get_text() for o in page.select("select[name=participant] option")]
    assert any("Kind" in p for p in people)
    neither = apps.client.post(url, {})
    assert neither.status_code == 400 and "entweder ein Angebot oder einen Teilnehmer" in neither.content.decode()
    foreign_offer = make_offer(apps.other, "Umschulung")
    assert apps.client.post(url, {"offer": foreign_offer.pk}).status_code == 400
    assert apps.client.post(url, {"offer": apps.offer.pk}).status_code == 302
    twice = apps.client.post(url, {"offer": apps.offer.pk})
    assert twice.status_code == 400 and "bereits zugewiesen" in twice.content.decode()
    assignment = AppAssignment.objects.get()
    assert assignment.offer_id == apps.offer.pk and assignment.assigned_by == apps.caseworker
    inspect = apps.client.get(f"/admin/workpro_plugin/app/inspect/{apps.app.pk}/").content.decode()
    assert "alle Teilnehmer von „Krippenplatz“" in inspect and f"/admin/workpro/zuweisung/{assignment.pk}/" in inspect


def test_staff_of_another_institution_cannot_see_or_change_apps(apps):
    assignment = svc.app_assign(app=apps.app, by=apps.caseworker, offer=apps.offer)
    apps.client.force_login(apps.other_staff)
    listing = apps.client.get("/admin/workpro_plugin/app/")
    assert listing.status_code == 200 and apps.app not in listing.context["view"].queryset
    assert apps.client.get(f"/admin/workpro_plugin/app/inspect/{apps.app.pk}/").status_code in (302, 403)
    assert apps.client.get(f"/admin/workpro_plugin/app/edit/{apps.app.pk}/").status_code in (302, 403)
    assert apps.client.post(f"/admin/workpro/anwendung/{apps.app.pk}/zuweisen/",
                            {"offer": apps.offer.pk}).status_code == 404
    assert apps.client.post(f"/admin/workpro/zuweisung/{assignment.pk}/entziehen/", {}).status_code == 404
    assignment.refresh_from_db()
    assert assignment.revoked_at is None
    with pytest.raises(svc.AppError):
        svc.app_revoke(assignment=assignment, by=apps.other_staff)
    apps.client.force_login(apps.holder)  # a portal user has no admin at all
    assert apps.client.get("/admin/workpro_plugin/app/").status_code == 302


def test_demo_apps_are_valid_assigned_and_loaded_idempotently(demo):
    from workpro_site.demo import load_demo

    counts = (App.objects.count(), AppAssignment.objects.count())
    assert counts == (4, 4)
    for app in App.objects.all():
        app.full_clean()  # https only, like the admin form
        assert app.assignments.get().offer.get_parent().specific.get_site().workpro_institution == app.institution
    load_demo(port=8000)
    assert (App.objects.count(), AppAssignment.objects.count()) == counts
