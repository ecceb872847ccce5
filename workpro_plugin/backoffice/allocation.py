"""Platzvergabe in the Wagtail admin: Vergaberunden (preview, confirm, table, export), waiting lists
with "Platz anbieten", staff confirmation of criteria, the Kriterienkatalog and the unmet-demand report.
"""

from __future__ import annotations

import csv

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, ObjectList
from wagtail_modeladmin.options import ModelAdmin

from ..lib.choices import CONFIRMED_CRITERIA
from ..lib.form_fields import ModelChoiceField
from ..models import Criterion, Enrollment
from ..selectors import allocation as selectors
from ..selectors.allocation import staff_criteria, staff_offers, staff_rounds
from ..selectors.institutions import is_staff_anywhere, staff_institutions
from ..services import allocation as svc
from . import helpers as admin_helpers
from .export import escape_formula
from .shortcuts import staff_enrollment_or_404, staff_object_or_404

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# --- Kriterienkatalog (modeladmin) ------------------------------------------------------------------

class CriterionForm(WagtailAdminModelForm):
    class Meta:
        field_classes = {"offer": ModelChoiceField, "institution": ModelChoiceField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.for_user is None:
            return
        institutions = staff_institutions(self.for_user)
        self.fields["institution"].queryset = institutions
        if institutions.count() == 1:
            self.fields["institution"].empty_label = None
        self.fields["offer"].queryset = staff_offers(self.for_user)
        self.fields["offer"].empty_label = _("alle Angebote der Einrichtung")

    def clean(self):
        cleaned = super().clean()
        offer, institution = cleaned.get("offer"), cleaned.get("institution")
        if offer is not None and institution is not None and offer.get_institution() != institution:
            self.add_error("offer", _("Das Angebot gehört nicht zu dieser Einrichtung."))
        if cleaned.get("kind") == Criterion.Kind.RESIDENCE and not (cleaned.get("parameter") or "").strip():
            self.add_error("parameter", _("Bitte nennen Sie die Postleitzahlen oder Orte der Gemeinde."))
        return cleaned


class CriterionPermissionHelper(admin_helpers.InstitutionRowsPermissionHelper):
    def institutions(self, user):
        return staff_institutions(user)

    def _any_institution(self, user) -> bool:
        return is_staff_anywhere(user)  # the question the admin menu asks already, answered once a request

    def may_change(self, user, obj):
        return obj.institution.staff_can(user, "process_enrollment")


class CriterionAdmin(admin_helpers.InstitutionRowsAdmin, ModelAdmin):
    model = Criterion
    menu_label = gettext_lazy("Kriterienkatalog")
    menu_icon = "list-ol"
    menu_order = 120
    permission_helper_class = CriterionPermissionHelper
    edit_handler = ObjectList([
        FieldRowPanel([FieldPanel("institution"), FieldPanel("offer")]),
        FieldPanel("kind"), FieldPanel("label"),
        FieldRowPanel([FieldPanel("points"), FieldPanel("sort_order")]),
        FieldPanel("parameter"),
    ], base_form_class=CriterionForm)
    list_display = ("label", "kind", "points", "institution", "offer_label")
    list_filter = ("kind",)
    search_fields = ("label",)

    def get_queryset(self, request):
        return staff_criteria(request.user)

    def offer_label(self, obj):
        return obj.offer.title if obj.offer_id else _("alle Angebote")
    offer_label.short_description = gettext_lazy("Angebot")


# --- Vergaberunden ----------------------------------------------------------------------------------

class RoundForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Bezeichnung"), max_length=200,
                            help_text=gettext_lazy("z. B. „Krippe und Kindergarten ab August 2027“"))
    stichtag = forms.DateField(
        label=gettext_lazy("Stichtag"), widget=DATE_WIDGET,
        help_text=gettext_lazy("Bis zu diesem Tag können Eltern ihre Wünsche ändern; bestätigt werden kann die "
                               "Runde ab diesem Tag. Das Alter wird zu diesem Tag berechnet."),
        error_messages={"invalid": gettext_lazy("Bitte ein Datum im Format TT.MM.JJJJ eingeben.")})
    offers = forms.ModelMultipleChoiceField(label=gettext_lazy("Angebote"), queryset=None,
                                            widget=forms.CheckboxSelectMultiple,
                                            error_messages={"required": gettext_lazy(
                                                "Bitte wählen Sie mindestens ein Angebot.")})

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["offers"].queryset = staff_offers(user)
        self.fields["offers"].label_from_instance = lambda offer: offer.title


class ConfirmCriterionForm(forms.Form):
    criterion = forms.ModelChoiceField(label=gettext_lazy("Kriterium"), queryset=None,
                                       error_messages={"required": gettext_lazy("Bitte wählen Sie ein Kriterium.")})
    reason = forms.CharField(label=gettext_lazy("Begründung"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": gettext_lazy("Bitte begründen Sie die Bestätigung.")})

    def __init__(self, *args, enrollment: Enrollment, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["criterion"].queryset = Criterion.objects.filter(
            institution_id=enrollment.institution_id, kind__in=CONFIRMED_CRITERIA)


def _round_or_404(request, pk):
    return staff_object_or_404(staff_rounds(request.user), pk)


def round_index(request):
    if not is_staff_anywhere(request.user):
        raise Http404
    rounds = staff_rounds(request.user).order_by("-created_at")
    offers = list(staff_offers(request.user))
    counts = selectors.waiting_counts(offers)
    return TemplateResponse(request, "workpro_plugin/admin/allocation_index.html", {
        "rounds": rounds, "waiting": [(offer, counts[offer.pk]) for offer in offers if counts.get(offer.pk)],
        "demand": svc.unmet_demand(staff_institutions(request.user)),
        "criteria_url": reverse("workpro_plugin_criterion_modeladmin_index"),
    })


def round_create(request):
    if not is_staff_anywhere(request.user):
        raise Http404
    form = RoundForm(request.POST or None, user=request.user, initial={"stichtag": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            round_ = svc.round_create(by=request.user, **form.cleaned_data)
        except svc.AllocationError as exc:
            exc.add_to(form)
        else:
            messages.success(request, _("Vergaberunde „%(title)s“ angelegt: prüfen Sie die Vorschau.")
                             % {"title": round_.title})
            return redirect("workpro_admin:allocation_round", pk=round_.pk)
    return TemplateResponse(request, "workpro_plugin/admin/allocation_form.html", {
        "form": form, "header_title": _("Neue Vergaberunde"), "button": _("Vorschau anzeigen"),
        "back_url": reverse("workpro_admin:allocation_index"),
    }, status=400 if form.errors else 200)


def round_detail(request, pk):
    """Draft: the preview (nothing saved). Confirmed: the recorded table per offer."""
    round_ = _round_or_404(request, pk)
    tables = _round_tables(round_)
    return TemplateResponse(request, "workpro_plugin/admin/allocation_round.html", {
        "round": round_, "tables": tables, "preview": not round_.is_confirmed,
        "can_confirm": not round_.is_confirmed and round_.stichtag <= timezone.localdate(),
    })


def _round_tables(round_) -> list[dict]:
    """The rows of a round per offer, one shape for the page and the export: a confirmed round's recorded
    results, or the preview of a draft (computed, nothing saved)."""
    if round_.is_confirmed:
        return selectors.recorded_tables(round_)
    return [{"offer": t.offer, "free": t.free, "lowest_admitted": t.lowest_admitted, "candidates": [{
        "enrollment": c.enrollment, "points": c.points, "lottery": c.lottery, "position": c.position,
        "outcome": c.outcome, "outcome_label": c.outcome_label, "waiting_rank": c.waiting_rank, "reason": c.reason,
        "wish": c.wish if c.wish != svc.NO_RANK else None, "lines": c.lines} for c in t.candidates]}
        for t in svc.plan_round(round_).tables]


@require_POST
def round_confirm(request, pk):
    round_ = _round_or_404(request, pk)
    try:
        plan = svc.round_confirm(round_=round_, by=request.user)
    except svc.AllocationError as exc:
        messages.error(request, exc.message)
    else:
        placed = sum(1 for c in plan.candidates if c.outcome == "placed")
        waiting = sum(1 for c in plan.candidates if c.outcome == "waiting")
        messages.success(request, _("Vergaberunde bestätigt: %(placed)s Plätze vergeben, %(waiting)s Wünsche auf "
                                    "der Warteliste. Alle Familien wurden benachrichtigt.")
                         % {"placed": placed, "waiting": waiting})
    return redirect("workpro_admin:allocation_round", pk=round_.pk)


def round_export(request, pk):
    round_ = _round_or_404(request, pk)
    tables = _round_tables(round_)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="vergaberunde-{round_.pk}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow([_("Angebot"), _("Rang"), _("Kind"), _("Wunsch"), _("Punkte"), _("Losnummer"), _("Ergebnis"),
                     _("Platz auf der Warteliste"), _("Begründung")])
    for table in tables:
        for c in table["candidates"]:
            child = c["enrollment"].participant
            writer.writerow([escape_formula(v) for v in (
                table["offer"].title, c["position"], child.full_name if child else "", c["wish"] or "",
                c["points"], c["lottery"], c["outcome_label"], c["waiting_rank"] or "", c["reason"])])
    return response


def waiting_list(request, offer_pk):
    offer = staff_object_or_404(staff_offers(request.user), offer_pk)
    return TemplateResponse(request, "workpro_plugin/admin/allocation_waiting.html", {
        "offer": offer, "rows": selectors.waiting_list(offer), "free": selectors.free_places(offer),
        "next": selectors.next_waiting(offer),
    })


@require_POST
def place_offer(request, pk):
    enrollment = staff_enrollment_or_404(request.user, pk, request=request)
    try:
        svc.place_offer(enrollment=enrollment, by=request.user)
    except svc.AllocationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Der Platz wurde %(child)s angeboten; die Familie wurde benachrichtigt.")
                         % {"child": enrollment.participant.full_name})
    return redirect("workpro_admin:allocation_waiting", offer_pk=enrollment.offer_id)


def confirm_criterion(request, pk):
    enrollment = staff_enrollment_or_404(request.user, pk, request=request)
    form = ConfirmCriterionForm(request.POST or None, enrollment=enrollment)
    if request.method == "POST" and form.is_valid():
        try:
            svc.criterion_confirm(enrollment=enrollment, by=request.user, **form.cleaned_data)
        except svc.AllocationError as exc:
            exc.add_to(form)
        else:
            messages.success(request, _("Kriterium „%(label)s“ bestätigt.") % {"label": form.cleaned_data["criterion"].label})
            return redirect(reverse("workpro_plugin_enrollment_modeladmin_inspect", args=[enrollment.pk]))
    return TemplateResponse(request, "workpro_plugin/admin/allocation_form.html", {
        "form": form, "header_title": _("Kriterium bestätigen: %(enrollment)s") % {"enrollment": enrollment},
        "button": _("Bestätigen"), "back_url": reverse("workpro_plugin_enrollment_modeladmin_inspect",
                                                      args=[enrollment.pk]),
    }, status=400 if form.errors else 200)


admin_urls = [
    path("vergabe/", round_index, name="allocation_index"),
    path("vergabe/neu/", round_create, name="allocation_create"),
    path("vergabe/<int:pk>/", round_detail, name="allocation_round"),
    path("vergabe/<int:pk>/bestaetigen/", round_confirm, name="allocation_confirm"),
    path("vergabe/<int:pk>/export/", round_export, name="allocation_export"),
    path("warteliste/<int:offer_pk>/", waiting_list, name="allocation_waiting"),
    path("warteliste/anmeldung/<int:pk>/platz-anbieten/", place_offer, name="allocation_place_offer"),
    path("vergabe/anmeldung/<int:pk>/kriterium/", confirm_criterion, name="allocation_confirm_criterion"),
]
