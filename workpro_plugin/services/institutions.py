"""Staff groups of an institution: Sachbearbeitung and Leitung, scoped to its page tree; and the
operator's group ("Träger …"), whose members lead every institution of the operator."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission

from ..models import Institution, Operator

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


def _grant_tree(group: Group, institution: Institution, collection: Collection | None) -> None:
    """Page rights on the institution's homepage (and so its whole tree), media rights on its collection."""
    _grant_trees(group, [(institution.site.root_page, collection)])


def _grant_trees(group: Group, trees) -> None:
    """_grant_tree for (homepage, collection or None) pairs in a number of queries that does not grow with
    them: the group's existing rights read once, only missing ones created."""
    page_perms = {codename: _perm("wagtailcore", codename) for codename in PAGE_PERMISSIONS}
    media_perms = [_perm(app_label, codename) for app_label, codename in COLLECTION_PERMISSIONS]
    pages = set(GroupPagePermission.objects.filter(group=group).values_list("page_id", "permission_id"))
    media = set(GroupCollectionPermission.objects.filter(group=group).values_list("collection_id",
                                                                                 "permission_id"))
    for home, collection in trees:
        for permission in page_perms.values():
            if (home.pk, permission.pk) not in pages:
                GroupPagePermission.objects.get_or_create(group=group, page=home, permission=permission)
        for permission in media_perms if collection is not None else ():
            if (collection.pk, permission.pk) not in media:
                GroupCollectionPermission.objects.get_or_create(group=group, collection=collection,
                                                                permission=permission)


def institution_collection(institution: Institution) -> Collection:
    """The institution's media collection: the root collection's child named like the institution
    (created when missing), so its staff's images and documents stay apart from other institutions'."""
    return institution_collections([institution])[institution.pk]


def institution_collections(institutions) -> dict[int, Collection]:
    """institution_collection for several institutions (institution id → collection), the existing ones read
    in one query."""
    root = Collection.get_first_root_node()
    by_name: dict[str, Collection] = {}
    for collection in root.get_children().filter(name__in={i.name for i in institutions}).order_by("path"):
        by_name.setdefault(collection.name, collection)  # the first, as .first() took it
    for institution in institutions:
        if institution.name not in by_name:
            by_name[institution.name] = root.add_child(name=institution.name)
            root.refresh_from_db()  # treebeard counts the root's children on the instance
    return {institution.pk: by_name[institution.name] for institution in institutions}


@transaction.atomic
def institution_set_up(*, institution: Institution) -> Institution:
    """Everything a new institution needs to be worked on in the admin (idempotent): its media
    collection, its Sachbearbeitung and Leitung groups with rights on its pages and collection, and
    its operator's group extended to it. Called for every new Institution (signals.py)."""
    collection = institution_collection(institution)
    ensure_staff_groups(institution, collection=collection)
    ensure_operator_group(institution.operator)
    return institution


@transaction.atomic
def ensure_operator_group(operator: Operator) -> Operator:
    """Create or update the operator's group "Träger …" (idempotent): Leitung rights on every
    institution of the operator, their pages and collections, without being superuser."""
    group = operator.lead_group or Group.objects.get_or_create(name=f"Träger {operator.name}")[0]
    group.permissions.add(_perm("wagtailadmin", "access_admin"),
                          *[_perm("workpro_plugin", codename) for codename in ROLE_PERMISSIONS["lead"]])
    # Each call checks every institution of the operator (a repair, not only the newest one), in a number of
    # queries that does not grow with them: one query per institution made creating the 400th KiTa of a
    # Träger take seconds, and setting up 400 (bench_admin) an hour.
    institutions = list(operator.institutions.select_related("site__root_page"))
    collections = institution_collections(institutions)
    _grant_trees(group, [(i.site.root_page, collections[i.pk]) for i in institutions])
    if operator.lead_group_id != group.pk:
        operator.lead_group = group
        operator.save(update_fields=["lead_group"])
    return operator


@transaction.atomic
def ensure_staff_groups(institution: Institution, *, collection: Collection | None = None) -> Institution:
    """Create or update the Sachbearbeitung and Leitung groups (idempotent).

    Both may use the Wagtail admin and edit the institution's pages; their
    enrollment permissions differ (only Leitung signs offers and ratifies).
    """
    for role, label, field in (("staff", "Sachbearbeitung", "staff_group"), ("lead", "Leitung", "lead_group")):
        group = getattr(institution, field) or Group.objects.get_or_create(name=f"{label} {institution.name}")[0]
        group.permissions.add(_perm("wagtailadmin", "access_admin"),
                              *[_perm("workpro_plugin", codename) for codename in ROLE_PERMISSIONS[role]])
        _grant_tree(group, institution, collection)
        setattr(institution, field, group)
    institution.save(update_fields=["staff_group", "lead_group"])
    return institution


# --- page permissions that reach more than one institution ------------------------------------

def _institution_roots() -> list[tuple[int, str, str]]:
    """(id, name, tree path of the site's root page) of every institution."""
    return list(Institution.objects.filter(site__isnull=False).order_by("name")
                .values_list("pk", "name", "site__root_page__path"))


def _operator_group_names() -> dict[int, set[str]]:
    """Operator group id → names of that operator's institutions (the ones its rights may reach)."""
    names: dict[int, set[str]] = {}
    for group_id, name in Institution.objects.filter(operator__lead_group__isnull=False).values_list(
            "operator__lead_group", "name"):
        names.setdefault(group_id, set()).add(name)
    return names


def institutions_reached(page_paths, roots=None) -> list[str]:
    """Names of the institutions whose pages a permission on these pages reaches: a page inside an
    institution's tree reaches that one, a page above institutions' homepages (the tree root) all below."""
    roots = _institution_roots() if roots is None else roots
    return [name for _pk, name, root in roots
            if any(root.startswith(path) or path.startswith(root) for path in page_paths)]


def groups_spanning_institutions() -> list[tuple[Group, list[str]]]:
    """Groups whose page permissions reach pages of more than one institution: a member could edit or
    publish another institution's offers. Each institution's own groups reach only its homepage, an
    operator's group ("Träger …") the homepages of its own institutions."""
    roots = _institution_roots()
    if len(roots) < 2:
        return []
    paths: dict[int, set[str]] = {}
    for group_id, path in GroupPagePermission.objects.values_list("group_id", "page__path"):
        paths.setdefault(group_id, set()).add(path)
    spanning, operators = [], _operator_group_names()
    for group in Group.objects.filter(pk__in=paths).order_by("name"):
        reached = institutions_reached(paths[group.pk], roots)
        if len(reached) > 1 and not set(reached) <= operators.get(group.pk, set()):
            spanning.append((group, reached))
    return spanning


# Wagtail's migrations create these two groups with rights on the root page (every site below it)
# and the root collection.
WAGTAIL_DEFAULT_GROUPS = ("Editors", "Moderators")


@transaction.atomic
def revoke_default_group_rights(names=WAGTAIL_DEFAULT_GROUPS) -> int:
    """Take the page rights and the root collection's rights from Wagtail's default groups: in an
    installation with several institutions they reach all of them. The groups stay (the default
    workflow's approval task names the moderators); staff get their institution's own groups."""
    groups = Group.objects.filter(name__in=names)
    removed, _ = GroupPagePermission.objects.filter(group__in=groups).delete()
    root = Collection.get_first_root_node()
    if root is not None:
        removed += GroupCollectionPermission.objects.filter(group__in=groups, collection=root).delete()[0]
    return removed
