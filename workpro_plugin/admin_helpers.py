"""Shared pieces of the WorkPro modeladmin classes."""

from __future__ import annotations

from wagtail_modeladmin import views as modeladmin_views
from wagtail_modeladmin.helpers import PermissionHelper


class ReadOnlyPermissionHelper(PermissionHelper):
    """Rows that change only through services: listed and inspected, never edited here."""

    def user_can_create(self, user):
        return False

    def user_can_edit_obj(self, user, obj):
        return False

    def user_can_delete_obj(self, user, obj):
        return False


class RefusedIs400:
    """A modeladmin create/edit form with errors answers 400 (Wagtail answers 200), like WorkPro's own forms:
    clients and tests can tell a refusal from a page that was merely shown."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class CreateView(RefusedIs400, modeladmin_views.CreateView):
    pass


class EditView(RefusedIs400, modeladmin_views.EditView):
    pass
