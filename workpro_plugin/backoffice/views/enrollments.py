"""Staff views in the Wagtail admin: transition forms, the offer preview and bulk actions.

Every view scopes the enrollment to the user's institutions (404 otherwise),
checks the permission of the action (403), and calls a service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ...models import Document, Enrollment
from ...selectors.enrollments import staff_enrollments
from ...services import enrollments as svc
from ...services.documents import render_contract_offer_pdf
from .. import forms as admin_forms
from ..shortcuts import staff_enrollment_or_404

S = Enrollment.Status


@dataclass(frozen=True)
class Action:
    slug: str
    label: str
    transition: str | None  # FSM transition name, or None for non-transition actions
    permission: str
    form: type[forms.Form]
    run: Callable
    initial: Callable[[Enrollment], dict] = lambda e: {}
    button_class: str = "button"
    setup: Callable[[forms.Form, Enrollment], None] | None = None  # fits the form to the enrollment


def _offer_initial(enrollment: Enrollment) -> dict:
    offer = enrollment.offer.specific
    fee = enrollment.computed_fee()
    today = timezone.localdate()
    return {
        "costs": fee.amount if fee else None,
        "contract_start": offer.starts_on if offer.starts_on and offer.starts_on > today else today + timedelta(days=30),
        "contract_end": offer.ends_on,
        "deadline": today + timedelta(days=offer.contract_return_days),
    }


ACTIONS = {action.slug: action for action in [
    Action("einladen", gettext_lazy("Einladen"), "invite", "process_enrollment", admin_forms.InviteForm,
           lambda e, u, d: svc.enrollment_invite(enrollment=e, by=u, at=d["at"], place=d["place"], note=d["note"]),
           initial=lambda e: {"time": admin_forms.default_time(), "place": e.institution.street}),
    Action("entscheiden", gettext_lazy("Entscheiden"), "decide", "process_enrollment", admin_forms.DecideForm,
           lambda e, u, d: svc.enrollment_decide(enrollment=e, by=u, accept=d["decision"] == "kandidat",
                                                 basis=d["basis"], reason=d["reason"]),
           initial=lambda e: {"basis": e.decision_bases()[0]},
           setup=lambda form, e: form.for_enrollment(e)),
    Action("nachweis-anfordern", gettext_lazy("Nachweis anfordern"), None, "process_enrollment",
           admin_forms.ProofForm,
           lambda e, u, d: svc.enrollment_request_proof(enrollment=e, by=u, deadline=d["deadline"]),
           initial=lambda e: {"deadline": timezone.localdate() + timedelta(days=14)}),
    Action("nachweis-erhalten", gettext_lazy("Nachweis erhalten"), None, "process_enrollment",
           admin_forms.ConfirmForm, lambda e, u, d: svc.enrollment_receive_proof(enrollment=e, by=u)),
    Action("angebot-erstellen", gettext_lazy("Angebot erstellen"), "make_offer", "sign_enrollment",
           admin_forms.OfferForm,
           lambda e, u, d: svc.enrollment_make_offer(
               enrollment=e, by=u, costs=d["costs"], costs_reason=d["costs_reason"],
               contract_start=d["contract_start"], contract_end=d["contract_end"], deadline=d["deadline"]),
           initial=_offer_initial, button_class="button button-primary"),
    Action("ratifizieren", gettext_lazy("Ratifizieren"), "ratify", "sign_enrollment", admin_forms.RatifyForm,
           lambda e, u, d: svc.enrollment_ratify(enrollment=e, by=u), button_class="button button-primary",
           setup=lambda form, e: form.for_enrollment(e)),
    Action("unterlagen-zurueckweisen", gettext_lazy("Unterlagen zurückweisen"), "return_upload",
           "process_enrollment", admin_forms.ReasonForm,
           lambda e, u, d: svc.enrollment_return_upload(enrollment=e, by=u, reason=d["reason"]),
           button_class="button button-secondary no"),
    Action("wieder-oeffnen", gettext_lazy("Wieder öffnen"), "reopen", "sign_enrollment", admin_forms.ReopenForm,
           lambda e, u, d: svc.enrollment_reopen(enrollment=e, by=u, reason=d["reason"],
                                                 deadline=d.get("deadline")),
           initial=lambda e: {"deadline": timezone.localdate() + timedelta(days=e.offer.specific.contract_return_days)},
           setup=lambda form, e: form.for_enrollment(e)),
    Action("frist-verlaengern", gettext_lazy("Frist verlängern"), None, "sign_enrollment",
           admin_forms.ExtendDeadlineForm,
           lambda e, u, d: svc.enrollment_extend_deadline(enrollment=e, by=u, which=d["which"],
                                                          deadline=d["deadline"], reason=d["reason"]),
           initial=lambda e: {"deadline": timezone.localdate() + timedelta(days=14)},
           setup=lambda form, e: form.for_enrollment(e, svc.extendable_deadlines(e))),
    Action("zurueckziehen", gettext_lazy("Zurückziehen"), "withdraw", "process_enrollment", admin_forms.ReasonForm,
           lambda e, u, d: svc.enrollment_withdraw(enrollment=e, by=u, reason=d["reason"]),
           button_class="button button-secondary no"),
    # A generated PDF (Anmeldung, Angebot) whose rendering failed after its retries: render it again.
    Action("erneut-erstellen", gettext_lazy("Erneut erstellen"), None, "process_enrollment",
           admin_forms.RetryDocumentsForm, lambda e, u, d: svc.enrollment_retry_documents(enrollment=e, by=u), button_class="button button-secondary"),
]}


def available_actions(enrollment: Enrollment, user) -> list[Action]:
    """The actions this user may start now (the buttons of the inspect view)."""
    transitions = svc.possible_transitions(enrollment, user)
    result = []
    for action in ACTIONS.values():
        if not enrollment.institution.staff_can(user, action.permission):
            continue
        if action.transition is not None and action.transition not in transitions:
            continue
        if action.slug == "nachweis-anfordern" and not (enrollment.is_open and enrollment.offer.specific.fee_schedule_id):
            continue
        if action.slug == "nachweis-erhalten" and not (enrollment.proof_requested_at and not enrollment.proof_received_at):
            continue
        if action.slug == "frist-verlaengern" and not svc.extendable_deadlines(enrollment):
            continue
        if action.slug == "erneut-erstellen" and not enrollment.documents.filter(state=Document.State.FAILED).exists():
            continue
        result.append(action)
    return result


def enrollment_action(request, pk: int, action: str):
    enrollment = staff_enrollment_or_404(request.user, pk, request=request)
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404
    if not enrollment.institution.staff_can(request.user, spec.permission):
        raise PermissionDenied
    form = spec.form(request.POST if request.method == "POST" else None, initial=spec.initial(enrollment))
    if spec.setup is not None:
        spec.setup(form, enrollment)
    if request.method == "POST" and form.is_valid():
        try:
            spec.run(enrollment, request.user, form.cleaned_data)
        except svc.EnrollmentActionError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(request, _("%(action)s: erledigt für %(enrollment)s.")
                             % {"action": spec.label, "enrollment": enrollment})
            return redirect(inspect_url(enrollment))
    context = {"enrollment": enrollment, "action": spec, "form": form, "fee": enrollment.computed_fee(),
               "inspect_url": inspect_url(enrollment), "header_title": f"{spec.label}: {enrollment}"}
    return TemplateResponse(request, "workpro_plugin/admin/enrollment_action.html", context,
                            status=400 if form.errors else 200)


def offer_preview(request, pk: int):
    """The contract offer PDF with the entered terms, before anything is saved or sent."""
    enrollment = staff_enrollment_or_404(request.user, pk, request=request)
    if not enrollment.institution.staff_can(request.user, "sign_enrollment"):
        raise PermissionDenied
    form = admin_forms.OfferForm(request.POST or request.GET or None)
    if not form.is_valid():
        return HttpResponse(_("Bitte zuerst alle Felder korrekt ausfüllen."), status=400,
                            content_type="text/plain; charset=utf-8")
    data = form.cleaned_data
    enrollment.costs, enrollment.costs_reason = data["costs"], data["costs_reason"]
    enrollment.contract_start, enrollment.contract_end = data["contract_start"], data["contract_end"]
    enrollment.signed_copy_deadline = data["deadline"]  # in memory only: never saved here
    response = HttpResponse(render_contract_offer_pdf(enrollment, by=request.user, preview=True),
                            content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="Vorschau-Angebot-{enrollment.contract_number}.pdf"'
    return response


def inspect_url(enrollment: Enrollment) -> str:
    return reverse("workpro_plugin_enrollment_modeladmin_inspect", args=[enrollment.pk])


class BulkInviteForm(admin_forms.InviteForm):
    enrollments = admin_forms.ModelMultipleChoiceField(label=gettext_lazy("Bewerber"),
                                                       queryset=Enrollment.objects.none(),
                                                       widget=forms.CheckboxSelectMultiple)


class BulkDecideForm(admin_forms.DecideForm):
    enrollments = admin_forms.ModelMultipleChoiceField(label=gettext_lazy("Anmeldungen"),
                                                       queryset=Enrollment.objects.none(),
                                                       widget=forms.CheckboxSelectMultiple)


def _bulk(request, *, form_class, statuses, title, run):
    candidates = staff_enrollments(request.user).filter(status__in=statuses).order_by("offer__title", "created_at")
    candidates = [e for e in candidates if e.institution.staff_can(request.user, "process_enrollment")]
    form = form_class(request.POST if request.method == "POST" else None,
                      initial={"time": admin_forms.default_time()})
    form.fields["enrollments"].queryset = Enrollment.objects.filter(pk__in=[e.pk for e in candidates])
    if request.method == "POST" and form.is_valid():
        done, failed = 0, []
        for enrollment in form.cleaned_data["enrollments"]:
            try:
                run(enrollment, request.user, form.cleaned_data)
                done += 1
            except svc.EnrollmentActionError as exc:
                failed.append(f"{enrollment}: {exc}")
        if done:
            messages.success(request, _("%(count)s Anmeldungen bearbeitet.") % {"count": done})
        for problem in failed:
            messages.error(request, problem)
        return redirect("workpro_plugin_enrollment_modeladmin_index")
    return TemplateResponse(request, "workpro_plugin/admin/enrollment_bulk.html",
                            {"form": form, "header_title": title, "candidates": candidates},
                            status=400 if form.errors else 200)


def bulk_invite(request):
    return _bulk(request, form_class=BulkInviteForm, statuses=[S.BEWERBER], title=_("Mehrere einladen"),
                 run=ACTIONS["einladen"].run)


def bulk_decide(request):
    return _bulk(request, form_class=BulkDecideForm, statuses=[S.BEWERBER, S.EINGELADEN],
                 title=_("Mehrere entscheiden"), run=ACTIONS["entscheiden"].run)
