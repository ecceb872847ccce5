"""Portal views for minors: the participant's own login, Notfallkontakt and Abholberechtigte, photos."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ...access import PortalRole, needs_second_factor, portal_role
from ...models import EmergencyContact, Enrollment, PickupPerson
from ...services import minors as svc
from ...shared.files import private_file_response
from ..forms.minors import CareContactForm, ParticipantLoginForm, PickupPersonForm
from ..shortcuts import HOLDER, LOGIN_URL, enrollment_or_404, person_spoken_for_or_404, ward_or_404

KINDS = {"notfallkontakt": (EmergencyContact, CareContactForm), "abholberechtigt": (PickupPerson, PickupPersonForm)}


@login_required(login_url=LOGIN_URL)
def participant_login(request, person_id: int):
    """Eigene Mailadresse zuweisen: PSB1 gives a minor an own login."""
    participant = person_spoken_for_or_404(request, person_id)
    own = getattr(request.user, "workpro_person", None)
    if own is not None and own.pk == participant.pk:
        raise Http404
    refusal = svc.own_login_refusal(participant)
    form = ParticipantLoginForm(request.POST or None)
    if refusal:  # below the minimum age: say so instead of offering the form
        return render(request, "workpro_plugin/account/participant_login.html",
                      {"participant": participant, "form": None, "refusal": refusal},
                      status=400 if request.method == "POST" else 200)
    if request.method == "POST" and form.is_valid():
        try:
            svc.participant_assign_login(participant=participant, email=form.cleaned_data["email"], by=request.user)
        except svc.MinorsError as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(request, _("%(name)s hat einen eigenen Zugang. Die Anmeldedaten sind an %(email)s "
                                        "unterwegs.") % {"name": participant.full_name,
                                                         "email": form.cleaned_data["email"]})
            return redirect("workpro:account")
    return render(request, "workpro_plugin/account/participant_login.html",
                  {"participant": participant, "form": form}, status=400 if form.errors else 200)


@login_required(login_url=LOGIN_URL)
def participant_view(request, person_id: int):
    """Was der Teilnehmer sieht: the PSB1 sees what the ward's own login shows."""
    participant = ward_or_404(request, person_id)
    try:
        view = svc.minor_view(participant=participant, by=request.user)
    except svc.MinorsError:
        raise Http404 from None
    return render(request, "workpro_plugin/account/participant_view.html", {"view": view})


def _care_enrollment(request, pk: int, *, manage: bool) -> tuple[Enrollment, str]:
    """Holders manage Notfallkontakt and Abholberechtigte; a former PSB1 reads them; participants don't."""
    return enrollment_or_404(request, pk, roles=HOLDER if manage else (PortalRole.HOLDER, PortalRole.GUARDIAN))


def _care_context(enrollment: Enrollment, role: str, **forms) -> dict:
    return {
        "enrollment": enrollment, "can_edit": role == PortalRole.HOLDER and enrollment.status in svc.CARE_STATUSES,
        "required": svc.care_required(enrollment), "missing": svc.care_missing(enrollment),
        "emergency_contacts": enrollment.emergency_contacts.all(), "pickup_persons": enrollment.pickup_persons.all(),
        "emergency_form": forms.get("emergency_form") or CareContactForm(prefix="notfall"),
        "pickup_form": forms.get("pickup_form") or PickupPersonForm(prefix="abholung"),
    }


@login_required(login_url=LOGIN_URL)
def care(request, pk: int):
    """Notfallkontakt und Abholberechtigte of one contract: what is there, what is missing, add more."""
    enrollment, role = _care_enrollment(request, pk, manage=request.method == "POST")
    forms = {}
    if request.method == "POST":
        kind = request.POST.get("kind")
        if kind == "notfallkontakt":
            form = forms["emergency_form"] = CareContactForm(request.POST, prefix="notfall")
        elif kind == "abholberechtigt":
            form = forms["pickup_form"] = PickupPersonForm(request.POST, request.FILES, prefix="abholung")
        else:
            raise Http404
        if form.is_valid() and _save(request, enrollment, kind, form):
            return redirect("workpro:care", pk=pk)
    context = _care_context(enrollment, role, **forms)
    return render(request, "workpro_plugin/account/care.html", context, status=400 if forms else 200)


def _save(request, enrollment: Enrollment, kind: str, form, instance=None) -> bool:
    data = form.cleaned_data
    try:
        if kind == "notfallkontakt":
            svc.care_save_emergency(enrollment=enrollment, by=request.user, name=data["name"],
                                    relation=data["relation"], phone=data["phone"], contact=instance)
            messages.success(request, _("Der Notfallkontakt %(name)s ist gespeichert.") % {"name": data["name"]})
        else:
            svc.care_save_pickup(enrollment=enrollment, by=request.user, name=data["name"], relation=data["relation"],
                                 phone=data["phone"], photo_content=getattr(form, "processed_photo", None),
                                 pickup=instance)
            messages.success(request, _("%(name)s ist als abholberechtigt gespeichert.") % {"name": data["name"]})
    except svc.MinorsError as exc:
        form.add_error(None, str(exc))
        return False
    return True


@login_required(login_url=LOGIN_URL)
def care_edit(request, pk: int, kind: str, contact_id: int):
    enrollment, role = _care_enrollment(request, pk, manage=True)
    if kind not in KINDS:
        raise Http404
    model, form_class = KINDS[kind]
    instance = get_object_or_404(model, pk=contact_id, enrollment=enrollment)
    initial = {"name": instance.name, "relation": instance.relation, "phone": instance.phone_display}
    kwargs = {"photo_required": False} if model is PickupPerson else {}
    form = form_class(request.POST or None, request.FILES or None, initial=initial, **kwargs)
    if request.method == "POST" and form.is_valid() and _save(request, enrollment, kind, form, instance=instance):
        return redirect("workpro:care", pk=pk)
    return render(request, "workpro_plugin/account/care_edit.html",
                  {"enrollment": enrollment, "form": form, "contact": instance, "kind": kind},
                  status=400 if form.errors else 200)


@login_required(login_url=LOGIN_URL)
@require_POST
def care_remove(request, pk: int, kind: str, contact_id: int):
    enrollment, role = _care_enrollment(request, pk, manage=True)
    if kind not in KINDS:
        raise Http404
    instance = get_object_or_404(KINDS[kind][0], pk=contact_id, enrollment=enrollment)
    try:
        svc.care_remove(enrollment=enrollment, by=request.user, contact=instance)
    except svc.MinorsError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("%(name)s wurde entfernt.") % {"name": instance.name})
    return redirect("workpro:care", pk=pk)


@login_required(login_url=LOGIN_URL)
def pickup_photo(request, pk: int, contact_id: int):
    """The passport photo: for the contract's holder (and former PSB1 in the handover window) and its
    staff (with the second factor where required, as for documents)."""

    pickup = get_object_or_404(PickupPerson.objects.select_related("enrollment__institution",
                                                                   "enrollment__participant"),
                               pk=contact_id, enrollment_id=pk)
    enrollment = pickup.enrollment
    role = portal_role(request.user, enrollment)
    allowed = role in (PortalRole.HOLDER, PortalRole.GUARDIAN) or (
        enrollment.institution.is_staff_member(request.user) and not needs_second_factor(request.user))
    if not allowed or not pickup.photo:
        raise Http404
    return private_file_response(pickup.photo, content_type="image/jpeg")
