"""Textbausteine in the Wagtail admin: the canned replies of the institutions whose messages the user answers.

Sachbearbeitung and Leitung (is_chat_staff) list, create, edit and delete their institutions'
Textbausteine. Another institution's Textbaustein does not exist for them (404), also in the
views Wagtail's modeladmin looks up by id alone.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.panels import ObjectList
from wagtail_modeladmin.options import ModelAdmin

from ..access import is_chat_staff
from ..models import CannedReply
from ..selectors.chat import chat_staff_institutions, staff_canned_replies
from . import helpers as admin_helpers
from .forms import CannedReplyForm


class CannedReplyPermissionHelper(admin_helpers.InstitutionRowsPermissionHelper):
    def institutions(self, user):
        return chat_staff_institutions(user)

    def may_change(self, user, obj):
        return is_chat_staff(user, obj.institution)  # sent messages keep their text: nothing depends on it


class CannedReplyAdmin(admin_helpers.InstitutionRowsAdmin, ModelAdmin):
    model = CannedReply
    menu_label = gettext_lazy("Textbausteine")
    menu_icon = "doc-full"
    menu_order = 170
    permission_helper_class = CannedReplyPermissionHelper
    edit_handler = ObjectList(CannedReply.panels, base_form_class=CannedReplyForm)
    list_display = ("title", "institution", "offer_label", "active_label")
    list_filter = ("is_active",)
    search_fields = ("title", "body")

    def get_queryset(self, request):
        return staff_canned_replies(request.user)

    def offer_label(self, obj):
        return obj.offer.title if obj.offer_id else _("alle Angebote")
    offer_label.short_description = gettext_lazy("Angebot")
    offer_label.admin_order_field = "offer__title"

    def active_label(self, obj):
        return _("ja") if obj.is_active else _("nein")
    active_label.short_description = gettext_lazy("aktiv")
    active_label.admin_order_field = "is_active"
