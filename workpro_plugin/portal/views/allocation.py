"""Platzvergabe in Mein Konto: a child's Wunschliste, and a place offered from the waiting list."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ...selectors.allocation import published_criteria
from ...services import allocation as svc
from ..forms.allocation import WishForm
from ..shortcuts import HOLDER, LOGIN_URL, enrollment_or_404, person_spoken_for_or_404


@login_required(login_url=LOGIN_URL)
def wishlist(request, person_id: int):
    """Wunschliste: the child's applications, ranked 1., 2., 3. Wunsch, until the allocation's Stichtag."""
    child = person_spoken_for_or_404(request, person_id)
    wishes = [e for e in svc.wishes_of(child) if e.account_holder_id == request.user.pk]
    count = len(wishes)
    forms = []
    for position, enrollment in enumerate(wishes, start=1):
        locked_on = svc.wishes_locked_on(enrollment)
        initial = {"rank": position, "desired_start": enrollment.desired_start,
                   "care_hours": enrollment.care_hours}
        form = WishForm(request.POST if request.method == "POST" else None, prefix=f"w{enrollment.pk}",
                        enrollment=enrollment, count=count, locked=bool(locked_on), initial=initial)
        form.locked_on = locked_on
        form.criteria = published_criteria(enrollment.offer.specific)
        forms.append(form)
    if request.method == "POST" and all([form.is_valid() for form in forms]):
        changes = [svc.WishChange(form.enrollment.pk, form.cleaned_data["rank"],
                                  form.cleaned_data.get("desired_start"), form.cleaned_data.get("care_hours"))
                   for form in forms]
        try:
            svc.wishes_rank(participant=child, changes=changes, by=request.user)
        except svc.AllocationError as exc:  # e.g. two wishes with one rank: next to each of them
            ranks = [form.cleaned_data["rank"] for form in forms]
            named = [form for form in forms if exc.field == "rank" and ranks.count(form.cleaned_data["rank"]) > 1]
            for form in named:
                exc.add_to(form)
            if not named:
                messages.error(request, exc.message)
        else:
            messages.success(request, _("Die Wunschliste von %(child)s ist gespeichert.") % {"child": child.first_name})
            return redirect("workpro:wishlist", person_id=child.pk)
    has_errors = request.method == "POST" and any(form.errors for form in forms)
    return render(request, "workpro_plugin/account/wishlist.html", {"child": child, "forms": forms},
                  status=400 if has_errors else 200)


@login_required(login_url=LOGIN_URL)
@require_POST
def place_accept(request, pk: int):
    enrollment, _role = enrollment_or_404(request, pk, roles=HOLDER)
    try:
        accepted = svc.place_accept(enrollment=enrollment, by=request.user)
    except (svc.AllocationError, svc.enrollment_services.EnrollmentActionError) as exc:
        messages.error(request, str(exc))
    else:
        if accepted.place_reserved_at is not None and accepted.status == svc.S.BEWERBER:
            messages.success(request, _("Sie haben den Platz angenommen. Die Einrichtung lädt Sie vor der Aufnahme "
                                        "zu einem persönlichen Gespräch ein."))
        else:
            messages.success(request, _("Sie haben den Platz angenommen. Status: Kandidat. Bitte führen Sie "
                                        "die nächsten Schritte aus."))
    return redirect("workpro:enrollment_detail", pk=pk)


@login_required(login_url=LOGIN_URL)
@require_POST
def place_decline(request, pk: int):
    enrollment, _role = enrollment_or_404(request, pk, roles=HOLDER)
    try:
        svc.place_decline(enrollment=enrollment, by=request.user)
    except (svc.AllocationError, svc.enrollment_services.EnrollmentActionError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Sie haben den Platz abgelehnt. Er geht an das nächste Kind auf der Warteliste."))
    return redirect("workpro:enrollment_detail", pk=pk)
