"""Admin wiring only: menu items, modeladmin registration, admin URLs."""

from django.utils.translation import gettext_lazy as _
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet
from wagtail_modeladmin.helpers import PermissionHelper
from wagtail_modeladmin.options import ModelAdmin, ModelAdminGroup, modeladmin_register

from .models import FeeSchedule, Institution, Operator, OutboxMessage


class InstitutionAdmin(ModelAdmin):
    model = Institution
    menu_label = _("Einrichtungen")
    menu_icon = "home"
    list_display = ("name", "kind", "site", "city", "staff_group")
    list_filter = ("kind", "operator")
    search_fields = ("name", "city", "email")


class OperatorAdmin(ModelAdmin):
    model = Operator
    menu_label = _("Träger")
    menu_icon = "group"
    list_display = ("name", "city", "email")
    search_fields = ("name",)


class ReadOnlyForSuperusers(PermissionHelper):
    """The outbox is an operations log: superusers look, nobody edits."""

    def user_can_list(self, user):
        return user.is_superuser

    def user_can_inspect_obj(self, user, obj):
        return user.is_superuser

    def user_can_create(self, user):
        return False

    def user_can_edit_obj(self, user, obj):
        return False

    def user_can_delete_obj(self, user, obj):
        return False


class OutboxAdmin(ModelAdmin):
    model = OutboxMessage
    menu_label = _("Ausgangsnachrichten")
    menu_icon = "mail"
    permission_helper_class = ReadOnlyForSuperusers
    inspect_view_enabled = True
    inspect_view_fields = ("channel", "recipient", "template", "subject", "state", "attempts", "last_error",
                           "created_at", "next_attempt_at", "sent_at", "institution")
    list_display = ("created_at", "channel", "recipient", "template", "state", "attempts")
    list_filter = ("state", "channel", "template")
    search_fields = ("recipient", "template", "subject")


class WorkProAdminGroup(ModelAdminGroup):
    menu_label = _("WorkPro")
    menu_icon = "clipboard-list"
    menu_order = 200
    items = (InstitutionAdmin, OperatorAdmin, OutboxAdmin)


modeladmin_register(WorkProAdminGroup)


class FeeScheduleViewSet(SnippetViewSet):
    model = FeeSchedule
    icon = "table"
    menu_label = _("Gebührenordnungen")
    add_to_admin_menu = False
    list_display = ("name", "institution", "billing_period", "maximum_rate")
    list_filter = ("billing_period", "institution")
    search_fields = ("name",)


register_snippet(FeeScheduleViewSet)
