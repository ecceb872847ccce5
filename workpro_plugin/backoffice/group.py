"""The "WorkPro" menu group of the Wagtail admin: every WorkPro modeladmin, hardened the same way."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.menu import MenuItem
from wagtail.utils.urlpatterns import decorate_urlpatterns
from wagtail_modeladmin.options import ModelAdminGroup

from ..lib.users import remembered
from ..selectors.institutions import is_staff_anywhere
from ..selectors.texts import text_institutions
from ..shared.audit import audit_denials
from .addons import AddonBookingAdmin
from .allocation import CriterionAdmin
from .app_assignments import AppAdmin
from .audit import AuditEventAdmin, ScopedHistoryView
from .canned_replies import CannedReplyAdmin
from .enrollments import EnrollmentAdmin
from .export import with_safe_export
from .helpers import declared_params_only
from .institutions import InstitutionAdmin, OperatorAdmin
from .offer_taxonomy import AgeGroupAdmin, OfferCategoryAdmin
from .outbox import OutboxAdmin
from .people import PersonAdmin


class StaffMenuItem(MenuItem):
    """Shown to staff of at least one institution (the page behind it is a 404 for anyone else)."""

    def is_shown(self, request):
        return is_staff_anywhere(request.user)


class TextsMenuItem(MenuItem):
    """Shown to those who edit the texts of at least one institution (Leitung, or "edit_texts")."""

    def is_shown(self, request):
        return remembered(request.user, "texts_anywhere", lambda: text_institutions(request.user).exists())


class WorkProAdminGroup(ModelAdminGroup):
    menu_label = _("WorkPro")
    menu_icon = "clipboard-list"
    menu_order = 200
    items = (EnrollmentAdmin, PersonAdmin, InstitutionAdmin, OperatorAdmin, OutboxAdmin,
             AddonBookingAdmin, AppAdmin, CannedReplyAdmin, CriterionAdmin, OfferCategoryAdmin, AgeGroupAdmin,
             AuditEventAdmin)

    def get_admin_urls_for_registration(self):
        return decorate_urlpatterns(list(super().get_admin_urls_for_registration()), audit_denials)

    def get_submenu_items(self):
        items = super().get_submenu_items()
        items.append(StaffMenuItem(_("Platzvergabe"), reverse("workpro_admin:allocation_index"), icon_name="list-ol",
                              order=110))
        items.append(TextsMenuItem(_("Mail- und SMS-Texte"), reverse("workpro_admin:texts_index"), icon_name="mail",
                                   order=175))
        items.append(MenuItem(_("Gebührenordnungen"), reverse("wagtailsnippets_workpro_plugin_feeschedule:list"),
                              icon_name="table", order=900))
        return items


for _model_admin in WorkProAdminGroup.items:  # every WorkPro model, also those added later
    _model_admin.history_view_class = ScopedHistoryView
    _model_admin.index_view_class = with_safe_export(_model_admin.index_view_class)  # no formulas in exports
    _model_admin.index_view_class = declared_params_only(_model_admin.index_view_class)
