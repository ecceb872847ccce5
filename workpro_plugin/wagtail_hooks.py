"""Admin wiring only: menu items, modeladmin registration, admin URLs."""

from django.utils.translation import gettext_lazy as _
from wagtail_modeladmin.options import ModelAdmin, ModelAdminGroup, modeladmin_register

from .models import Institution, Operator


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
