"""Permission helpers shared by several WorkPro modeladmin classes."""

from __future__ import annotations

from wagtail_modeladmin.helpers import PermissionHelper


class ReadOnlyPermissionHelper(PermissionHelper):
    """Rows that change only through services: listed and inspected, never edited here."""

    def user_can_create(self, user):
        return False

    def user_can_edit_obj(self, user, obj):
        return False

    def user_can_delete_obj(self, user, obj):
        return False


class ReadOnlyForSuperusers(ReadOnlyPermissionHelper):
    """The outbox is an operations log: superusers look, nobody edits."""

    def user_can_list(self, user):
        return user.is_superuser

    def user_can_inspect_obj(self, user, obj):
        return user.is_superuser
