"""lib.compiled_sql: a queryset compiled once per shape returns what the queryset returns, for any values."""

from __future__ import annotations

import pytest
from django.db.models import Q

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
