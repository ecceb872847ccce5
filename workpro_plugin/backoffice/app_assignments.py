"""Anwendungen in the Wagtail admin: apps of the user's institutions, their assignments and acceptances.

Staff see the apps of their institutions; those who process enrollments there
create, edit, assign and revoke them. Foreign ids are a 404, missing rights a 403.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.panels import ObjectList
from wagtail_modeladmin.helpers import PermissionHelper
from wagtail_modeladmin.options import ModelAdmin
from wagtail_modeladmin.views import InspectView

from ..lib.users import remembered
from ..models import App, AppAssignment, OfferPage, Person
from ..services import apps as svc
from . import helpers as admin_helpers
from .forms import AppForm, ModelChoiceField
from .shortcuts import staff_object_or_404


class AppPermissionHelper(PermissionHelper):
    def user_can_list(self, user):
        return remembered(user, "apps_listable", lambda: svc.manageable_institutions(user).exists()
                          or svc.staff_apps(user).exists())

    def user_can_create(self, user):
        return svc.manageable_institutions(user).exists()

    def user_can_inspect_obj(self, user, obj):
        return obj.institution.is_staff_member(user)

    def user_can_edit_obj(self, user, obj):
        return svc.may_manage(user, obj)

    def user_can_delete_obj(self, user, obj):
        return False  # acceptances are evidence: deactivate instead

    def user_can_copy_obj(self, user, obj):
        return False


class AppInspectView(InspectView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        app = self.instance
        context.update(
            may_manage=svc.may_manage(self.request.user, app),
            assignments=app.assignments.select_related("participant", "offer", "assigned_by", "revoked_by"),
            acceptances=app.acceptances.select_related("person", "accepted_by"),
        )
        return context


class AppAdmin(ModelAdmin):
    model = App
    menu_label = gettext_lazy("Anwendungen")
    menu_icon = "pick"
    menu_order = 160
    permission_helper_class = AppPermissionHelper
    create_view_class = admin_helpers.CreateView
    edit_view_class = admin_helpers.EditView
    inspect_view_enabled = True
    inspect_view_class = AppInspectView
    inspect_template_name = "workpro_plugin/admin/app_inspect.html"
    edit_handler = ObjectList(App.panels, base_form_class=AppForm)
    list_display = ("name", "institution", "launch_url", "active_label", "assignment_count")
    list_filter = (("institution", RelatedOnlyFieldListFilter), "is_active")
    search_fields = ("name", "description")

    def get_queryset(self, request):
        return svc.staff_apps(request.user).annotate(
            active_assignments=Count("assignments", filter=Q(assignments__revoked_at__isnull=True)))

    def active_label(self, obj):
        return _("ja") if obj.is_active else _("nein")
    active_label.short_description = gettext_lazy("aktiv")

    def assignment_count(self, obj):
        return getattr(obj, "active_assignments", 0)
    assignment_count.short_description = gettext_lazy("Zuweisungen")


# --- assign / revoke --------------------------------------------------------------------------

class AssignForm(forms.Form):
    offer = ModelChoiceField(
        label=gettext_lazy("Angebot"), queryset=OfferPage.objects.none(), required=False,
        help_text=gettext_lazy("Alle Teilnehmer mit angenommenem oder ratifiziertem Vertrag für dieses Angebot."))
    participant = ModelChoiceField(label=gettext_lazy("oder ein Teilnehmer"), queryset=Person.objects.none(),
                                   required=False)

    def __init__(self, *args, app: App, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["offer"].queryset = svc.assignable_offers(app)
        self.fields["participant"].queryset = svc.assignable_participants(app)
        self.fields["participant"].label_from_instance = lambda p: (
            f"{p.last_name}, {p.first_name}" + (f" ({p.customer_number})" if p.customer_number else ""))

    def clean(self):
        cleaned = super().clean()
        if not self.errors and (cleaned.get("offer") is None) == (cleaned.get("participant") is None):
            raise forms.ValidationError(_("Bitte wählen Sie entweder ein Angebot oder einen Teilnehmer."))
        return cleaned


class RevokeForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Grund (optional)"), required=False, max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 3}))


def _staff_app(request, pk: int) -> App:
    """An app of the user's institutions (else 404) the user manages (else 403)."""
    app = staff_object_or_404(svc.staff_apps(request.user).select_related("institution__site"), pk)
    if not svc.may_manage(request.user, app):
        raise PermissionDenied
    return app


def inspect_url(app: App) -> str:
    return reverse("workpro_plugin_app_modeladmin_inspect", args=[app.pk])


def _render(request, *, app, form, title, button, button_class, assignment=None):
    return TemplateResponse(request, "workpro_plugin/admin/app_action.html", {
        "app": app, "form": form, "header_title": title, "button": button, "button_class": button_class,
        "assignment": assignment, "inspect_url": inspect_url(app),
    }, status=400 if form.errors else 200)


def app_assign(request, pk: int):
    app = _staff_app(request, pk)
    form = AssignForm(request.POST if request.method == "POST" else None, app=app)
    if request.method == "POST" and form.is_valid():
        try:
            assignment = svc.app_assign(app=app, by=request.user, offer=form.cleaned_data["offer"],
                                        participant=form.cleaned_data["participant"])
        except svc.AppError as exc:
            exc.add_to(form)
        else:
            messages.success(request, _("„%(app)s“ ist zugewiesen: %(target)s.")
                             % {"app": app.name, "target": assignment.target_label})
            return redirect(inspect_url(app))
    return _render(request, app=app, form=form, title=_("Zuweisen: %(app)s") % {"app": app.name},
                   button=_("Zuweisen"), button_class="button button-primary")


def app_revoke(request, pk: int):
    assignments = AppAssignment.objects.filter(app__in=svc.staff_apps(request.user)).select_related(
        "app__institution", "offer", "participant")
    assignment = staff_object_or_404(assignments, pk)
    app = _staff_app(request, assignment.app_id)
    form = RevokeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            svc.app_revoke(assignment=assignment, by=request.user, reason=form.cleaned_data["reason"])
        except svc.AppError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Die Zuweisung von „%(app)s“ wurde entzogen: %(target)s.")
                             % {"app": app.name, "target": assignment.target_label})
            return redirect(inspect_url(app))
    return _render(request, app=app, form=form, assignment=assignment,
                   title=_("Entziehen: %(app)s") % {"app": app.name}, button=_("Entziehen"),
                   button_class="button button-secondary no")


admin_urls = [
    path("anwendung/<int:pk>/zuweisen/", app_assign, name="app_assign"),
    path("zuweisung/<int:pk>/entziehen/", app_revoke, name="app_revoke"),
]
