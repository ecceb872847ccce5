"""Protokoll (Audit) in the Wagtail admin, and the history view every WorkPro modeladmin uses."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail_modeladmin.options import ModelAdmin
from wagtail_modeladmin.views import HistoryView

from ..models import AuditEvent
from .permissions import ReadOnlyForSuperusers


class AuditEventAdmin(ModelAdmin):
    """Protokoll (Audit): superusers only, read-only; rows go after WORKPRO_AUDIT_RETENTION_DAYS."""

    model = AuditEvent
    menu_label = _("Protokoll (Audit)")
    menu_icon = "history"
    menu_order = 950
    permission_helper_class = ReadOnlyForSuperusers
    inspect_view_enabled = True
    inspect_view_fields = ("at", "action", "actor", "actor_label", "object_type", "object_id", "person", "ip",
                           "detail")
    list_display = ("at", "action", "actor_label", "object_type", "object_id", "person", "ip")
    list_filter = ("action", "at", "object_type")
    search_fields = ("actor_label", "object_id", "ip")
    list_per_page = 100

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("person")


class ScopedHistoryView(HistoryView):
    """Wagtail's modeladmin history checks no permission at all, and its title is the object's
    name (a participant's, a recipient's): only who may inspect or edit the object sees it."""

    def check_action_permitted(self, user):
        helper = self.permission_helper
        return helper.user_can_inspect_obj(user, self.instance) or helper.user_can_edit_obj(user, self.instance)
