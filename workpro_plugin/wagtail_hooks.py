"""Admin wiring only: menu items, modeladmin registration, admin URLs."""

from django.utils.translation import gettext_lazy as _
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet
from wagtail_modeladmin.options import ModelAdmin, ModelAdminGroup, modeladmin_register

from .models import FeeSchedule, Institution, Operator


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


class WorkProAdminGroup(ModelAdminGroup):
    menu_label = _("WorkPro")
    menu_icon = "clipboard-list"
    menu_order = 200
    items = (InstitutionAdmin, OperatorAdmin)


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
