"""System checks that read the database (run by `manage.py check --database default` and by `migrate`)."""

from __future__ import annotations

from django.core import checks
from django.db import DatabaseError

from .services.institutions import groups_spanning_institutions


@checks.register(checks.Tags.security, checks.Tags.database)
def check_group_page_permissions(app_configs=None, databases=None, **kwargs):
    """A group whose page permissions reach several institutions lets its members edit and publish
    another institution's offers (Wagtail's default Editors and Moderators have rights on the root)."""
    if not databases or "default" not in databases:
        return []
    try:
        spanning = groups_spanning_institutions()
    except DatabaseError:  # not migrated yet (migrate runs the checks first)
        return []
    return [checks.Warning(
        f"The group {group.name!r} has page permissions on pages of several institutions "
        f"({', '.join(names)}): its members may edit and publish the offers of all of them.",
        hint="Give each institution's staff its own groups (WorkPro creates \"Sachbearbeitung …\" and "
             "\"Leitung …\" with rights on the institution's homepage only) and remove this group's page "
             "permissions above or across institutions' homepages (Settings → Groups). Wagtail's default "
             "Editors and Moderators have rights on the root page.",
        obj=group, id="workpro.W010") for group, names in spanning]
