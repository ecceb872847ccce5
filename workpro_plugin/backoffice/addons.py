"""Zusatzbuchungen in the Wagtail admin: the list, the inspect view, and the confirm/decline forms.

Bookings are scoped to the user's institutions (404 otherwise); confirming and
declining need "process_enrollment" at the contract's institution (403).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail_modeladmin.options import ModelAdmin
from wagtail_modeladmin.views import InspectView

from ..models import AddonBooking
from ..selectors.institutions import is_staff_anywhere, staff_institutions
from ..services import addons as svc
from ..shared.files import refresh_while_pending
from .forms import AddonConfirmForm, AddonDeclineForm
from .permissions import ReadOnlyPermissionHelper
from .shortcuts import staff_object_or_404

B = AddonBooking.Status


def staff_bookings(user):
    return AddonBooking.objects.filter(enrollment__institution__in=staff_institutions(user)).select_related(
        "addon", "enrollment__participant", "enrollment__institution", "enrollment__offer", "confirmation")


class AddonBookingPermissionHelper(ReadOnlyPermissionHelper):
    """Listed and inspected by the institution's staff; changed only through confirm and decline."""

    def user_can_list(self, user):
        return user.is_superuser or (user.has_perm("workpro_plugin.view_enrollment")
                                     and is_staff_anywhere(user))

    def user_can_inspect_obj(self, user, obj):
        return obj.enrollment.institution.staff_can(user, "view_enrollment")


def may_decide(user, booking: AddonBooking) -> bool:
    return booking.status == B.REQUESTED and booking.enrollment.institution.staff_can(user, "process_enrollment")


class AddonBookingInspectView(InspectView):
    def get(self, request, *args, **kwargs):
        # re-checked every few seconds while its Buchungsbestätigung is being rendered
        return refresh_while_pending(super().get(request, *args, **kwargs), [
            self.instance.confirmation] if self.instance.confirmation_id else [])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        booking = self.instance
        context.update(may_decide=may_decide(self.request.user, booking),
                       enrollment_url=reverse("workpro_plugin_enrollment_modeladmin_inspect",
                                              args=[booking.enrollment_id]))
        return context


class AddonBookingAdmin(ModelAdmin):
    model = AddonBooking
    menu_label = gettext_lazy("Zusatzbuchungen")
    menu_icon = "date"
    menu_order = 150
    permission_helper_class = AddonBookingPermissionHelper
    inspect_view_enabled = True
    inspect_view_class = AddonBookingInspectView
    inspect_template_name = "workpro_plugin/admin/addon_booking_inspect.html"
    list_display = ("addon", "contract_number", "participant_name", "period", "status_label", "cost_label",
                    "booked_at")
    list_filter = ("status",)
    search_fields = ("addon__title", "enrollment__contract_number", "enrollment__participant__last_name",
                     "enrollment__participant__first_name")
    ordering = ("-booked_at",)

    def get_queryset(self, request):
        return staff_bookings(request.user)

    def contract_number(self, obj):
        return obj.enrollment.contract_number or "–"
    contract_number.short_description = gettext_lazy("Vertragsnummer")

    def participant_name(self, obj):
        return obj.enrollment.participant.full_name if obj.enrollment.participant_id else "–"
    participant_name.short_description = gettext_lazy("Teilnehmer")

    def period(self, obj):
        return f"{obj.starts_on:%d.%m.%Y} – {obj.ends_on:%d.%m.%Y}"
    period.short_description = gettext_lazy("Zeitraum")
    period.admin_order_field = "starts_on"

    def status_label(self, obj):
        return obj.get_status_display()
    status_label.short_description = gettext_lazy("Status")
    status_label.admin_order_field = "status"

    def cost_label(self, obj):
        if obj.cost is None:
            return "–"
        return f"{number_format(obj.cost, 2, force_grouping=True)} € {obj.billing_period_label}".strip()
    cost_label.short_description = gettext_lazy("Kosten")


# --- confirm / decline ------------------------------------------------------------------------

def inspect_url(booking: AddonBooking) -> str:
    return reverse("workpro_plugin_addonbooking_modeladmin_inspect", args=[booking.pk])


def _decision(request, pk: int, *, form_class, label, initial, run, button_class):
    booking = staff_object_or_404(staff_bookings(request.user), pk)
    if not booking.enrollment.institution.staff_can(request.user, "process_enrollment"):
        raise PermissionDenied
    form = form_class(request.POST if request.method == "POST" else None, initial=initial(booking))
    if request.method == "POST" and form.is_valid():
        try:
            run(booking, request.user, form.cleaned_data)
        except svc.AddonError as exc:
            exc.add_to(form)
        else:
            messages.success(request, _("%(action)s: erledigt für %(booking)s.") % {"action": label,
                                                                                   "booking": booking})
            return redirect(inspect_url(booking))
    context = {"booking": booking, "form": form, "label": label, "button_class": button_class,
               "inspect_url": inspect_url(booking), "header_title": f"{label}: {booking}",
               "fee": svc.addon_fee(booking.enrollment, booking.addon)}
    return TemplateResponse(request, "workpro_plugin/admin/addon_booking_action.html", context,
                            status=400 if form.errors else 200)


def addon_confirm(request, pk: int):
    return _decision(
        request, pk, form_class=AddonConfirmForm, label=_("Bestätigen"), button_class="button button-primary",
        initial=lambda b: {"cost": b.cost},
        run=lambda b, u, d: svc.addon_confirm(booking=b, by=u, cost=d["cost"], cost_reason=d["cost_reason"]))


def addon_decline(request, pk: int):
    return _decision(
        request, pk, form_class=AddonDeclineForm, label=_("Ablehnen"), button_class="button button-secondary no",
        initial=lambda b: {}, run=lambda b, u, d: svc.addon_decline(booking=b, by=u, reason=d["reason"]))


admin_urls = [
    path("zusatzbuchung/<int:pk>/bestaetigen/", addon_confirm, name="addon_confirm"),
    path("zusatzbuchung/<int:pk>/ablehnen/", addon_decline, name="addon_decline"),
]
