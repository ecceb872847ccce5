"""The admin asks "is this user staff of any institution?" once a request, not for every menu entry.

Each admin page builds the menu; its entries (Anmeldungen, Kunden, Zusatzbuchungen, Kriterien, Kategorien ...)
each asked the same existence query: 21 identical queries on a Leitung's enrollment list. The answer is
kept on the request's user object (lib.users.remembered), as Django keeps its permissions, so the next
request, with its own user object, asks again: a new colleague sees the menu at once.
"""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_user
from workpro_plugin.lib.users import remembered

pytestmark = pytest.mark.django_db
LIST = "/admin/workpro_plugin/enrollment/"
EXISTS_INSTITUTION = 'AS "a" FROM "workpro_plugin_institution"'


def _asked(client, url) -> Counter:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return Counter(query["sql"] for query in captured if EXISTS_INSTITUTION in query["sql"])


@pytest.mark.parametrize("who", ["staff", "caseworker"])
@pytest.mark.parametrize("url", [LIST, "/admin/"])
def test_each_question_about_the_users_institutions_is_asked_once(client, world, who, url):
    client.force_login(getattr(world, who))
    asked = _asked(client, url)
    # staff of any institution; texts; Textbausteine (chat staff); Anwendungen: at most four different
    # questions, the same one never twice (the first of them was asked 21 times a page)
    assert 1 <= sum(asked.values()) <= 4, asked


def test_a_new_colleague_sees_the_menu_on_the_next_request(client, world):
    newcomer = make_user("neu@kita.test", person=False)
    client.force_login(newcomer)
    assert client.get(LIST).status_code in (302, 403)  # no institution yet: no enrollment list
    newcomer.groups.add(world.kita.staff_group)
    response = client.get(LIST)
    assert response.status_code == 200 and "Anmeldungen" in response.content.decode()


def test_remembered_is_per_user_object_and_key(world):
    calls = []

    def compute(value):
        calls.append(value)
        return value

    user = world.staff
    assert remembered(user, "a", lambda: compute(1)) == 1
    assert remembered(user, "a", lambda: compute(2)) == 1
    assert remembered(user, "b", lambda: compute(3)) == 3
    fresh = type(user).objects.get(pk=user.pk)  # as the next request reads request.user anew
    assert remembered(fresh, "a", lambda: compute(4)) == 4
    assert calls == [1, 3, 4]
