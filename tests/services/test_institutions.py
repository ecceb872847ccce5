"""Institutions from the admin (#17): a new institution gets its staff groups, collection and rights
without a script; an operator's group ("Träger …") leads all of the operator's institutions."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Page, Site

from home.models import HomePage
from tests.factories import enrollment_in, make_institution, make_offer, make_user
from workpro_plugin.access import is_chat_staff
from workpro_plugin.models import Enrollment, Institution, Operator
from workpro_plugin.selectors.institutions import staff_institutions, two_factor_colleagues
from workpro_plugin.services.institutions import (
    WAGTAIL_DEFAULT_GROUPS,
    groups_spanning_institutions,
)

pytestmark = pytest.mark.django_db
S = Enrollment.Status
LIST = "/admin/workpro_plugin/enrollment/"


def _spanning() -> list:
    """Groups reaching several institutions, apart from Wagtail's default groups (a check of their own)."""
    return [group for group, _names in groups_spanning_institutions() if group.name not in WAGTAIL_DEFAULT_GROUPS]


def _codenames(group) -> set[str]:
    return set(group.permissions.values_list("codename", flat=True))


def _site(slug: str) -> Site:
    home = Page.get_first_root_node().add_child(instance=HomePage(title=slug.title(), slug=slug))
    return Site.objects.create(hostname=f"{slug}.test", port=80, root_page=home)


def _assert_set_up(institution: Institution) -> None:
    institution.refresh_from_db()
    staff, lead = institution.staff_group, institution.lead_group
    assert staff.name == f"Sachbearbeitung {institution.name}"
    assert lead.name == f"Leitung {institution.name}"
    assert _codenames(staff) == {"access_admin", "view_enrollment", "process_enrollment", "view_person"}
    assert _codenames(lead) == {"access_admin", "view_enrollment", "process_enrollment", "sign_enrollment",
                                "view_person"}
    home = institution.site.root_page
    collection = Collection.get_first_root_node().get_children().get(name=institution.name)
    for group in (staff, lead):
        pages = GroupPagePermission.objects.filter(group=group)
        assert {(p.page_id, p.permission.codename) for p in pages} == {
            (home.pk, "add_page"), (home.pk, "change_page"), (home.pk, "publish_page")}
        media = GroupCollectionPermission.objects.filter(group=group)
        assert {m.collection_id for m in media} == {collection.pk}
        assert {m.permission.codename for m in media} == {
            "add_image", "change_image", "choose_image", "add_document", "change_document", "choose_document"}


def test_a_new_institution_gets_its_groups_collection_and_rights():
    operator = Operator.objects.create(name="Neuer Träger e. V.")
    institution = Institution.objects.create(operator=operator, site=_site("neu"), name="Neue KiTa", slug="neu")
    _assert_set_up(institution)
    assert not _spanning()


def test_an_institution_created_in_the_admin_gets_its_groups(admin_client):
    operator = Operator.objects.create(name="Neuer Träger e. V.")
    site = _site("admin-neu")
    response = admin_client.post("/admin/workpro_plugin/institution/create/", {
        "operator": operator.pk, "site": site.pk, "name": "KiTa aus dem Admin", "slug": "admin-neu",
        "kind": "kita", "contract_number_format": "{prefix}-{year}-{number:05d}",
    })
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    _assert_set_up(Institution.objects.get(slug="admin-neu"))


def test_setting_up_twice_changes_nothing():
    institution = make_institution("kita")  # the signal, then the factory's ensure_staff_groups again
    _assert_set_up(institution)
    assert Group.objects.filter(name__endswith=institution.name).count() == 2


# --- the operator's group ---------------------------------------------------------------------

@pytest.fixture
def operators(client):
    a1 = make_institution("a1", operator="Alpha gGmbH")
    a2 = make_institution("a2", operator="Alpha gGmbH")
    b1 = make_institution("b1", operator="Beta e. V.")
    chief = make_user("chef@traeger-a.test", person=False, groups=[a1.operator.lead_group])
    holder = make_user("eltern@example.org")
    enrollments = {i.slug: enrollment_in(S.BEWERBER, offer=make_offer(i, f"Platz {i.slug}"), institution=i,
                                         holder=holder) for i in (a1, a2, b1)}
    return a1, a2, b1, chief, enrollments


def test_an_operator_gets_a_group_with_rights_on_all_of_its_institutions(operators):
    a1, a2, b1, _chief, _ = operators
    group = a1.operator.lead_group
    assert group.name == "Träger Alpha gGmbH"
    assert _codenames(group) == {"access_admin", "view_enrollment", "process_enrollment", "sign_enrollment",
                                 "view_person"}
    homes = set(GroupPagePermission.objects.filter(group=group).values_list("page_id", flat=True))
    assert homes == {a1.site.root_page_id, a2.site.root_page_id}
    assert not _spanning()  # reaching its own institutions is no warning


def test_the_operators_group_leads_its_own_institutions_only(operators):
    a1, a2, b1, chief, _ = operators
    assert set(staff_institutions(chief)) == {a1, a2}
    for own in (a1, a2):
        own.refresh_from_db()
        assert own.is_staff_member(chief)
        assert own.staff_can(chief, "sign_enrollment")
        assert is_chat_staff(chief, own)
    b1.refresh_from_db()
    assert not b1.is_staff_member(chief)
    assert not b1.staff_can(chief, "view_enrollment")
    assert not is_chat_staff(chief, b1)


def test_the_operators_group_sees_its_institutions_enrollments_in_the_admin(operators, client):
    _a1, _a2, _b1, chief, enrollments = operators
    client.force_login(chief)
    listing = client.get(LIST)
    assert listing.status_code == 200
    assert set(listing.context["view"].queryset) == {enrollments["a1"], enrollments["a2"]}
    assert client.get(f"/admin/workpro_plugin/enrollment/inspect/{enrollments['a2'].pk}/").status_code == 200
    assert client.get(f"/admin/workpro_plugin/enrollment/inspect/{enrollments['b1'].pk}/").status_code != 200


def test_an_institutions_lead_does_not_manage_the_operators_people(operators):
    a1, a2, _b1, chief, _ = operators
    lead = make_user("leitung@a1.test", person=False, groups=[a1.lead_group])
    assert chief not in two_factor_colleagues(lead)
    assert lead in two_factor_colleagues(chief)
    assert set(staff_institutions(lead)) == {a1}


def test_an_operator_group_reaching_another_operator_is_still_a_warning(operators, settings):
    a1, _a2, b1, _chief, _ = operators
    GroupPagePermission.objects.create(group=a1.operator.lead_group, page=b1.site.root_page,
                                       permission=GroupPagePermission.objects.filter(
                                           group=a1.operator.lead_group).first().permission)
    assert _spanning() == [a1.operator.lead_group]
    with pytest.raises(SystemCheckError, match="Träger Alpha gGmbH"):
        call_command("check", "--database", "default", "--fail-level", "WARNING")


def test_setting_up_an_institution_does_not_grow_with_the_operators_institutions():
    """Each new institution extends its operator's group over all of the operator's institutions: in a number
    of queries that stays the same for the 2nd and the 8th (one query per institution made setting up a Träger
    with 400 KiTas take an hour)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(slug):
        with CaptureQueriesContext(connection) as captured:
            make_institution(slug, operator="Groß-Träger gGmbH")
        return len(captured)

    queries("g0")
    second = queries("g1")
    for i in range(2, 7):
        make_institution(f"g{i}", operator="Groß-Träger gGmbH")
    assert queries("g7") == second
    group = Operator.objects.get(name="Groß-Träger gGmbH").lead_group
    homes = set(GroupPagePermission.objects.filter(group=group).values_list("page_id", flat=True))
    assert homes == set(Institution.objects.filter(operator__lead_group=group).values_list("site__root_page",
                                                                                           flat=True))
    assert GroupCollectionPermission.objects.filter(group=group).count() == 8 * 6
