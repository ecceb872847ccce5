"""Gebührenordnungen in the Wagtail admin (a snippet), scoped to the user's institutions.

- The chooser (how an offer's editor picks its schedule) lists the schedules of the user's
  institutions and the shared ones (no institution); an admin user without an institution
  sees none. Superusers see all.
- The snippet views (list, edit, delete, copy, usage, history, ...) need Django's model
  permissions as before, and show only the schedules of the user's institutions: any other
  id in a URL is a 404. A shared schedule applies to every institution: only superusers change it.
- A schedule created or edited by a non-superuser belongs to one of the user's institutions.

Whether an offer may use a schedule (its own institution's or a shared one) is checked by the
offer page form (models/offers.py), for every user.
"""

from __future__ import annotations

from functools import wraps

import django_filters
from django.contrib.admin.utils import unquote
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.panels import ObjectList
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.views import chooser as snippet_chooser
from wagtail.snippets.views import snippets as snippet_views
from wagtail.snippets.views.snippets import SnippetViewSet
from wagtail.utils.urlpatterns import decorate_urlpatterns

from ..models import FeeSchedule, Institution
from ..selectors.fees import choosable_fee_schedules, editable_fee_schedules
from ..selectors.institutions import staff_institutions
from .export import with_safe_export
from .forms import FeeScheduleForm
from .shortcuts import staff_object_or_404


class FeeSchedulePermissionPolicy(ModelPermissionPolicy):
    """Django's model permissions, and for one schedule: it belongs to one of the user's institutions."""

    def user_has_permission_for_instance(self, user, action, instance):
        return self.user_has_any_permission_for_instance(user, [action], instance)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        return (self.user_has_any_permission(user, actions)
                and editable_fee_schedules(user).filter(pk=instance.pk).exists())

    def instances_user_has_any_permission_for(self, user, actions):
        if not self.user_has_any_permission(user, actions):
            return FeeSchedule.objects.none()
        return editable_fee_schedules(user)


register_permission_policy(FeeSchedule, FeeSchedulePermissionPolicy(FeeSchedule))


class ScopedFeeScheduleForm(FeeScheduleForm):
    """A non-superuser files a schedule under one of their institutions, never as a shared one."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        field = self.fields.get("institution")
        if user is not None and not user.is_superuser and field is not None:
            field.queryset = staff_institutions(user)
            field.required = True  # no shared schedule: it would apply to every institution
            field.empty_label = None


class ScopedChooseView(snippet_chooser.ChooseView):
    def get_object_list(self):
        return choosable_fee_schedules(self.request.user)


class ScopedChooseResultsView(snippet_chooser.ChooseResultsView):
    def get_object_list(self):
        return choosable_fee_schedules(self.request.user)


class ScopedChosenView(snippet_chooser.SnippetChosenView):
    def get_object(self, pk):
        return choosable_fee_schedules(self.request.user).get(pk=pk)  # DoesNotExist: a 404


class ScopedChosenMultipleView(snippet_chooser.SnippetChosenMultipleView):
    def get_objects(self, pks):
        return choosable_fee_schedules(self.request.user).filter(pk__in=pks)


class FeeScheduleChooserViewSet(snippet_chooser.SnippetChooserViewSet):
    choose_view_class = ScopedChooseView
    choose_results_view_class = ScopedChooseResultsView
    chosen_view_class = ScopedChosenView
    chosen_multiple_view_class = ScopedChosenMultipleView


def _only_editable(view):
    """Any schedule id in a snippet URL outside the user's institutions is a 404, whatever the view."""
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        pk = kwargs.get("pk")
        if pk is not None:
            staff_object_or_404(editable_fee_schedules(request.user), unquote(str(pk)))
        return view(request, *args, **kwargs)
    return wrapped


def _filter_institutions(request):
    """The institution filter names only the user's institutions (superusers: all)."""
    if request is None:
        return Institution.objects.none()
    if request.user.is_superuser:
        return Institution.objects.all()
    return staff_institutions(request.user)


class FeeScheduleFilterSet(WagtailFilterSet):
    institution = django_filters.ModelChoiceFilter(label=_("Einrichtung"), queryset=_filter_institutions)

    class Meta:
        model = FeeSchedule
        fields = ["billing_period", "institution"]


class FeeScheduleViewSet(SnippetViewSet):
    model = FeeSchedule
    icon = "table"
    menu_label = _("Gebührenordnungen")
    add_to_admin_menu = False
    list_display = ("name", "institution", "billing_period", "maximum_rate")
    filterset_class = FeeScheduleFilterSet
    search_fields = ("name",)
    index_view_class = with_safe_export(snippet_views.IndexView)
    chooser_viewset_class = FeeScheduleChooserViewSet
    edit_handler = ObjectList(FeeSchedule.panels, base_form_class=ScopedFeeScheduleForm)

    def get_queryset(self, request):
        return editable_fee_schedules(request.user)

    def get_urlpatterns(self):
        return decorate_urlpatterns(super().get_urlpatterns(), _only_editable)
