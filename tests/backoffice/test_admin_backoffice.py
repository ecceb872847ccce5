"""The staff back office in the Wagtail admin: roles, scoping, transition forms, bulk, export, dashboard."""

from datetime import timedelta
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup
from django.core import mail
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import enrollment_in, make_user
from workpro_plugin.models import Enrollment, EnrollmentLog

pytestmark = pytest.mark.django_db
S = Enrollment.Status
TODAY = timezone.localdate()
LIST = "/admin/workpro_plugin/enrollment/"


def _inspect(e):
    return f"/admin/workpro_plugin/enrollment/inspect/{e.pk}/"


def _action(e, slug):
    return f"/admin/workpro/anmeldung/{e.pk}/{slug}/"


@pytest.fixture
def office(world, client):
    world.editor = make_user("redaktion@kita.test", person=False)
    from django.contrib.auth.models import Group, Permission

    editors = Group.objects.create(name="Redaktion")
    editors.permissions.add(Permission.objects.get(codename="access_admin"))
    world.editor.groups.add(editors)
    world.client = client
    return world


def _as(office, who):
    office.client.force_login(getattr(office, who))
    return office.client


@pytest.mark.parametrize(
    ("who", "list_status", "sees_it", "can_invite", "can_offer"),
    [
        ("superuser", 200, True, True, True),
        ("staff", 200, True, True, True),          # Leitung of the institution
        ("caseworker", 200, True, True, False),    # Sachbearbeitung: no signing
        ("other_staff", 200, False, False, False),  # Leitung of another institution
        ("editor", 302, False, False, False),      # admin access, no enrollment permission
        ("holder", 302, False, False, False),      # a participant's guardian
    ],
)
def test_role_matrix(office, who, list_status, sees_it, can_invite, can_offer):
    bewerber = enrollment_in(S.BEWERBER, offer=office.offer, institution=office.kita, holder=office.holder)
    eingestuft = enrollment_in(S.EINGESTUFT, offer=office.offer, institution=office.kita, holder=office.holder)
    client = _as(office, who)
    listing = client.get(LIST)
    assert listing.status_code == list_status
    if list_status == 200:
        assert (bewerber in listing.context["view"].queryset) == sees_it
    inspect = client.get(_inspect(bewerber))
    assert (inspect.status_code == 200) == sees_it
    invite = client.get(_action(bewerber, "einladen"))
    assert (invite.status_code == 200) == can_invite, invite.status_code
    if not sees_it and who not in ("holder",):
        assert invite.status_code in (302, 404)
    offer = client.get(_action(eingestuft, "angebot-erstellen"))
    assert (offer.status_code == 200) == can_offer
    if sees_it and not can_offer:
        assert offer.status_code in (302, 403)  # Wagtail turns PermissionDenied into a redirect


def test_inspect_shows_data_documents_log_and_allowed_buttons(office):
    enrollment = enrollment_in(S.ANGENOMMEN, offer=office.offer, institution=office.kita, holder=office.holder)
    EnrollmentLog.objects.create(enrollment=enrollment, action="workpro.enrollment.accepted", to_status=S.ANGENOMMEN)
    soup = BeautifulSoup(_as(office, "staff").get(_inspect(enrollment)).content, "html.parser")
    buttons = [a.get_text(strip=True) for a in soup.select('a[href*="/admin/workpro/anmeldung/"]')]
    assert "Ratifizieren" in buttons and "Unterlagen zurückweisen" in buttons
    assert "Einladen" not in buttons and "Angebot erstellen" not in buttons
    text = soup.get_text(" ", strip=True)
    assert "Angebot angenommen" in text and "Unterschrift" in text and "Muster" in text
    caseworker_buttons = [a.get_text(strip=True) for a in BeautifulSoup(
        _as(office, "caseworker").get(_inspect(enrollment)).content, "html.parser").select(
        'a[href*="/admin/workpro/anmeldung/"]')]
    assert "Ratifizieren" not in caseworker_buttons and "Unterlagen zurückweisen" in caseworker_buttons


def test_invite_form_sends_mail_with_ics(office, run_on_commit):
    enrollment = enrollment_in(S.BEWERBER, offer=office.offer, institution=office.kita, holder=office.holder)
    client = _as(office, "caseworker")
    day = (TODAY + timedelta(days=3)).isoformat()
    bad = client.post(_action(enrollment, "einladen"), {"date": "2000-01-01", "time": "10:00", "place": "Raum 1"})
    assert bad.status_code == 400 and "Vergangenheit" in bad.content.decode()
    with run_on_commit():
        response = client.post(_action(enrollment, "einladen"),
                               {"date": day, "time": "10:30", "place": "Raum 1", "note": "Bitte pünktlich"})
    assert response.status_code == 302 and response["Location"] == _inspect(enrollment)
    enrollment.refresh_from_db()
    assert enrollment.status == S.EINGELADEN and enrollment.interview_place == "Raum 1"
    assert mail.outbox[-1].attachments[0][0] == "einladung.ics"


def test_decide_needs_a_reason_to_reject(office):
    enrollment = enrollment_in(S.EINGELADEN, offer=office.offer, institution=office.kita, holder=office.holder)
    Enrollment.objects.filter(pk=enrollment.pk).update(interview_at=timezone.now() - timedelta(hours=1))
    client = _as(office, "caseworker")
    response = client.post(_action(enrollment, "entscheiden"), {"decision": "abgelehnt", "basis": "no_show"})
    assert response.status_code == 400 and "begründen" in response.content.decode()
    client.post(_action(enrollment, "entscheiden"), {"decision": "abgelehnt", "basis": "no_show",
                                                     "reason": "nicht erschienen"})
    enrollment.refresh_from_db()
    assert enrollment.status == S.ABGELEHNT and enrollment.decision_basis == "no_show"


def test_make_offer_form_prefills_costs_and_previews_the_pdf(office):
    from workpro_plugin.models import FeeBracket, FeeSchedule

    schedule = FeeSchedule.objects.create(name="Beiträge", maximum_rate=Decimal("400"))
    FeeBracket.objects.create(schedule=schedule, income_from=0, income_to=None, amount=Decimal("180"))
    office.offer.fee_schedule = schedule
    office.offer.save()
    enrollment = enrollment_in(S.EINGESTUFT, offer=office.offer, institution=office.kita, holder=office.holder)
    client = _as(office, "staff")
    form = client.get(_action(enrollment, "angebot-erstellen")).context["form"]
    assert form.initial["costs"] == Decimal("400")  # no income declared: maximum rate
    data = {"costs": "180,00", "costs_reason": "", "contract_start": (TODAY + timedelta(days=30)).isoformat(),
            "contract_end": (TODAY + timedelta(days=365)).isoformat(), "deadline": (TODAY + timedelta(days=14)).isoformat()}
    preview = client.post(f"/admin/workpro/anmeldung/{enrollment.pk}/vorschau-angebot/", data)
    assert preview["Content-Type"] == "application/pdf" and preview.content.startswith(b"%PDF")
    enrollment.refresh_from_db()
    assert enrollment.status == S.EINGESTUFT and enrollment.costs is None  # the preview saved nothing
    refused = client.post(_action(enrollment, "angebot-erstellen"), data)
    assert refused.status_code == 400 and "begründen" in refused.content.decode()
    data["costs_reason"] = "Geschwisterermäßigung"
    assert client.post(_action(enrollment, "angebot-erstellen"), data).status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.status == S.ANGEBOT and enrollment.costs == Decimal("180")


def test_staff_of_another_institution_gets_404_for_every_action(office):
    enrollment = enrollment_in(S.ANGENOMMEN, offer=office.offer, institution=office.kita, holder=office.holder)
    client = _as(office, "other_staff")
    for slug in ("einladen", "entscheiden", "ratifizieren", "unterlagen-zurueckweisen", "nachweis-anfordern"):
        assert client.post(_action(enrollment, slug), {"confirm": "on", "reason": "x"}).status_code == 404
    assert client.get(f"/admin/workpro/anmeldung/{enrollment.pk}/vorschau-angebot/").status_code == 404
    assert client.get(f"/workpro/konto/dokumente/{enrollment.documents.get().pk}/").status_code == 404
    enrollment.refresh_from_db()
    assert enrollment.status == S.ANGENOMMEN


def test_ratify_and_return_from_the_admin(office):
    first = enrollment_in(S.ANGENOMMEN, offer=office.offer, institution=office.kita, holder=office.holder)
    second = enrollment_in(S.ANGENOMMEN, offer=office.offer, institution=office.kita, holder=office.holder)
    client = _as(office, "staff")
    assert client.post(_action(first, "ratifizieren"), {}).status_code == 400  # confirmation required
    client.post(_action(first, "ratifizieren"), {"confirm": "on", "signature_0": "on"})
    client.post(_action(second, "unterlagen-zurueckweisen"), {"reason": "Unterschrift fehlt"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (S.RATIFIZIERT, S.ANGEBOT)


def test_bulk_invite_and_decide(office, run_on_commit):
    enrollments = [enrollment_in(S.BEWERBER, offer=office.offer, institution=office.kita, holder=office.holder)
                   for _ in range(3)]
    other = enrollment_in(S.BEWERBER, offer=office.offer, institution=office.other, holder=office.holder)
    client = _as(office, "caseworker")
    page = client.get("/admin/workpro/anmeldungen/einladen/")
    choices = [c[0].value for c in page.context["form"].fields["enrollments"].choices]
    assert other.pk not in choices and set(choices) == {e.pk for e in enrollments}
    with run_on_commit():
        response = client.post("/admin/workpro/anmeldungen/einladen/", {
            "enrollments": [e.pk for e in enrollments[:2]], "date": (TODAY + timedelta(days=2)).isoformat(),
            "time": "09:00", "place": "Aula"})
    assert response.status_code == 302
    assert Enrollment.objects.filter(status=S.EINGELADEN, interview_place="Aula").count() == 2
    assert len(mail.outbox) == 2
    Enrollment.objects.filter(status=S.EINGELADEN).update(interview_at=timezone.now() - timedelta(hours=1))
    client.post("/admin/workpro/anmeldungen/entscheiden/", {
        "enrollments": [e.pk for e in enrollments[:2]], "decision": "kandidat", "basis": "attended"})
    assert Enrollment.objects.filter(status=S.KANDIDAT).count() == 2
    forged = client.post("/admin/workpro/anmeldungen/einladen/", {
        "enrollments": [other.pk], "date": (TODAY + timedelta(days=2)).isoformat(), "time": "09:00", "place": "X"})
    assert forged.status_code == 400  # not a valid choice: nothing happens
    other.refresh_from_db()
    assert other.status == S.BEWERBER


def test_csv_export_is_scoped_and_filtered(office):
    mine = enrollment_in(S.BEWERBER, offer=office.offer, institution=office.kita, holder=office.holder)
    Enrollment.objects.filter(pk=mine.pk).update(contract_number="KITA-1")
    enrollment_in(S.KANDIDAT, offer=office.offer, institution=office.kita, holder=office.holder)
    theirs = enrollment_in(S.BEWERBER, offer=office.offer, institution=office.other, holder=office.holder)
    Enrollment.objects.filter(pk=theirs.pk).update(contract_number="BBZ-1")
    response = _as(office, "staff").get(LIST + "?export=csv&status__exact=bewerber")
    content = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    assert "KITA-1" in content and "BBZ-1" not in content and "Kandidat" not in content
    xlsx = _as(office, "staff").get(LIST + "?export=xlsx")
    assert xlsx.status_code == 200 and "spreadsheet" in xlsx["Content-Type"]


def test_filters_overdue_minor_and_interview_today(office):
    overdue = enrollment_in(S.ANGEBOT, offer=office.offer, institution=office.kita, holder=office.holder)
    Enrollment.objects.filter(pk=overdue.pk).update(signed_copy_deadline=TODAY - timedelta(days=1))
    invited = enrollment_in(S.EINGELADEN, offer=office.offer, institution=office.kita, holder=office.holder)
    Enrollment.objects.filter(pk=invited.pk).update(interview_at=timezone.now() + timedelta(minutes=5))
    client = _as(office, "staff")
    assert list(client.get(LIST + "?frist=ueberfaellig").context["view"].queryset) == [overdue]
    today = client.get(LIST + "?gespraech=heute").context["view"].queryset
    if timezone.localtime().hour < 23:
        assert list(today) == [invited]
    assert list(client.get(LIST + "?minderjaehrig=ja").context["view"].queryset) == []


def test_list_query_count_is_constant(office):
    client = _as(office, "staff")

    def queries():
        client.get(LIST)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(LIST).status_code == 200
        return len(captured)

    for _ in range(10):
        enrollment_in(S.BEWERBER, offer=office.offer, institution=office.kita, holder=office.holder)
    ten = queries()
    Enrollment.objects.bulk_create([
        Enrollment(offer=office.offer, institution=office.kita, account_holder=office.holder,
                   participant=office.holder.workpro_person, status=S.BEWERBER) for _ in range(490)])
    assert queries() == ten


def test_dashboard_panel_counts_the_institution(office):
    enrollment_in(S.BEWERBER, offer=office.offer, institution=office.kita, holder=office.holder)
    enrollment_in(S.BEWERBER, offer=office.offer, institution=office.other, holder=office.holder)
    soup = BeautifulSoup(_as(office, "staff").get("/admin/").content, "html.parser")
    panel = soup.find(id="workpro-dashboard-content") or soup.find(id="workpro-dashboard")
    assert panel is not None
    rows = {tr.find_all("td")[0].get_text(strip=True): tr.find_all("td")[1].get_text(strip=True)
            for tr in panel.select("tbody tr")}
    assert rows.get("Bewerber") == "1"
    editor_home = BeautifulSoup(_as(office, "editor").get("/admin/").content, "html.parser")
    assert editor_home.find(id="workpro-dashboard") is None


def test_inspect_shows_who_signed_a_document_and_the_verdict(office, settings, monkeypatch, tmp_path):
    from tests.factories import give_signing_key
    from workpro_plugin.services import enrollments as svc

    office.staff.first_name, office.staff.last_name = "Lea", "Leitner"
    office.staff.save()
    give_signing_key(office.kita, settings=settings, monkeypatch=monkeypatch, tmp_path=tmp_path)
    enrollment = enrollment_in(S.EINGESTUFT, offer=office.offer, institution=office.kita, holder=office.holder)
    with TestCase.captureOnCommitCallbacks(execute=True):  # the Angebot is rendered after commit
        svc.enrollment_make_offer(enrollment=enrollment, by=office.staff, costs=Decimal("100"),
                                  contract_start=TODAY + timedelta(days=30), contract_end=TODAY + timedelta(days=365))
    text = BeautifulSoup(_as(office, "staff").get(_inspect(enrollment)).content, "html.parser").get_text(" ",
                                                                                                         strip=True)
    assert f"digital unterschrieben von Lea Leitner, Einrichtungsleitung ({office.kita.name}) am " in text
    assert "Signatur gültig" in text


@pytest.mark.parametrize("query", ["?p=2", "?status__exact=bewerber&q=Muster", "?frist=ueberfaellig", "?o=1",
                                   "?notfall=fehlt", "?minderjaehrig=ja", "?angebot={offer}"])
def test_list_query_count_is_constant_on_deep_pages_filters_and_search(office, query):
    client = _as(office, "staff")
    url = LIST + query.format(offer=office.offer.pk)

    def queries():
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    def add(count):
        Enrollment.objects.bulk_create([
            Enrollment(offer=office.offer, institution=office.kita, account_holder=office.holder,
                       participant=office.holder.workpro_person, status=S.BEWERBER) for _ in range(count)])

    add(60)
    sixty = queries()
    add(440)
    assert queries() == sixty


def test_institution_list_and_offer_filter_do_not_grow_with_the_institutions(office):
    from tests.factories import make_institution, make_offer

    client = _as(office, "superuser")

    def queries(url):
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        return len(captured), response

    two = [queries(url)[0] for url in ("/admin/workpro_plugin/institution/", LIST)]
    for i in range(6):
        make_offer(make_institution(f"kita-{i}", name=f"KiTa {i}"), f"Angebot {i}")
    (institutions, _), (enrollments, listing) = [queries(url) for url in ("/admin/workpro_plugin/institution/", LIST)]
    assert [institutions, enrollments] == two


def _offer_filter_choices(response) -> set[str]:
    soup = BeautifulSoup(response.content, "html.parser")
    return {a.get_text(strip=True) for a in soup.select("a[href*='angebot=']")}


def test_offer_filter_lists_the_offers_of_the_users_institutions_only(office):
    """The filter sidebar appears once the list has rows (modeladmin hides it on an empty list): the
    superuser sees every institution's offers, staff their own institution's, in one query each."""
    from tests.factories import make_institution, make_offer

    enrollment_in(S.BEWERBER, offer=office.offer, institution=office.kita, holder=office.holder)
    institutions = [make_institution(f"kita-f{i}", name=f"KiTa F{i}") for i in range(3)]
    foreign = [make_offer(institution, f"Fremdangebot {i}") for i, institution in enumerate(institutions)]
    enrollment_in(S.BEWERBER, offer=foreign[0], institution=institutions[0], holder=office.holder)
    everything = _offer_filter_choices(_as(office, "superuser").get(LIST))
    assert {office.offer.title, *(o.title for o in foreign)} <= everything
    own = _offer_filter_choices(_as(office, "staff").get(LIST))
    assert office.offer.title in own and not own & {o.title for o in foreign}
