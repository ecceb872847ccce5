"""Enrollment pages: the portal detail with its log, withdrawing, and the admin list scoped by institution."""

import pytest
from bs4 import BeautifulSoup

from tests.factories import enrollment_in
from workpro_plugin.models import Enrollment, EnrollmentLog
from workpro_plugin.services import enrollments as svc

pytestmark = pytest.mark.django_db
S = Enrollment.Status


def _get(client, url):
    return client.get(url, HTTP_HOST="kita.test")


def test_portal_detail_shows_status_numbers_and_log(world, client):
    enrollment = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder)
    svc.enrollment_invite(enrollment=enrollment, by=world.staff, at=enrollment.created_at, place="Raum 7")
    client.force_login(world.holder)
    soup = BeautifulSoup(_get(client, f"/workpro/konto/anmeldung/{enrollment.pk}/").content, "html.parser")
    assert "Eingeladen" in soup.select_one(".wp-status").get_text()
    log_rows = [row.get_text(" ", strip=True) for row in soup.select("#log-heading ~ table tbody tr")]
    assert any("Zum Gespräch eingeladen" in row for row in log_rows)
    overview = BeautifulSoup(_get(client, "/workpro/konto/").content, "html.parser")
    assert overview.find("a", href=f"/workpro/konto/anmeldung/{enrollment.pk}/")


@pytest.mark.parametrize("who", ["stranger", "staff", "other_staff"])
def test_portal_detail_is_only_for_the_account_holder(world, client, who):
    enrollment = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder)
    client.force_login(getattr(world, who))
    assert _get(client, f"/workpro/konto/anmeldung/{enrollment.pk}/").status_code == 404
    response = client.post(f"/workpro/konto/anmeldung/{enrollment.pk}/zurueckziehen/", HTTP_HOST="kita.test")
    assert response.status_code == 404
    enrollment.refresh_from_db()
    assert enrollment.status == S.BEWERBER


def test_holder_withdraws_from_the_portal(world, client):
    enrollment = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder)
    client.force_login(world.holder)
    response = client.post(f"/workpro/konto/anmeldung/{enrollment.pk}/zurueckziehen/", {"reason": "umgezogen"},
                           HTTP_HOST="kita.test", follow=True)
    enrollment.refresh_from_db()
    assert enrollment.status == S.ZURUECKGEZOGEN and enrollment.withdrawn_reason == "umgezogen"
    assert "zurückgezogen" in response.content.decode()
    again = client.post(f"/workpro/konto/anmeldung/{enrollment.pk}/zurueckziehen/", HTTP_HOST="kita.test",
                        follow=True)
    assert "nicht möglich" in again.content.decode()
    assert EnrollmentLog.objects.filter(enrollment=enrollment, action="workpro.enrollment.withdrawn").count() == 1


def test_withdraw_needs_post(world, client):
    enrollment = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder)
    client.force_login(world.holder)
    assert _get(client, f"/workpro/konto/anmeldung/{enrollment.pk}/zurueckziehen/").status_code == 405


def test_admin_list_is_scoped_to_the_staff_institution(world, client):
    mine = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder)
    client.force_login(world.staff)
    listing = _get(client, "/admin/workpro_plugin/enrollment/")
    assert listing.status_code == 200
    assert mine in listing.context["view"].queryset
    inspect = _get(client, f"/admin/workpro_plugin/enrollment/inspect/{mine.pk}/")
    assert inspect.status_code == 200 and "Verlauf" in inspect.content.decode()

    client.force_login(world.other_staff)
    listing = _get(client, "/admin/workpro_plugin/enrollment/")
    assert mine not in listing.context["view"].queryset
    assert _get(client, f"/admin/workpro_plugin/enrollment/inspect/{mine.pk}/").status_code in (302, 403, 404)


def test_admin_has_no_edit_form_for_enrollments(world, client):
    mine = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder)
    client.force_login(world.superuser)
    assert _get(client, f"/admin/workpro_plugin/enrollment/edit/{mine.pk}/").status_code in (302, 403)


def test_next_step_follows_the_state_of_the_application(world, client):
    """Teilnehmer wählen → Angaben ausfüllen → drucken → absenden, on Mein Konto and the detail page."""
    from tests.factories import complete_sections, mark_printed

    enrollment = Enrollment.objects.create(offer=world.offer, institution=world.kita, account_holder=world.holder)
    client.force_login(world.holder)

    def steps():
        overview = BeautifulSoup(_get(client, "/workpro/konto/").content, "html.parser")
        detail = BeautifulSoup(_get(client, f"/workpro/konto/anmeldung/{enrollment.pk}/").content, "html.parser")
        row = overview.select_one("#contracts-heading ~ table tbody tr").get_text(" ", strip=True)
        return row, detail.get_text(" ", strip=True)

    row, detail = steps()
    assert "Teilnehmer wählen" in row and "Teilnehmer wählen" in detail
    svc.enrollment_enroll_participant(enrollment=enrollment, participant=world.holder.workpro_person, by=world.holder)
    row, detail = steps()
    assert "Teilnehmer wählen" not in row and "Teilnehmer wählen" not in detail
    assert "fehlenden Angaben" in row and "fehlenden Angaben" in detail
    complete_sections(enrollment, phase=1)
    row, _detail = steps()
    assert "„Anmeldung drucken“ und prüfen" in row
    enrollment.refresh_from_db()
    mark_printed(enrollment)
    row, _detail = steps()
    assert row.endswith("„Anmeldung absenden“.") or "„Anmeldung absenden“." in row
    assert "drucken" not in row
