"""The staff enrollment list at scale (#22): rows written without modeladmin's per-cell templates but as the same
HTML, pages fetched by their keys in the list's order, one count per list, queries that do not grow with the
rows for Leitung, a Träger and superusers."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import enrollment_in, make_child, make_user
from tests.helpers import modeladmin_table
from workpro_plugin.models import EmergencyContact, Enrollment, Person

pytestmark = pytest.mark.django_db
S = Enrollment.Status
LIST = "/admin/workpro_plugin/enrollment/"


@pytest.fixture
def varied(world):
    """Rows in every status, with and without participant and contract number, text that needs escaping,
    a minor with Notfalldaten, an overdue deadline."""
    for status in S.values:
        enrollment_in(status, offer=world.offer, institution=world.kita, holder=world.holder)
    odd = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder)
    Enrollment.objects.filter(pk=odd.pk).update(contract_number='<b>"A&B"</b>', participant=None)
    child = make_child(world.holder, first_name="<i>Mia</i>", last_name="O'Neil & Co",
                       date_of_birth=timezone.localdate() - timedelta(days=3 * 365))
    minor = enrollment_in(S.ANGEBOT, offer=world.offer, institution=world.kita, holder=world.holder,
                          participant=child, for_transition="expire")
    EmergencyContact.objects.create(enrollment=minor, name="Oma", phone="0123")
    enrollment_in(S.BEWERBER, offer=world.offer, institution=world.other, holder=world.holder)
    return world


@pytest.mark.parametrize("who", ["staff", "superuser"])
@pytest.mark.parametrize("query", ["", "?o=1", "?o=-4.7", "?status__exact=angebot", "?q=Neil"])
def test_rows_are_the_html_modeladmin_writes(client, varied, who, query):
    client.force_login(getattr(varied, who))
    response = client.get(LIST + query)
    assert response.status_code == 200
    table = response.context["enrollment_table"]
    assert table == modeladmin_table(response)
    assert table in response.content.decode()
    assert "&lt;b&gt;&quot;A&amp;B&quot;&lt;/b&gt;" in table or query  # escaped like modeladmin escapes


def _page_keys(client, query, page):
    return [row.pk for row in client.get(f"{LIST}?p={page}{query}").context["object_list"]]


@pytest.mark.parametrize("query", ["", "&o=1", "&o=-1", "&o=7", "&angebot={offer}"])
def test_pages_follow_the_lists_order_without_gaps_or_repeats(client, world, query):
    person = world.holder.workpro_person
    Enrollment.objects.bulk_create([
        Enrollment(offer=world.offer, institution=world.kita, account_holder=world.holder, participant=person,
                   status=S.BEWERBER) for _ in range(120)])
    # Equal creation times: the order then rests on the primary key alone (modeladmin's last ordering field).
    Enrollment.objects.filter(pk__in=list(Enrollment.objects.values_list("pk", flat=True)[:60])).update(
        created_at=timezone.now())
    client.force_login(world.staff)
    query = query.format(offer=world.offer.pk)
    expected = [row.pk for row in client.get(f"{LIST}?p=1{query}").context["view"].queryset]
    pages = [pk for page in (1, 2, 3) for pk in _page_keys(client, query, page)]
    assert pages == expected and len(set(pages)) == 120


def _enrollment_counts(captured) -> int:
    return sum(1 for q in captured if q["sql"].startswith("SELECT COUNT(*)") and "workpro_plugin_enrollment" in q["sql"])


@pytest.mark.parametrize(("query", "counts"), [("", 1), ("?angebot={offer}", 2), ("?q=Muster", 2), ("?p=2", 1)])
def test_the_list_counts_once(client, world, query, counts):
    """modeladmin counted every list three times (x von y, the filtered list, the paginator): one count, and a
    second for "von y" only when a filter or search narrows the list."""
    enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder)
    client.force_login(world.staff)
    url = LIST + query.format(offer=world.offer.pk)
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    assert _enrollment_counts(captured) == counts


@pytest.fixture
def traeger(world):
    """The operator's group ("Träger …") of the world's institutions, and a member."""
    world.kita.refresh_from_db()
    return make_user("traeger@example.org", person=False, groups=[world.kita.operator.lead_group])


@pytest.mark.parametrize("who", ["staff", "superuser", "traeger"])
@pytest.mark.parametrize("query", ["", "?angebot={offer}", "?p=2&angebot={offer}", "?institution__id__exact={kita}",
                                   "?o=1&angebot={offer}"])
def test_queries_do_not_grow_with_the_rows(client, world, traeger, who, query):
    user = traeger if who == "traeger" else getattr(world, who)
    client.force_login(user)
    url = LIST + query.format(offer=world.offer.pk, kita=world.kita.pk)

    def add(count):
        people = Person.objects.bulk_create([Person(first_name="Kind", last_name=f"N{i}") for i in range(count)])
        Enrollment.objects.bulk_create([
            Enrollment(offer=world.offer, institution=world.kita, account_holder=world.holder, participant=person,
                       status=S.BEWERBER) for person in people])

    def queries():
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    add(60)
    n = queries()
    add(120)
    assert queries() == n


@pytest.fixture
def few_among_many(world):
    """130 rows of which 6 are offers (Angebot), one of them without participant; equal creation times."""
    person = world.holder.workpro_person
    Enrollment.objects.bulk_create([
        Enrollment(offer=world.offer, institution=world.kita, account_holder=world.holder, participant=person,
                   status=S.ANGEBOT if i % 22 == 0 else S.BEWERBER) for i in range(130)])
    Enrollment.objects.filter(pk__in=list(Enrollment.objects.values_list("pk", flat=True)[:70])).update(
        created_at=timezone.now())
    Enrollment.objects.filter(pk=Enrollment.objects.filter(status=S.ANGEBOT).first().pk).update(participant=None)
    return world


def _keys_queries(captured):
    """The page's keys: only the primary key, cut by LIMIT."""
    return [q["sql"] for q in captured
            if q["sql"].startswith('SELECT "workpro_plugin_enrollment"."id" AS "pk" FROM') and "LIMIT" in q["sql"]]


@pytest.mark.parametrize("order", ["", "&o=1", "&o=-1", "&o=-4.7"])
def test_few_matches_are_found_first_then_sorted(client, few_among_many, monkeypatch, order):
    """A filter that keeps few of many rows: the page is cut from its matches (`pk IN (...) ORDER BY`), not
    from a walk along the order's index, and shows the same rows in the same order as that walk."""
    from workpro_plugin.backoffice.enrollments import PageByKeysPaginator

    client.force_login(few_among_many.staff)
    url = f"{LIST}?status__exact=angebot{order}"
    with CaptureQueriesContext(connection) as captured:
        found_first = [row.pk for row in client.get(url).context["object_list"]]
    (keys,) = _keys_queries(captured)
    assert " IN (SELECT " in keys and "ORDER BY" in keys
    monkeypatch.setattr(PageByKeysPaginator, "matches_first", lambda self, top: False)
    with CaptureQueriesContext(connection) as captured:
        walked = [row.pk for row in client.get(url).context["object_list"]]
    (keys,) = _keys_queries(captured)
    assert " IN (SELECT " not in keys
    assert found_first == walked and len(walked) == 6


def test_many_matches_walk_the_order(client, few_among_many):
    client.force_login(few_among_many.staff)
    with CaptureQueriesContext(connection) as captured:
        assert len(client.get(f"{LIST}?status__exact=bewerber").context["object_list"]) == 50
    (keys,) = _keys_queries(captured)
    assert " IN (SELECT " not in keys


def test_no_match_reads_no_page(client, few_among_many):
    client.force_login(few_among_many.staff)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"{LIST}?notfall=fehlt")
    assert response.status_code == 200 and list(response.context["object_list"]) == []
    assert _keys_queries(captured) == []


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's plan: PostgreSQL chooses by its statistics")
@pytest.mark.parametrize(("query", "wanted"), [
    ("?o=1", ('SELECT "workpro_plugin_enrollment"."id" AS "pk" FROM', "COVERING INDEX workpro_enr_inst_participant")),
    ("?notfall=fehlt", ("SELECT COUNT(*)", "COVERING INDEX workpro_enr_inst_status_part"))])
def test_joins_to_the_participant_read_no_enrollment_row(client, few_among_many, query, wanted):
    """Ordering by the participant and the Notfalldaten filter read the participant from the institution's
    index: at 50,000 enrollments, reading each enrollment row for its participant cost two thirds of the list."""
    client.force_login(few_among_many.staff)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(LIST + query).status_code == 200
    start, index = wanted
    (sql,) = [q["sql"] for q in captured if q["sql"].startswith(start) and "workpro_plugin_person" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        plan = " | ".join(row[-1] for row in cursor.fetchall())
    assert index in plan, plan


def test_a_search_walks_the_order(client, few_among_many):
    """A search's LIKE reads every row to find its matches: the walk along the order at least stops at the page."""
    client.force_login(few_among_many.staff)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"{LIST}?status__exact=angebot&q=a").status_code == 200
    (keys,) = _keys_queries(captured)
    assert " IN (SELECT " not in keys


def test_the_status_badge_is_written_once_per_status_and_language(world):
    """The badge is kept per status and language: each language shows its own label."""
    from django.utils import translation
    from django.utils.html import format_html

    from workpro_plugin.backoffice.enrollments import EnrollmentAdmin

    admin = EnrollmentAdmin()
    enrollment = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder)
    seen = {}
    for language in ("de", "en", "de"):
        with translation.override(language):
            expected = format_html('<span class="w-status w-status--primary">{}</span>', enrollment.get_status_display())
            seen[language] = admin.status_badge(enrollment)
            assert seen[language] == expected
    assert seen["de"] != seen["en"]
