"""lib.compiled_sql: a queryset compiled once per shape returns what the queryset returns, for any values."""

from __future__ import annotations

import pytest
from django.db.models import F, Func, Q

from workpro_plugin.lib.compiled_sql import CompiledQuery
from workpro_plugin.models import Person

pytestmark = pytest.mark.django_db


def _people(n: int) -> list[Person]:
    return [Person.objects.create(last_name=f"Name {i}", first_name=f"Vorname {i}") for i in range(n)]


def _query(first_id: int, other_ids: list[int]):
    return (Person.objects.filter(Q(pk=first_id) | Q(pk__in=other_ids), last_name__startswith="Name")
            .order_by("pk").values_list("pk", "last_name"))


def test_rows_are_the_querysets_rows_for_any_values_of_a_shape():
    people = _people(6)
    ids = [person.pk for person in people]
    compiled = CompiledQuery(_query)
    for first, others in ((ids[0], [ids[1], ids[2]]), (ids[3], [ids[4], ids[5]]), (ids[5], [ids[0], ids[5]]),
                          (ids[1], [ids[2]]), (ids[2], []), (-1, [ids[4], ids[4], ids[3]])):
        assert compiled.rows(first_id=first, other_ids=others) == list(_query(first, others)), (first, others)


def test_the_queryset_is_built_once_per_shape():
    people = _people(3)
    built = []

    def build(first_id, other_ids):
        built.append(len(other_ids))
        return _query(first_id, other_ids)

    compiled = CompiledQuery(build)
    compiled.rows(first_id=people[0].pk, other_ids=[people[1].pk])
    compiled.rows(first_id=people[2].pk, other_ids=[people[0].pk])
    compiled.rows(first_id=people[2].pk, other_ids=[people[0].pk, people[0].pk])  # duplicates drop, as in IN
    assert built == [1]
    compiled.rows(first_id=people[2].pk, other_ids=[people[0].pk, people[1].pk])
    assert built == [1, 2]


def test_row_is_the_first_row_or_none():
    person = _people(1)[0]
    compiled = CompiledQuery(lambda person_id: Person.objects.filter(pk=person_id).values_list("last_name"))
    assert compiled.row(person_id=person.pk) == ("Name 0",)
    assert compiled.row(person_id=person.pk + 1000) is None


@pytest.mark.parametrize("build", [
    # written into the SQL, not bound: compiled once, it would run with the first call's value forever
    lambda person_id: Person.objects.extra(where=[f"id = {person_id}"]),
    # bound, but as another number than the value passed
    lambda person_id: Person.objects.filter(pk=person_id + 1),
])
def test_a_value_that_is_not_bound_as_itself_is_an_error(build):
    with pytest.raises(ValueError, match="not bound"):
        CompiledQuery(build).rows(person_id=7)


def _fields(obj) -> dict:
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields
            if field.attname not in obj.get_deferred_fields()}


def test_objects_are_the_querysets_instances_with_their_relations_and_annotations():
    """Model instances as the queryset makes them: deferred columns stay deferred, select_related fills the
    relation, annotations and converted values (dates, datetimes, booleans) are the same."""
    from tests.factories import make_user  # noqa: PLC0415 (the factories load the models)

    people = _people(4)
    users = [make_user(f"kompiliert-{i}@example.org", person=False) for i in range(2)]
    Person.objects.filter(pk=people[1].pk).update(user=users[0], date_of_birth="2010-03-04")

    def build(first_id, other_ids):
        return (Person.objects.filter(Q(pk=first_id) | Q(pk__in=other_ids)).select_related("user")
                .only("last_name", "date_of_birth", "user__email", "user__date_joined", "user__is_active")
                .annotate(initial=F("first_name")).order_by("-pk"))

    compiled = CompiledQuery(build)
    for first, others, rows in ((people[0].pk, [people[1].pk, people[2].pk], (0, 2)),
                                (people[3].pk, [people[1].pk, people[0].pk], (1, 3)),
                                (people[1].pk, [people[2].pk, people[3].pk], None)):
        expected = list(build(first, others)[rows[0]:rows[1]] if rows else build(first, others))
        got = compiled.objects(rows, first_id=first, other_ids=others)
        assert [type(obj) for obj in got] == [type(obj) for obj in expected] and got
        for mine, theirs in zip(got, expected, strict=True):
            assert _fields(mine) == _fields(theirs) and mine.get_deferred_fields() == theirs.get_deferred_fields()
            assert mine.initial == theirs.initial
            assert (mine.user and _fields(mine.user)) == (theirs.user and _fields(theirs.user))
            assert not mine._state.adding and mine._state.db == "default"


def test_rows_page_as_a_queryset_pages():
    from workpro_plugin.lib.paging import Rows, page_of  # noqa: PLC0415

    people = _people(7)
    ids = [person.pk for person in people]
    compiled = CompiledQuery(lambda first_id, other_ids: _query(first_id, other_ids))
    counted = CompiledQuery(lambda first_id, other_ids: Person.objects.filter(
        Q(pk=first_id) | Q(pk__in=other_ids), last_name__startswith="Name").order_by().annotate(
        n=Func(F("pk"), function="COUNT")).values_list("n"))
    rows = Rows(lambda start, stop: compiled.rows((start, stop), first_id=ids[0], other_ids=ids[1:]),
                lambda: counted.row(first_id=ids[0], other_ids=ids[1:])[0])
    queryset = _query(ids[0], ids[1:])
    for number in ("1", "2", "3", "9", "x", None):
        mine, theirs = page_of(rows, number, 3), page_of(queryset, number, 3)
        assert (mine.number, mine.paginator.num_pages, list(mine.object_list)) == (
            theirs.number, theirs.paginator.num_pages, list(theirs.object_list)), number
