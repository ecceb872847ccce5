"""Portal views of the add-on bookings ("Zusatzangebote") of a contract."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ...access import PortalRole
from ...models import AddonBooking, Enrollment
from ...selectors.enrollments import portal_enrollments
from ...services import addons as svc
from ...shared.files import refresh_while_pending
from ..forms.addons import AddonBookingForm
from ..shortcuts import LOGIN_URL, enrollment_or_404


@login_required(login_url=LOGIN_URL)
def enrollment_addons(request, pk: int):
    """Zusatzangebote: the add-ons of the contract's offer and the bookings made; booking is for the holder."""
    enrollment, role = enrollment_or_404(request, pk)
    bookings = list(svc.bookings_of(enrollment))
    return refresh_while_pending(render(request, "workpro_plugin/account/addons.html", {
        "enrollment": enrollment,
        "may_book": svc.may_book(request.user, enrollment),
        "is_holder": role == PortalRole.HOLDER,
        "choices": svc.addon_choices(enrollment) if enrollment.status == Enrollment.Status.RATIFIZIERT else [],
        "bookings": bookings,
    }), [booking.confirmation for booking in bookings if booking.confirmation_id])


def _initial_period(addon) -> dict:
    today = timezone.localdate()
    start = addon.starts_on if addon.starts_on and addon.starts_on >= today else None
    return {"starts_on": start, "ends_on": addon.ends_on if start else None}


@login_required(login_url=LOGIN_URL)
def addon_book(request, pk: int, addon_id: int):
    enrollment, role = enrollment_or_404(request, pk)
    if role != PortalRole.HOLDER:
        raise PermissionDenied
    if not svc.may_book(request.user, enrollment):
        messages.error(request, _("Zusatzangebote können nur zu einem ratifizierten Vertrag gebucht werden."))
        return redirect("workpro:enrollment_addons", pk=pk)
    addon = get_object_or_404(svc.bookable_addons(enrollment), pk=addon_id)
    choice = next(c for c in svc.addon_choices(enrollment) if c.addon.pk == addon.pk)
    form = AddonBookingForm(request.POST if request.method == "POST" else None, initial=_initial_period(addon))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            booking = svc.addon_book(enrollment=enrollment, addon=addon, by=request.user, starts_on=data["starts_on"],
                                     ends_on=data["ends_on"], consent=data["consent"], note=data["note"])
        except svc.AddonError as exc:
            exc.add_to(form)
        else:
            messages.success(request, _("„%(addon)s“ ist angefragt. Die Einrichtung bestätigt die Buchung; Sie "
                                        "erhalten dann eine Buchungsbestätigung.") % {"addon": booking.addon.title})
            return redirect("workpro:enrollment_addons", pk=pk)
    return render(request, "workpro_plugin/account/addon_book.html", {
        "enrollment": enrollment, "choice": choice, "addon": addon, "form": form,
    }, status=400 if form.errors else 200)


@login_required(login_url=LOGIN_URL)
@require_POST
def addon_cancel(request, pk: int):
    """Buchung zurückziehen, while staff have not decided yet."""
    booking = get_object_or_404(AddonBooking.objects.filter(enrollment__in=portal_enrollments(request.user)), pk=pk)
    enrollment, role = enrollment_or_404(request, booking.enrollment_id)
    if role != PortalRole.HOLDER:
        raise PermissionDenied
    try:
        svc.addon_cancel(booking=booking, by=request.user)
    except svc.AddonError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Die Buchung wurde zurückgezogen."))
    return redirect("workpro:enrollment_addons", pk=enrollment.pk)
