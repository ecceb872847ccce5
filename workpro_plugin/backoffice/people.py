"""Kunden/Teilnehmer in the Wagtail admin: the people of the user's institutions, read-only."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail_modeladmin.options import ModelAdmin
from wagtail_modeladmin.views import InspectView

from ..access import is_chat_staff
from ..models import Person
from ..selectors.institutions import is_staff_anywhere
from ..selectors.people import person_institutions, staff_people
from ..services import audit
from ..services.privacy import consents_for, privacy_log_for, staff_may_export
from .permissions import ReadOnlyPermissionHelper


class PersonPermissionHelper(ReadOnlyPermissionHelper):
    def user_can_list(self, user):
        return user.is_superuser or (user.has_perm("workpro_plugin.view_person") and is_staff_anywhere(user))

    def user_can_inspect_obj(self, user, obj):
        return user.is_superuser or PersonAdmin.scoped(user).filter(pk=obj.pk).exists()


class PersonInspectView(InspectView):
    def get_context_data(self, **kwargs):
        audit.record(audit.A.PERSON_VIEWED, request=self.request, obj=self.instance, person=self.instance)
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(may_export=staff_may_export(user, self.instance),
                       consents=consents_for(user, self.instance),
                       privacy_log=privacy_log_for(user, self.instance),
                       may_help=any(is_chat_staff(user, i) for i in person_institutions(self.instance)))
        return context


class PersonAdmin(ModelAdmin):
    model = Person
    menu_label = _("Kunden/Teilnehmer")
    menu_icon = "user"
    permission_helper_class = PersonPermissionHelper
    inspect_view_enabled = True
    inspect_view_class = PersonInspectView
    inspect_template_name = "workpro_plugin/admin/person_inspect.html"
    inspect_view_fields = ("last_name", "first_name", "date_of_birth", "customer_number", "email", "mobile",
                           "street", "postcode", "city", "language", "anonymised_at")
    list_display = ("last_name", "first_name", "customer_number", "date_of_birth", "email")
    search_fields = ("last_name", "first_name", "customer_number", "email")

    @staticmethod
    def scoped(user):
        return staff_people(user)

    def get_queryset(self, request):
        return self.scoped(request.user)
