"""Anmeldungen in the Wagtail admin: the list with its filters, the inspect view and the audited export.

Staff see the enrollments of their institutions; changes go through the actions of
backoffice/views/enrollments.py, never through an edit form.
"""

from __future__ import annotations

import functools
from datetime import datetime, time
from urllib.parse import quote_plus

from django.contrib.admin import RelatedOnlyFieldListFilter, SimpleListFilter
from django.core.paginator import InvalidPage
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.encoding import iri_to_uri
from django.utils.html import conditional_escape, format_html
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from wagtail.admin.paginator import WagtailPaginator
from wagtail_modeladmin.options import ModelAdmin
from wagtail_modeladmin.views import IndexView, InspectView

from ..lib.questions import QUESTION_SECTION_LABELS, QUESTION_SECTIONS, answers_text
from ..lib.tree import below_any
from ..models import (
    ApplicationSection,
    Document,
    EmergencyContact,
    Enrollment,
    OfferPage,
    PickupPerson,
)
from ..models.care import add_months, photo_validity_months
from ..selectors.enrollments import (
    overdue_q,
    staff_enrollments_in,
    staff_institution_ids,
    today_bounds,
    with_question_sections,
)
from ..selectors.fees import fee_history
from ..selectors.institutions import is_staff_anywhere, staff_institutions
from ..services import audit
from ..services.documents import section_rows
from ..services.minors import CARE_STATUSES, care_required, outstanding_care, years_before
from .export import SafeSpreadsheetExportMixin
from .helpers import admin_display
from .list_rows import RowButtonHelper, render_table
from .permissions import ReadOnlyPermissionHelper
from .views import enrollments as admin_views

S = Enrollment.Status
STATUS_LABELS = dict(S.choices)  # get_status_display looks its choices up anew for every row


class EnrollmentPermissionHelper(ReadOnlyPermissionHelper):
    """Staff with the view permission see their institution's enrollments; changes go through actions."""

    def user_can_list(self, user):
        return user.is_superuser or (user.has_perm("workpro_plugin.view_enrollment")
                                     and is_staff_anywhere(user))

    def user_can_inspect_obj(self, user, obj):
        return obj.institution.staff_can(user, "view_enrollment")


def staff_enrollments_by_ids(request):
    """The enrollments the request's user processes, their institutions' ids read once per request (the list
    asks for its queryset several times: list, unfiltered count, institution filter)."""
    if not hasattr(request, "_workpro_staff_institution_ids"):
        request._workpro_staff_institution_ids = staff_institution_ids(request.user)
    return staff_enrollments_in(request._workpro_staff_institution_ids)


class OfferFilter(SimpleListFilter):
    title = _("Angebot")
    parameter_name = "angebot"

    def lookups(self, request, model_admin):
        # The offers below the institutions' sites: no scan over all enrollments, and one IN per tree
        # depth of the sites' root pages instead of an OR per institution (400 institutions: 400 ORs).
        offers = OfferPage.objects.all()
        if not request.user.is_superuser:
            offers = below_any(offers, staff_institutions(request.user).filter(site__isnull=False).values_list(
                "site__root_page__path", flat=True))
        return list(offers.order_by("title").values_list("pk", "title"))

    def queryset(self, request, queryset):
        return queryset.filter(offer_id=self.value()) if self.value() else queryset

    # modeladmin/includes/filter.html's HTML, its <li> written by choices() (see choices_html).
    template = "workpro_plugin/admin/includes/offer_filter.html"
    # Its choices are SimpleListFilter's (the parameter with each lookup's value): DeclaredParamsIndexView
    # checks a given value against the lookups without parsing each choice's query string.
    choices_are_lookups = True

    def choices(self, changelist):
        """SimpleListFilter.choices, each query string built from the list's other parameters encoded once
        (a Träger's 400 offers: 400 copies of the parameters, sorted and encoded anew), and the <li> items
        of modeladmin/includes/filter.html written in one go as `choices_html` (its template loop over 400
        choices cost as much as the rest of the sidebar)."""
        if getattr(changelist, "add_facets", False):
            choices = list(super().choices(changelist))
            self.choices_html = _filter_items(choices)
            return choices
        name = self.parameter_name
        others = sorted((key, value) for key, value in changelist.params.items() if key != name)
        # The query string of the offer `lookup` is "?" before "angebot=<lookup>" after (urlencode of the
        # sorted parameters); iriencode and escaping work character by character, so on the parts once.
        before = urlencode([pair for pair in others if pair[0] < name])
        after = urlencode([pair for pair in others if pair[0] > name])
        head, tail = "?" + (before + "&" if before else "") + urlencode([(name, "")]), "&" + after if after else ""
        href_head, href_tail = conditional_escape(iri_to_uri(head)), conditional_escape(iri_to_uri(tail))
        value = self.value()
        everything = {"selected": value is None, "query_string": changelist.get_query_string(remove=[name]),
                      "display": _("All")}
        choices, items = [everything], [_filter_items([everything])]
        selected = ' class="selected"'
        for lookup, title in self.lookup_choices:
            encoded = quote_plus(str(lookup))  # ASCII without & < > " ': as iriencoded and escaped
            choices.append({"selected": value == str(lookup), "query_string": f"{head}{encoded}{tail}",
                            "display": title})
            items.append(f'\n        <li{selected if value == str(lookup) else ""}>\n            <a href="'
                         f'{href_head}{encoded}{href_tail}">{conditional_escape(title)}</a></li>\n    ')
        self.choices_html = mark_safe("".join(items))
        return choices


def _filter_items(choices) -> str:
    """The <li> items modeladmin/includes/filter.html writes for `choices`."""
    selected = ' class="selected"'
    return mark_safe("".join(
        f'\n        <li{selected if choice["selected"] else ""}>\n'
        f'            <a href="{conditional_escape(iri_to_uri(choice["query_string"]))}">'
        f'{conditional_escape(choice["display"])}</a></li>\n    ' for choice in choices))


class InstitutionFilter(RelatedOnlyFieldListFilter):
    """The institutions of the user's enrollments, as RelatedOnlyFieldListFilter lists them, found with one
    EXISTS per institution (an index probe) instead of a DISTINCT over every enrollment of the list."""

    def field_choices(self, field, request, model_admin):
        listed = model_admin.get_queryset(request).filter(institution=OuterRef("pk"))
        return field.get_choices(include_blank=False, limit_choices_to=Q(Exists(listed)),
                                 ordering=self.field_admin_ordering(field, request, model_admin))


class DeadlineFilter(SimpleListFilter):
    title = _("Frist")
    parameter_name = "frist"

    def lookups(self, request, model_admin):
        return [("ueberfaellig", _("überfällig")), ("7tage", _("in den nächsten 7 Tagen"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "ueberfaellig":
            return queryset.filter(overdue_q(today))
        if self.value() == "7tage":
            horizon = today + timezone.timedelta(days=7)
            return queryset.filter(
                Q(status=S.ANGEBOT, signed_copy_deadline__range=(today, horizon))
                | Q(proof_deadline__range=(today, horizon), proof_received_at__isnull=True))
        return queryset


class MinorFilter(SimpleListFilter):
    title = _("Minderjährige")
    parameter_name = "minderjaehrig"

    def lookups(self, request, model_admin):
        return [("ja", _("nur Minderjährige")), ("nein", _("nur Volljährige"))]

    @staticmethod
    def cutoff():
        """Born after this day: under 18 today."""
        return years_before(timezone.localdate(), 18)

    def queryset(self, request, queryset):
        cutoff = self.cutoff()
        if self.value() == "ja":
            return queryset.filter(participant__date_of_birth__gt=cutoff)
        if self.value() == "nein":
            return queryset.filter(participant__date_of_birth__lte=cutoff)
        return queryset


class InterviewFilter(SimpleListFilter):
    title = _("Gesprächstermin")
    parameter_name = "gespraech"

    def lookups(self, request, model_admin):
        return [("heute", _("heute")), ("woche", _("nächste 7 Tage")), ("vergangen", _("vergangen"))]

    def queryset(self, request, queryset):
        now = timezone.localtime()
        start, end = today_bounds()
        if self.value() == "heute":
            return queryset.filter(interview_at__gte=start, interview_at__lt=end)
        if self.value() == "woche":
            return queryset.filter(interview_at__gte=now, interview_at__lt=end + timezone.timedelta(days=7))
        if self.value() == "vergangen":
            return queryset.filter(interview_at__lt=now)
        return queryset


def photo_cutoff():
    """Pick-up photos uploaded from this moment on are current: the first instant of the local day
    `photo_validity_months()` ago (a range bound instead of a per-row __date conversion)."""
    day = add_months(timezone.localdate(), -photo_validity_months())
    return timezone.make_aware(datetime.combine(day, time.min))


def with_care_counts(queryset):
    """Counts for the Notfalldaten column: contacts, pick-up persons, pick-up persons with a current photo.
    Meant for one page of rows (attach_care_counts): over a whole list the joins group every row."""
    return queryset.annotate(
        n_emergency=Count("emergency_contacts", distinct=True),
        n_pickup=Count("pickup_persons", distinct=True),
        n_pickup_current=Count("pickup_persons", distinct=True,
                               filter=Q(pickup_persons__photo_uploaded_at__gte=photo_cutoff())),
    )


def attach_care_counts(rows):
    """Sets n_emergency, n_pickup and n_pickup_current on `rows` (one page) with one query over their ids."""
    counts = {pk: rest for pk, *rest in with_care_counts(Enrollment.objects.filter(pk__in=[r.pk for r in rows]))
              .values_list("pk", "n_emergency", "n_pickup", "n_pickup_current")}
    for row in rows:
        row.n_emergency, row.n_pickup, row.n_pickup_current = counts.get(row.pk, (0, 0, 0))
    return rows


def care_complete_q():
    """Enrollments with an emergency contact and pick-up persons whose photos are all current (EXISTS, no GROUP BY)."""
    mine = {"enrollment": OuterRef("pk")}
    return (Q(Exists(EmergencyContact.objects.filter(**mine))) & Q(Exists(PickupPerson.objects.filter(**mine)))
            & ~Q(Exists(PickupPerson.objects.filter(Q(photo_uploaded_at__isnull=True)
                                                   | Q(photo_uploaded_at__lt=photo_cutoff()), **mine))))


class CareFilter(SimpleListFilter):
    title = _("Notfallkontakt/Abholberechtigte")
    parameter_name = "notfall"

    def lookups(self, request, model_admin):
        return [("fehlt", _("unvollständig (Minderjährige mit Angebot oder Vertrag)"))]

    def queryset(self, request, queryset):
        if self.value() != "fehlt":
            return queryset
        return queryset.filter(status__in=CARE_STATUSES, participant__date_of_birth__gt=MinorFilter.cutoff()).exclude(
            care_complete_q())


# Seconds after which a page showing a document "wird erstellt …" loads again (a Refresh header:
# no script, nothing the CSP has to allow).
REFRESH_SECONDS = 5


class EnrollmentInspectView(InspectView):
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if getattr(self, "documents_pending", False):
            response["Refresh"] = str(REFRESH_SECONDS)  # re-check until its PDFs are rendered
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        enrollment = self.instance
        audit.record(audit.A.PERSON_VIEWED, request=self.request, obj=enrollment,
                     person=enrollment.participant if enrollment.participant_id else None)
        labels = {**dict(ApplicationSection.choices), **QUESTION_SECTION_LABELS}
        stored = {s.section: s for s in enrollment.sections.all()}
        questions = enrollment.question_definitions
        documents = list(enrollment.documents.all())
        self.documents_pending = any(document.is_pending for document in documents)
        context.update(
            actions=admin_views.available_actions(enrollment, self.request.user),
            fee=enrollment.computed_fee(),
            care_required=care_required(enrollment),
            care_missing=outstanding_care(enrollment),
            emergency_contacts=enrollment.emergency_contacts.all(),
            pickup_persons=enrollment.pickup_persons.all(),
            documents=documents,
            proof_documents=enrollment.documents.filter(kind=Document.Kind.PROOF, superseded=False)
            .filter(deposited_at__gte=enrollment.proof_requested_at) if enrollment.proof_requested_at else [],
            fee_history=fee_history(enrollment),
            sections=[{"label": labels.get(code, code), "complete": bool(stored.get(code) and stored[code].is_complete),
                       "rows": section_rows(code, stored[code].data if code in stored else {}, questions=questions)}
                      for code in enrollment.required_sections()] if enrollment.participant_id else [],
        )
        return context


# What a list row (and the export) shows of the related rows, and the institution's groups its buttons check;
# the offer page's other columns (StreamField body, SEO fields ...) stay in the database.
ROW_RELATED_FIELDS = ("participant__first_name", "participant__last_name", "participant__date_of_birth",
                      "participant__customer_number", "offer__title", "institution__name", "institution__operator_id",
                      "institution__staff_group_id", "institution__lead_group_id", "account_holder__email")


class PageByKeysPaginator(WagtailPaginator):
    """A page in two steps: the page's keys (only the columns filter and order read, an index can cover them),
    then its rows with their related rows for those keys only. One query fetching whole joined rows made the
    database join and sort every matching row before it could cut the page out. The count is given (the
    list counts once).

    Few matches among many rows (a filter such as "Notfalldaten fehlt"): walking the order's index until a
    page is found reads about `of_all * top / count` rows, every row when nothing matches. Then the matches
    are found first, by the filter's own index, and only they are sorted: `pk IN (matches) ORDER BY ...`.
    The same order and rows either way; the database still does the sorting. Not for a search (`searched`):
    its LIKE over names and mails reads every row to find the matches, the walk at least stops at the page."""

    def __init__(self, object_list, per_page, *, count, of_all=None, searched=False):
        super().__init__(object_list, per_page)
        self.__dict__["count"] = count  # Paginator.count is a cached_property
        self.of_all = count if of_all is None else of_all
        self.searched = searched

    def matches_first(self, top):
        """Sort the matches (about `count` rows) rather than walk the order until `top` of them are found."""
        return (not self.searched and self.count * self.count < self.of_all * top
                and not self.object_list.query.annotations)

    def keys(self, bottom, top):
        queryset = self.object_list
        if not self.count:
            return []
        if self.matches_first(top):
            ordering = queryset.query.order_by or queryset.model._meta.ordering
            queryset = queryset.model._base_manager.filter(pk__in=queryset.order_by().values("pk")).order_by(
                *ordering)
        return list(queryset.values_list("pk", flat=True)[bottom:top])

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        keys = self.keys(bottom, bottom + self.per_page)
        # Unordered: by the keys (the order would make the database read the list's index instead).
        rows = {row.pk: row for row in self.object_list.filter(pk__in=keys).order_by()} if keys else {}
        return self._get_page([rows[key] for key in keys if key in rows], number, self)


class EnrollmentIndexView(SafeSpreadsheetExportMixin, IndexView):
    _queryset = None

    def get_queryset(self, request=None):
        # modeladmin builds the filtered queryset twice per request (dispatch and get_context_data), each
        # time running every filter's lookups: once is enough.
        if self._queryset is None:
            self._queryset = super().get_queryset(request)
        return self._queryset

    def _filtered(self):
        return bool(self.query) or any(spec.used_parameters for spec in self.filter_specs)

    def get_context_data(self, **kwargs):
        # IndexView.get_context_data, counting once: modeladmin counts the list for "x von y", again for the
        # paginator, and the unfiltered list a third time (at 50,000 enrollments each a scan).
        queryset = self.get_queryset()
        result_count = queryset.count()
        all_count = self.get_base_queryset().count() if self._filtered() else result_count
        paginator = PageByKeysPaginator(queryset, self.items_per_page, count=result_count, of_all=all_count,
                                        searched=bool(self.query))
        try:
            page_obj = paginator.page(self.page_num)
        except InvalidPage:
            page_obj = paginator.page(1)
        page_obj.object_list = attach_care_counts(list(page_obj.object_list))
        if all_count:
            kwargs.setdefault("enrollment_table", self.render_table(page_obj.object_list))
        context = {
            "view": self,
            "all_count": all_count,
            "result_count": result_count,
            "paginator": paginator,
            "page_obj": page_obj,
            "elided_page_range": paginator.get_elided_page_range(self.page_num),
            "object_list": page_obj.object_list,
            "user_can_create": self.permission_helper.user_can_create(self.request.user),
            "show_search": self.search_handler.show_search_form,
            **kwargs,
        }
        return super(IndexView, self).get_context_data(**context)

    def render_table(self, rows):
        """modeladmin's {% result_list %} (the same HTML), its rows written by list_rows.render_rows."""
        return render_table(self, rows, self.request)

    def as_spreadsheet(self, queryset, spreadsheet_format):
        """A CSV/XLSX export carries personal data out of WorkPro: who took which list is audited."""
        audit.record(audit.A.DATA_EXPORTED, request=self.request, object_type="workpro_plugin.enrollment",
                     detail={"format": spreadsheet_format, "rows": queryset.count(),
                             "filters": {k: v for k, v in self.request.GET.items() if k != "export"}})
        return super().as_spreadsheet(with_question_sections(queryset), spreadsheet_format)


@functools.lru_cache(maxsize=64)
def _status_badge(status: str, language: str | None):
    """A status's badge in `language` (the active one): written once, not for each of a page's rows."""
    return format_html('<span class="w-status w-status--primary">{}</span>', STATUS_LABELS.get(status, status))


class EnrollmentAdmin(ModelAdmin):
    model = Enrollment
    menu_label = _("Anmeldungen")
    menu_icon = "form"
    menu_order = 100
    permission_helper_class = EnrollmentPermissionHelper
    inspect_view_enabled = True
    inspect_view_class = EnrollmentInspectView
    inspect_template_name = "workpro_plugin/admin/enrollment_inspect.html"
    index_template_name = "workpro_plugin/admin/enrollment_index.html"
    index_view_class = EnrollmentIndexView
    button_helper_class = RowButtonHelper  # 50 rows: each button's texts built once, its URL reversed once
    list_display = ("contract_number", "participant_name", "offer", "institution", "status_badge", "deadline",
                    "care_state", "created_at")
    # Institutions: only those whose enrollments the user sees (never the names of all of them).
    list_filter = ("status", OfferFilter, ("institution", InstitutionFilter), DeadlineFilter, MinorFilter,
                   InterviewFilter, CareFilter)
    search_fields = ("contract_number", "participant__last_name", "participant__first_name",
                     "participant__customer_number", "participant__email", "account_holder__email")
    list_export = ("contract_number", "participant_name", "customer_number", "offer", "institution", "status_label",
                   "account_holder_email", "created_at", "contract_start", "contract_end", "costs", "question_answers")
    export_filename = "anmeldungen"
    list_per_page = 50
    ordering = ("-created_at",)

    def get_queryset(self, request):
        own_fields = [f.name for f in Enrollment._meta.concrete_fields]
        return staff_enrollments_by_ids(request).only(*own_fields, *ROW_RELATED_FIELDS)

    @admin_display(_("Notfalldaten"), None)
    def care_state(self, obj):
        """Only for minors with an offer or contract: complete, or what is missing (in words, not colour)."""
        participant = obj.participant
        if obj.status not in CARE_STATUSES or participant is None or participant.date_of_birth is None \
                or participant.date_of_birth <= MinorFilter.cutoff():
            return "–"
        if obj.n_emergency and obj.n_pickup and obj.n_pickup_current == obj.n_pickup:
            return format_html('<span class="w-status w-status--primary">{}</span>', _("vollständig"))
        return format_html('<span class="w-status w-status--critical">{}</span>', _("fehlt"))

    @admin_display(_("Teilnehmer"), "participant__last_name")
    def participant_name(self, obj):
        return obj.participant.full_name if obj.participant_id else "–"

    @admin_display(_("Status"), "status")
    def status_badge(self, obj):
        return _status_badge(obj.status, translation.get_language())

    @admin_display(_("Status"), "status")
    def status_label(self, obj):
        return obj.get_status_display()

    @admin_display(_("Frist"), None)
    def deadline(self, obj):
        value = obj.current_deadline
        if value is None:
            return "–"
        overdue = value < timezone.localdate()
        return format_html('<span class="{}">{}</span>', "w-text-critical-200" if overdue else "",
                           value.strftime("%d.%m.%Y"))

    @admin_display(_("Kundennummer"), None)
    def customer_number(self, obj):
        return obj.participant.customer_number if obj.participant_id else ""

    @admin_display(_("Fragen der Einrichtung"), None)
    def question_answers(self, obj):
        """The answers to the offer's own questions, with the labels they were given under."""
        questions = obj.questions  # answers exist only once the version is kept with the enrollment
        if not questions:
            return ""
        sections = {s.section: s.data for s in obj.sections.all() if s.section in QUESTION_SECTIONS}
        return answers_text(questions, sections)

    @admin_display(_("Kontoinhaber"), None)
    def account_holder_email(self, obj):
        return obj.account_holder.email if obj.account_holder_id else ""
