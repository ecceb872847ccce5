"""Gebührenordnungen are scoped to the user's institutions (#15).

The chooser showed every institution's schedules to any admin user, and an offer could
point to another institution's schedule. Now: the chooser lists the user's institutions'
schedules and the shared ones; the snippet views (with the model permissions) only the
user's institutions' (another id is a 404); an offer page refuses another institution's
schedule with a German error next to the field.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from tests.factories import make_user
from tests.helpers import walk_urls
from tests.security_figures import note
from workpro_plugin.models import FeeSchedule, OfferIndexPage, OfferPage

pytestmark = pytest.mark.django_db
SNIPPET = "wagtailsnippets_workpro_plugin_feeschedule"
CHOOSER = "wagtailsnippetchoosers_workpro_plugin_feeschedule"
OTHER_INSTITUTION = "gehört zu einer anderen Einrichtung"


@pytest.fixture
def fees(world):
    w = world
    w.mine = FeeSchedule.objects.create(name="Gebühren Kita Eigen", institution=w.kita, maximum_rate=Decimal("300"))
    w.theirs = FeeSchedule.objects.create(name="Gebühren BBZ Fremd", institution=w.other,
                                          maximum_rate=Decimal("400"))
    w.shared = FeeSchedule.objects.create(name="Gebühren Träger Gemeinsam", institution=None,
                                          maximum_rate=Decimal("500"))
    # The Leitung of the KiTa may manage fee schedules (model permissions), as an operator might grant.
    w.kita.lead_group.permissions.add(*Permission.objects.filter(
        content_type__app_label="workpro_plugin", codename__endswith="_feeschedule"))
    editors = Group.objects.create(name="Redaktion")
    editors.permissions.add(Permission.objects.get(codename="access_admin"))
    w.editor = make_user("redaktion@example.org", person=False, groups=[editors])
    return w


def _names(response) -> set[str]:
    text = response.content.decode()
    if response["Content-Type"].startswith("application/json"):  # the chooser's modal steps
        text = json.dumps(response.json(), ensure_ascii=False)
    return {name for name in ("Gebühren Kita Eigen", "Gebühren BBZ Fremd", "Gebühren Träger Gemeinsam")
            if name in text}


def test_snippet_list_shows_only_the_users_institutions(fees, client):
    client.force_login(fees.staff)
    for url in (reverse(f"{SNIPPET}:list"), reverse(f"{SNIPPET}:list_results")):
        response = client.get(url)
        assert response.status_code == 200
        assert _names(response) == {"Gebühren Kita Eigen"}, url
    client.force_login(fees.superuser)
    assert _names(client.get(reverse(f"{SNIPPET}:list"))) == {
        "Gebühren Kita Eigen", "Gebühren BBZ Fremd", "Gebühren Träger Gemeinsam"}


@pytest.mark.parametrize("who, expected", [
    ("staff", {"Gebühren Kita Eigen", "Gebühren Träger Gemeinsam"}),       # Leitung of the KiTa
    ("caseworker", {"Gebühren Kita Eigen", "Gebühren Träger Gemeinsam"}),  # Sachbearbeitung, no model perms
    ("other_staff", {"Gebühren BBZ Fremd", "Gebühren Träger Gemeinsam"}),
    ("editor", set()),                                                      # admin access, no institution
    ("superuser", {"Gebühren Kita Eigen", "Gebühren BBZ Fremd", "Gebühren Träger Gemeinsam"}),
])
def test_chooser_lists_only_the_users_institutions(fees, client, who, expected):
    client.force_login(getattr(fees, who))
    choose = client.get(reverse(f"{CHOOSER}:choose"))
    results = client.get(reverse(f"{CHOOSER}:choose_results"), {"q": "Gebühren"})
    assert choose.status_code == 200 and results.status_code == 200
    assert _names(choose) == expected
    assert _names(results) == expected
    multiple = client.get(reverse(f"{CHOOSER}:chosen_multiple"),
                          {"id": [fees.mine.pk, fees.theirs.pk, fees.shared.pk]})
    assert _names(multiple) == expected


def test_chosen_view_refuses_another_institutions_schedule(fees, client):
    client.force_login(fees.staff)
    assert client.get(reverse(f"{CHOOSER}:chosen", args=[fees.mine.pk])).status_code == 200
    assert client.get(reverse(f"{CHOOSER}:chosen", args=[fees.shared.pk])).status_code == 200
    assert client.get(reverse(f"{CHOOSER}:chosen", args=[fees.theirs.pk])).status_code == 404


def test_snippet_object_urls_of_another_institution_are_404(fees, client):
    """Every snippet URL with a schedule id: edit, delete, copy, usage, history, ... (from the resolver)."""
    from django.urls import NoReverseMatch

    client.force_login(fees.staff)
    object_urls = []
    for pattern_name in _snippet_url_names():
        try:
            object_urls.append((pattern_name, reverse(f"{SNIPPET}:{pattern_name}", args=[fees.theirs.pk]),
                                reverse(f"{SNIPPET}:{pattern_name}", args=[fees.mine.pk])))
        except NoReverseMatch:  # a URL without a schedule id (list, add, ...)
            continue
    assert {"edit", "delete", "usage", "history"} <= {name for name, _, _ in object_urls}
    for name, theirs, mine in object_urls:
        assert client.get(theirs).status_code == 404, name
        assert client.post(theirs, {}).status_code in (404, 405), name
        assert client.get(mine).status_code in (200, 302, 405), name
    # The shared schedule applies to every institution: only superusers change it.
    assert client.get(reverse(f"{SNIPPET}:edit", args=[fees.shared.pk])).status_code == 404
    assert FeeSchedule.objects.filter(pk=fees.theirs.pk).exists()
    note("fee schedules: foreign snippet URLs answering 404", len(object_urls))
    client.force_login(fees.superuser)
    assert client.get(reverse(f"{SNIPPET}:edit", args=[fees.theirs.pk])).status_code == 200


def _snippet_url_names() -> list[str]:
    return sorted({url.name.rpartition(":")[2] for url in walk_urls()
                   if url.name and url.name.rpartition(":")[0] == SNIPPET})


def _schedule_data(institution, name="Neue Gebühren"):
    return {"name": name, "institution": "" if institution is None else str(institution.pk),
            "billing_period": "monatlich", "maximum_rate": "200", "notes": "",
            "brackets-TOTAL_FORMS": "0", "brackets-INITIAL_FORMS": "0",
            "brackets-MIN_NUM_FORMS": "0", "brackets-MAX_NUM_FORMS": "1000"}


def test_new_schedule_belongs_to_one_of_the_users_institutions(fees, client):
    client.force_login(fees.staff)
    add = reverse(f"{SNIPPET}:add")
    page = client.get(add).content.decode()
    assert "Kita" in page and f'value="{fees.other.pk}"' not in page
    for institution in (fees.other, None):
        response = client.post(add, _schedule_data(institution))
        assert response.status_code in (200, 400)
        assert "institution" in response.context["form"].errors
        assert not FeeSchedule.objects.filter(name="Neue Gebühren").exists()
    response = client.post(add, _schedule_data(fees.kita))
    assert response.status_code == 302
    assert FeeSchedule.objects.get(name="Neue Gebühren").institution == fees.kita
    # Moving one's own schedule to another institution is refused as well.
    response = client.post(reverse(f"{SNIPPET}:edit", args=[fees.mine.pk]), _schedule_data(fees.other, "Eigen"))
    assert "institution" in response.context["form"].errors
    fees.mine.refresh_from_db()
    assert fees.mine.institution == fees.kita


# --- the offer page ------------------------------------------------------------------------------

def _betreuung() -> str:
    """The id of the shared category "Betreuung" (migration 0029), as the page form posts it."""
    from workpro_plugin.models import OfferCategory
    return str(OfferCategory.objects.get(institution=None, slug="betreuung").pk)


def _offer_data(schedule, **overrides):
    data = {
        "title": "Neues Angebot", "slug": "neues-angebot", "category": _betreuung(),
        "teaser": "Kurz", "body-count": "0", "questions-count": "0", "contract_return_days": "14", "interview_required": "on",
        "application_sections-TOTAL_FORMS": "0", "application_sections-INITIAL_FORMS": "0",
        "application_sections-MIN_NUM_FORMS": "0", "application_sections-MAX_NUM_FORMS": "1000",
        "fee_schedule": str(schedule.pk), "action-publish": "publish",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("who", ["staff", "superuser"])
def test_offer_refuses_another_institutions_schedule(fees, client, who):
    client.force_login(getattr(fees, who))
    index = OfferIndexPage.objects.descendant_of(fees.kita.site.root_page).get()
    add = f"/admin/pages/add/workpro_plugin/offerpage/{index.pk}/"
    response = client.post(add, _offer_data(fees.theirs))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert OTHER_INSTITUTION in " ".join(errors["fee_schedule"])
    assert not OfferPage.objects.filter(slug="neues-angebot").exists()
    for allowed in (fees.mine, fees.shared):
        OfferPage.objects.filter(slug="neues-angebot").delete()
        response = client.post(add, _offer_data(allowed))
        assert response.status_code == 302, response.context["form"].errors if response.context else response
        assert OfferPage.objects.get(slug="neues-angebot").fee_schedule == allowed


def test_editing_an_offer_refuses_another_institutions_schedule(fees, client):
    client.force_login(fees.superuser)
    offer = fees.offer
    edit = f"/admin/pages/{offer.pk}/edit/"
    response = client.post(edit, _offer_data(fees.theirs, title=offer.title, slug=offer.slug))
    assert response.status_code == 200
    assert OTHER_INSTITUTION in " ".join(response.context["form"].errors["fee_schedule"])
    offer.refresh_from_db()
    assert offer.fee_schedule_id is None


def test_the_institution_filter_names_only_own_institutions(fees, client):
    client.force_login(fees.staff)
    url = reverse(f"{SNIPPET}:list")
    response = client.get(url)
    assert response.status_code == 200
    assert set(response.context["filters"].form.fields["institution"].queryset) == {fees.kita}
    options = BeautifulSoup(response.content, "html.parser").select("select[name=institution] option")
    assert {o.get_text(strip=True) for o in options if o.get("value")} == {fees.kita.name}
    assert client.get(f"{url}?institution={fees.kita.pk}").status_code == 200
    assert client.get(f"{url}?institution={fees.other.pk}").status_code == 400  # not a value it offers
    client.force_login(fees.superuser)
    assert set(client.get(url).context["filters"].form.fields["institution"].queryset) == {fees.kita, fees.other}
