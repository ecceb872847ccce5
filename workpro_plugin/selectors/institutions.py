"""Institutions a staff member works for, and the colleagues they may manage."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q

from ..lib.users import remembered
from ..models import Institution, Operator


def staff_institutions(user):
    """The institutions whose enrollments `user` processes (all for superusers): those whose
    Sachbearbeitung or Leitung they belong to, and every institution of an operator whose
    "Träger …" group they belong to."""
    if user is None or not user.is_authenticated:
        return Institution.objects.none()
    if user.is_superuser:
        return Institution.objects.all()
    groups = user.groups.all()
    return Institution.objects.filter(
        Q(staff_group__in=groups) | Q(lead_group__in=groups) | Q(operator__lead_group__in=groups)).distinct()


def is_staff_anywhere(user) -> bool:
    """Whether staff_institutions(user) has any institution, asked once per request (lib.users.remembered)."""
    if user is None or not user.is_authenticated:
        return False
    return user.is_superuser or remembered(user, "staff_anywhere", lambda: staff_institutions(user).exists())


def staff_institutions_led_or_with(user, permission: str):
    """The institutions `user` is staff of and leads (their Leitung group or their operator's group) or holds
    `permission` for ("workpro_plugin.<codename>"); all for superusers. access.is_chat_staff and
    access.may_edit_texts decide so for one institution; this is the same rule for all of them in one query,
    instead of reading every institution of a Träger and checking each."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Institution.objects.none()
    institutions = staff_institutions(user)
    if user.is_superuser or user.has_perm(permission):
        return institutions
    groups = user.groups.all()
    return institutions.filter(Q(lead_group__in=groups) | Q(operator__lead_group__in=groups))


def two_factor_colleagues(user):
    """Accounts `user` may send a 2FA enrolment link to (it goes to their own address): the Sachbearbeitung
    and Leitung of the institutions `user` leads; for superusers everyone with access to the admin."""
    User = get_user_model()
    if user is None or not user.is_authenticated or not user.is_active:
        return User.objects.none()
    if user.is_superuser:
        admin_access = Q(codename="access_admin", content_type__app_label="wagtailadmin")
        return User.objects.filter(
            Q(is_superuser=True) | Q(groups__permissions__in=Permission.objects.filter(admin_access))
            | Q(user_permissions__in=Permission.objects.filter(admin_access)), is_active=True).distinct()
    groups = user.groups.all()
    led = Institution.objects.filter(Q(lead_group__in=groups) | Q(operator__lead_group__in=groups))
    # The institutions' own groups, and the operator group only for its own members: an
    # institution's Leitung does not manage the operator's people.
    group_ids = {pk for institution in led for pk in (institution.staff_group_id, institution.lead_group_id)}
    group_ids |= set(Operator.objects.filter(lead_group__in=groups).values_list("lead_group_id", flat=True))
    group_ids.discard(None)
    return User.objects.filter(is_active=True, groups__in=group_ids).distinct()
