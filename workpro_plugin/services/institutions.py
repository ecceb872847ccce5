"""Staff groups of an institution: Sachbearbeitung and Leitung, scoped to its page tree."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission

from ..models import Institution

PAGE_PERMISSIONS = ("add_page", "change_page", "publish_page")
COLLECTION_PERMISSIONS = (
    ("wagtailimages", "add_image"), ("wagtailimages", "change_image"), ("wagtailimages", "choose_image"),
    ("wagtaildocs", "add_document"), ("wagtaildocs", "change_document"), ("wagtaildocs", "choose_document"),
)
ROLE_PERMISSIONS = {
    "staff": ("view_enrollment", "process_enrollment", "view_person"),
    "lead": ("view_enrollment", "process_enrollment", "sign_enrollment", "view_person"),
}


def _perm(app_label: str, codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


@transaction.atomic
def ensure_staff_groups(institution: Institution, *, collection: Collection | None = None) -> Institution:
    """Create or update the Sachbearbeitung and Leitung groups (idempotent).

    Both may use the Wagtail admin and edit the institution's pages; their
    enrollment permissions differ (only Leitung signs offers and ratifies).
    """
    home = institution.site.root_page
    for role, label, field in (("staff", "Sachbearbeitung", "staff_group"), ("lead", "Leitung", "lead_group")):
        group = getattr(institution, field) or Group.objects.get_or_create(name=f"{label} {institution.name}")[0]
        group.permissions.add(_perm("wagtailadmin", "access_admin"),
                              *[_perm("workpro_plugin", codename) for codename in ROLE_PERMISSIONS[role]])
        for codename in PAGE_PERMISSIONS:
            GroupPagePermission.objects.get_or_create(group=group, page=home, permission=_perm("wagtailcore", codename))
        if collection is not None:
            for app_label, codename in COLLECTION_PERMISSIONS:
                GroupCollectionPermission.objects.get_or_create(group=group, collection=collection,
                                                                permission=_perm(app_label, codename))
        setattr(institution, field, group)
    institution.save(update_fields=["staff_group", "lead_group"])
    return institution
