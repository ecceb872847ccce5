"""Admin wiring only: menu items, modeladmin registration, admin URLs."""

from django.utils.translation import gettext_lazy as _
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet
from wagtail_modeladmin.helpers import PermissionHelper
from wagtail_modeladmin.options import ModelAdmin, ModelAdminGroup, modeladmin_register

from .models import Enrollment, FeeSchedule, Institution, Operator, OutboxMessage


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


def staff_institutions(user):
    """The institutions whose enrollments `user` processes (all for superusers)."""
    if user.is_superuser:
        return Institution.objects.all()
    return Institution.objects.filter(staff_group__in=user.groups.all())


class EnrollmentPermissionHelper(ReadOnlyPermissionHelper):
    """Staff see their institution's enrollments; changes only through the transition services."""

    def user_can_list(self, user):
        return user.is_superuser or staff_institutions(user).exists()

    def user_can_inspect_obj(self, user, obj):
        return obj.institution.is_staff_member(user)


class EnrollmentAdmin(ModelAdmin):
    model = Enrollment
    menu_label = _("Anmeldungen")
    menu_icon = "form"
    permission_helper_class = EnrollmentPermissionHelper
    inspect_view_enabled = True
    inspect_template_name = "workpro_plugin/admin/enrollment_inspect.html"
    list_display = ("contract_number", "participant", "offer", "institution", "status", "created_at")
    list_filter = ("status", "institution")
    search_fields = ("contract_number", "participant__last_name", "participant__first_name",
                     "participant__customer_number", "account_holder__email")
    list_select_related = ("participant", "offer", "institution")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(institution__in=staff_institutions(request.user))


class WorkProAdminGroup(ModelAdminGroup):
    menu_label = _("WorkPro")
    menu_icon = "clipboard-list"
    menu_order = 200
    items = (EnrollmentAdmin, InstitutionAdmin, OperatorAdmin, OutboxAdmin)


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
