"""Groups whose page permissions reach several institutions (#15).

Wagtail's migrations give the default Editors and Moderators groups rights on the root page:
in an installation with two institutions, a member may edit and publish both institutions'
offers. The system check workpro.W010 names every such group; the demo takes those rights
from the default groups, so it starts without the warning.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core import checks
from django.core.management import call_command
from wagtail.models import GroupPagePermission, Page

from tests.security_figures import note
from workpro_plugin.checks import check_group_page_permissions
from workpro_plugin.models import OfferIndexPage
from workpro_plugin.services.institutions import (
    groups_spanning_institutions,
    revoke_default_group_rights,
)

pytestmark = pytest.mark.django_db


def _w010(**kwargs) -> dict[str, checks.CheckMessage]:
    messages = checks.run_checks(databases=["default"], **kwargs)
    return {message.obj.name: message for message in messages if message.id == "workpro.W010"}


def _grant(group, page, codename="change_page"):
    GroupPagePermission.objects.create(group=group, page=page, permission=Permission.objects.get(
        content_type__app_label="wagtailcore", codename=codename))


def test_default_groups_on_the_root_are_warned_about(world):
    """A fresh installation: Wagtail's Editors and Moderators reach both institutions from the root."""
    assert GroupPagePermission.objects.filter(group__name="Editors", page__depth=1).exists()
    warned = _w010()
    assert {"Editors", "Moderators"} <= set(warned)
    message = warned["Editors"]
    assert message.level == checks.WARNING and message.hint and "Kita" in message.msg and "Bbz" in message.msg
    # The institutions' own groups reach only their homepage: no warning.
    for institution in (world.kita, world.other):
        assert institution.staff_group.name not in warned and institution.lead_group.name not in warned


def test_a_group_with_pages_in_two_institutions_is_warned_about(world):
    """Not only the root: one permission below each of two institutions' homepages is enough."""
    group = Group.objects.create(name="Redaktion beider Häuser")
    for institution in (world.kita, world.other):
        _grant(group, OfferIndexPage.objects.descendant_of(institution.site.root_page).get())
    assert "Redaktion beider Häuser" in _w010()
    single = Group.objects.create(name="Redaktion KiTa")
    _grant(single, world.kita.site.root_page)
    _grant(single, OfferIndexPage.objects.descendant_of(world.kita.site.root_page).get(), "publish_page")
    assert "Redaktion KiTa" not in _w010()


def test_no_warning_once_the_default_groups_lose_their_rights(world):
    revoke_default_group_rights()
    assert Group.objects.filter(name__in=["Editors", "Moderators"]).count() == 2  # the groups stay
    assert not GroupPagePermission.objects.filter(group__name__in=["Editors", "Moderators"]).exists()
    assert _w010() == {}
    assert groups_spanning_institutions() == []


def test_one_institution_is_no_reason_to_warn(make_institution):
    make_institution("kita")
    assert GroupPagePermission.objects.filter(group__name="Editors", page=Page.get_first_root_node()).exists()
    assert _w010() == {}


def test_the_check_needs_a_database(world):
    """Like Django's database checks: `manage.py check` without --database does not query."""
    assert check_group_page_permissions(databases=None) == []
    assert len(check_group_page_permissions(databases=["default"])) >= 2


def test_demo_has_no_group_reaching_several_institutions(demo, capsys):
    assert not GroupPagePermission.objects.filter(group__name__in=["Editors", "Moderators"]).exists()
    assert _w010() == {}
    call_command("check", "--database", "default")
    assert "workpro.W010" not in capsys.readouterr().err
    # Staff still edit their own institution's pages (their groups' rights are untouched).
    from django.contrib.auth import get_user_model

    kita_staff = get_user_model().objects.get(username="mitarbeiter@kita-sonnenschein.example")
    kita_index = OfferIndexPage.objects.get(url_path__contains="kita-sonnenschein")
    assert kita_index.permissions_for_user(kita_staff).can_add_subpage()
    note("groups reaching several institutions after the demo", len(_w010()))
