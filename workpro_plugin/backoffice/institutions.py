"""Einrichtungen and Träger in the Wagtail admin."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail_modeladmin.options import ModelAdmin

from ..models import Institution, Operator


class InstitutionAdmin(ModelAdmin):
    model = Institution
    menu_label = _("Einrichtungen")
    menu_icon = "home"
    list_display = ("name", "kind", "site", "city", "staff_group", "lead_group")
    list_select_related = ("site", "staff_group", "lead_group")  # one query for the page, not three per row
    list_filter = ("kind", "operator")
    search_fields = ("name", "city", "email")


class OperatorAdmin(ModelAdmin):
    model = Operator
    menu_label = _("Träger")
    menu_icon = "group"
    list_display = ("name", "city", "email")
    search_fields = ("name",)
