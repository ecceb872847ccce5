"""Admin lists accept only the query parameters they declare (#15).

wagtail-modeladmin applies every undeclared query parameter as an ORM lookup and never calls
``lookup_allowed``: ``?account_holder__password__startswith=argon2`` turned a list into a yes/no
oracle on any column of any related row. Every WorkPro list is collected from the URL resolver
(modeladmin index views, the snippet lists of WorkPro models, the chat inbox), so a list added
later is tried too; each must answer 400 to undeclared lookups and plain parameters.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.db import models
from django.urls import reverse

from tests.factories import enrollment_in, make_child
from tests.helpers import HOST, walk_urls
from tests.security_figures import note
from workpro_plugin.lib.choices import AuditAction
from workpro_plugin.models import AuditEvent, Enrollment

pytestmark = pytest.mark.django_db
S = Enrollment.Status


def collect_lists() -> list[str]:
    """Every list view of WorkPro in the admin, by URL name."""
    names = set()
    for name, _route, pattern in walk_urls():
        if not name:
            continue
        namespace, _, url_name = name.rpartition(":")
        if pattern.pattern.converters:  # a list has no object in its path
            continue
        if not namespace and url_name.startswith("workpro_plugin_") and url_name.endswith("_modeladmin_index"):
            names.add(name)
        elif namespace.startswith("wagtailsnippets_workpro_plugin_") and url_name in ("list", "list_results"):
            names.add(name)
        elif namespace.startswith("wagtailsnippetchoosers_workpro_plugin_") and url_name in ("choose",
                                                                                             "choose_results"):
            names.add(name)
        elif name == "workpro_chat:inbox":
            names.add(name)
    return sorted(names)


def _model_of(url_name):
    from django.apps import apps

    if url_name == "workpro_chat:inbox":
        return apps.get_model("workpro_plugin", "Conversation")
    if url_name.startswith("wagtailsnippet"):
        return apps.get_model("workpro_plugin", url_name.split(":")[0].rsplit("_", 1)[-1])
    return apps.get_model("workpro_plugin", url_name[len("workpro_plugin_"):-len("_modeladmin_index")])


def password_path(model, depth=0, seen=()):
    """A lookup path from the model to a user's password hash, through foreign keys (the oracle's target)."""
    User = get_user_model()
    if model is User:
        return "password"
    if depth >= 3:
        return None
    for field in model._meta.get_fields():
        if isinstance(field, (models.ForeignKey, models.OneToOneField)) and field.related_model not in seen:
            rest = password_path(field.related_model, depth + 1, (*seen, model))
            if rest:
                return f"{field.name}__{rest}"
    return None


def undeclared(model) -> list[tuple[str, str]]:
    cases = [("pk__gt", "0"), ("id__in", "1,2"), ("zzz", "1"), ("e", "1")]
    path = password_path(model)
    if path:
        cases += [(f"{path}__startswith", "argon2"), (f"{path}__startswith", "zzzz"), (f"{path}__regex", "^a")]
    return cases


@pytest.fixture
def lists_world(world):
    child = make_child(world.holder, first_name="Lena")
    enrollment = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder,
                               participant=child)
    world.enrollment = enrollment
    return world


def test_every_list_is_collected():
    lists = collect_lists()
    assert "workpro_plugin_enrollment_modeladmin_index" in lists
    assert "workpro_plugin_person_modeladmin_index" in lists
    assert "workpro_chat:inbox" in lists
    assert any(name.startswith("wagtailsnippets_workpro_plugin_feeschedule") for name in lists)


def test_every_list_refuses_undeclared_parameters(client, lists_world):
    client.force_login(lists_world.superuser)
    lists, tried = collect_lists(), 0
    for name in lists:
        url = reverse(name)
        plain = client.get(url, **HOST)
        assert plain.status_code == 200, (name, plain.status_code)
        for key, value in undeclared(_model_of(name)):
            response = client.get(f"{url}?{urlencode({key: value})}", **HOST)
            assert response.status_code == 400, (name, key, response.status_code)
            tried += 1
    assert tried >= 4 * len(lists)
    note("admin lists × undeclared lookups refused (400)", f"{len(lists)} lists, {tried} requests")


def test_oracle_is_closed_for_staff(client, lists_world):
    """The attack of the report: a caseworker asks the enrollment list about the holder's password hash."""
    client.force_login(lists_world.caseworker)
    url = reverse("workpro_plugin_enrollment_modeladmin_index")
    hit = client.get(url + "?account_holder__password__startswith=argon2", **HOST)
    miss = client.get(url + "?account_holder__password__startswith=zzzz", **HOST)
    assert hit.status_code == miss.status_code == 400
    alert = [BeautifulSoup(r.content, "html.parser").select_one("[role=alert]").get_text() for r in (hit, miss)]
    assert alert[0] == alert[1]  # the answer does not depend on the value asked about
    body = hit.content.decode()
    assert "kennt den Parameter" in body and "account_holder__password__startswith" in body
    assert AuditEvent.objects.filter(action=AuditAction.ACCESS_DENIED, detail__reason="undeclared_list_parameter").exists()


@pytest.mark.parametrize("query", [
    "angebot=abc", "angebot=99999999999999999999999", "status__exact=erfunden", "frist=gestern",
    "minderjaehrig=vielleicht", "o=99", "o=x", "p=abc", "export=pdf", "q=%00", "ot=sideways",
])
def test_bad_values_of_declared_parameters_are_400(client, lists_world, query):
    client.force_login(lists_world.caseworker)
    response = client.get(reverse("workpro_plugin_enrollment_modeladmin_index") + "?" + query, **HOST)
    assert response.status_code == 400
    assert "ungültig" in response.content.decode() or "kennt" in response.content.decode()


def test_offer_of_another_institution_is_not_a_filter_value(client, lists_world, make_offer):
    foreign = make_offer(lists_world.other, "Ausbildung", capacity=5)
    client.force_login(lists_world.caseworker)
    url = reverse("workpro_plugin_enrollment_modeladmin_index")
    assert client.get(f"{url}?angebot={foreign.pk}", **HOST).status_code == 400
    assert client.get(f"{url}?angebot={lists_world.offer.pk}", **HOST).status_code == 200


def test_declared_parameters_still_filter(client, lists_world):
    client.force_login(lists_world.caseworker)
    url = reverse("workpro_plugin_enrollment_modeladmin_index")
    number = lists_world.enrollment.contract_number or lists_world.enrollment.participant.last_name
    status = lists_world.enrollment.status
    other = S.RATIFIZIERT if status != S.RATIFIZIERT else S.BEWERBER
    shown = client.get(f"{url}?status__exact={status}", **HOST)
    hidden = client.get(f"{url}?status__exact={other}", **HOST)
    assert shown.status_code == hidden.status_code == 200
    assert shown.context["view"].queryset.filter(pk=lists_world.enrollment.pk).exists()
    assert not hidden.context["view"].queryset.filter(pk=lists_world.enrollment.pk).exists()
    for query in (f"q={number}", "o=0", "o=-0.1", "p=1", f"angebot={lists_world.offer.pk}", "frist=ueberfaellig",
                  "minderjaehrig=ja", "gespraech=heute", "notfall=fehlt"):
        assert client.get(f"{url}?{query}", **HOST).status_code == 200, query
    export = client.get(f"{url}?export=csv", **HOST)
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")


def test_chat_inbox_filters_are_declared(client, lists_world):
    client.force_login(lists_world.caseworker)
    url = reverse("workpro_chat:inbox")
    assert client.get(f"{url}?status=unbeantwortet&zugewiesen=mir&ungelesen=on&p=1", **HOST).status_code == 200
    assert client.get(f"{url}?status=erfunden", **HOST).status_code == 400
    assert client.get(f"{url}?angebot=abc", **HOST).status_code == 400
    assert client.get(f"{url}?institution__name=x", **HOST).status_code == 400


def test_snippet_list_filters_are_declared(client, lists_world):
    client.force_login(lists_world.superuser)
    url = reverse("wagtailsnippets_workpro_plugin_feeschedule:list")
    assert client.get(f"{url}?institution={lists_world.kita.pk}&q=a&ordering=name&p=1", **HOST).status_code == 200
    assert client.get(f"{url}?institution=abc", **HOST).status_code == 400
    assert client.get(f"{url}?institution__operator__name=x", **HOST).status_code == 400


def test_institution_filter_names_only_own_institutions(client, lists_world):
    enrollment_in(S.BEWERBER, offer=lists_world.offer, institution=lists_world.kita, holder=lists_world.stranger)
    client.force_login(lists_world.caseworker)
    url = reverse("workpro_plugin_enrollment_modeladmin_index")
    soup = BeautifulSoup(client.get(url, **HOST).content, "html.parser")
    for hidden in soup(["script", "template", "style"]):
        hidden.decompose()
    # The visible text only: a random token in an attribute may contain the letters of a name.
    assert lists_world.other.name not in soup.get_text(" ").split()
    other_id = f"institution__id__exact={lists_world.other.pk}"
    assert client.get(f"{url}?{other_id}", **HOST).status_code == 400
    assert client.get(f"{url}?institution__id__exact=abc", **HOST).status_code == 400
    assert client.get(f"{url}?institution__id__exact={lists_world.kita.pk}", **HOST).status_code == 200
