"""Admin wiring only: menu items, modeladmin registration, admin URLs, dashboard panel."""

from django.contrib.admin import RelatedOnlyFieldListFilter, SimpleListFilter
from django.db import models
from django.db.models import Count, Q
from django.urls import include, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from laces.components import Component
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.snippets.models import register_snippet
from wagtail.utils.urlpatterns import decorate_urlpatterns
from wagtail_modeladmin.options import ModelAdmin, ModelAdminGroup, modeladmin_register
from wagtail_modeladmin.views import HistoryView, IndexView, InspectView

from .backoffice import addons as admin_addons
from .backoffice import app_assignments as admin_apps
from .backoffice import canned_replies as admin_canned
from .backoffice import fees as admin_fees
from .backoffice.export import SafeSpreadsheetExportMixin, with_safe_export
from .backoffice.helpers import ReadOnlyPermissionHelper, declared_params_only, declared_params_snippets
from .backoffice.views import enrollments as admin_views
from .backoffice.views import two_factor as views_2fa
from .models import AuditEvent, Enrollment, Institution, OfferPage, Operator, OutboxMessage, Person
from .portal.views import privacy as views_privacy
from .portal.views import registration
from .shared.audit import audit_denials
from .selectors.enrollments import overdue_q, staff_enrollments, today_bounds
from .selectors.institutions import staff_institutions
from .services import audit
from .services.documents import section_rows
from .services.minors import care_required, outstanding_care, years_before

S = Enrollment.Status


class InstitutionAdmin(ModelAdmin):
    model = Institution
    menu_label = _("Einrichtungen")
    menu_icon = "home"
    list_display = ("name", "kind", "site", "city", "staff_group", "lead_group")
    list_filter = ("kind", "operator")
    search_fields = ("name", "city", "email")


class OperatorAdmin(ModelAdmin):
    model = Operator
    menu_label = _("Träger")
    menu_icon = "group"
    list_display = ("name", "city", "email")
    search_fields = ("name",)


class ReadOnlyForSuperusers(ReadOnlyPermissionHelper):
    """The outbox is an operations log: superusers look, nobody edits."""

    def user_can_list(self, user):
        return user.is_superuser

    def user_can_inspect_obj(self, user, obj):
        return user.is_superuser


class OutboxAdmin(ModelAdmin):
    model = OutboxMessage
    menu_label = _("Ausgangsnachrichten")
    menu_icon = "mail"
    permission_helper_class = ReadOnlyForSuperusers
    inspect_view_enabled = True
    inspect_view_fields = ("channel", "recipient", "template", "subject", "state", "attempts", "last_error",
                           "created_at", "next_attempt_at", "sent_at", "institution")
    list_display = ("created_at", "channel", "recipient", "template", "state", "attempts")
    list_filter = ("state", "channel", "template")
    search_fields = ("recipient", "template", "subject")


class AuditEventAdmin(ModelAdmin):
    """Protokoll (Audit): superusers only, read-only; rows go after WORKPRO_AUDIT_RETENTION_DAYS."""

    model = AuditEvent
    menu_label = _("Protokoll (Audit)")
    menu_icon = "history"
    menu_order = 950
    permission_helper_class = ReadOnlyForSuperusers
    inspect_view_enabled = True
    inspect_view_fields = ("at", "action", "actor", "actor_label", "object_type", "object_id", "person", "ip",
                           "detail")
    list_display = ("at", "action", "actor_label", "object_type", "object_id", "person", "ip")
    list_filter = ("action", "at", "object_type")
    search_fields = ("actor_label", "object_id", "ip")
    list_per_page = 100

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("person")


def admin_display(description, ordering):
    def decorate(func):
        func.short_description = description
        if ordering:
            func.admin_order_field = ordering
        return func
    return decorate


# --- Anmeldungen ----------------------------------------------------------------------------

class EnrollmentPermissionHelper(ReadOnlyPermissionHelper):
    """Staff with the view permission see their institution's enrollments; changes go through actions."""

    def user_can_list(self, user):
        return user.is_superuser or (user.has_perm("workpro_plugin.view_enrollment")
                                     and staff_institutions(user).exists())

    def user_can_inspect_obj(self, user, obj):
        return obj.institution.staff_can(user, "view_enrollment")


class OfferFilter(SimpleListFilter):
    title = _("Angebot")
    parameter_name = "angebot"

    def lookups(self, request, model_admin):
        from .models import OfferPage

        # The offers below the institutions' sites: no scan over all enrollments.
        offers = OfferPage.objects.none()
        for institution in staff_institutions(request.user).select_related("site__root_page"):
            offers = offers | OfferPage.objects.descendant_of(institution.site.root_page)
        return list(offers.order_by("title").values_list("pk", "title"))

    def queryset(self, request, queryset):
        return queryset.filter(offer_id=self.value()) if self.value() else queryset


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


def with_care_counts(queryset):
    """Counts for the Notfalldaten column: contacts, pick-up persons, pick-up persons with a current photo."""
    from .models.care import add_months, photo_validity_months

    cutoff = add_months(timezone.localdate(), -photo_validity_months())
    return queryset.annotate(
        n_emergency=Count("emergency_contacts", distinct=True),
        n_pickup=Count("pickup_persons", distinct=True),
        n_pickup_current=Count("pickup_persons", distinct=True,
                               filter=Q(pickup_persons__photo_uploaded_at__date__gte=cutoff)),
    )


def _care_complete_q():
    return Q(n_emergency__gt=0, n_pickup__gt=0, n_pickup_current=models.F("n_pickup"))


class CareFilter(SimpleListFilter):
    title = _("Notfallkontakt/Abholberechtigte")
    parameter_name = "notfall"

    def lookups(self, request, model_admin):
        return [("fehlt", _("unvollständig (Minderjährige mit Angebot oder Vertrag)"))]

    def queryset(self, request, queryset):
        if self.value() != "fehlt":
            return queryset
        from .services.minors import CARE_STATUSES

        return queryset.filter(status__in=CARE_STATUSES, participant__date_of_birth__gt=MinorFilter.cutoff()).exclude(
            _care_complete_q())


class EnrollmentInspectView(InspectView):
    def get_context_data(self, **kwargs):
        from .models import ApplicationSection

        context = super().get_context_data(**kwargs)
        enrollment = self.instance
        audit.record(audit.A.PERSON_VIEWED, request=self.request, obj=enrollment,
                     person=enrollment.participant if enrollment.participant_id else None)
        labels = dict(ApplicationSection.choices)
        stored = {s.section: s for s in enrollment.sections.all()}
        context.update(
            actions=admin_views.available_actions(enrollment, self.request.user),
            fee=enrollment.computed_fee(),
            care_required=care_required(enrollment),
            care_missing=outstanding_care(enrollment),
            emergency_contacts=enrollment.emergency_contacts.all(),
            pickup_persons=enrollment.pickup_persons.all(),
            documents=enrollment.documents.all(),
            sections=[{"label": labels.get(code, code), "complete": bool(stored.get(code) and stored[code].is_complete),
                       "rows": section_rows(code, stored[code].data if code in stored else {})}
                      for code in enrollment.offer.specific.required_sections()] if enrollment.participant_id else [],
        )
        return context


class EnrollmentIndexView(SafeSpreadsheetExportMixin, IndexView):
    def as_spreadsheet(self, queryset, spreadsheet_format):
        """A CSV/XLSX export carries personal data out of WorkPro: who took which list is audited."""
        audit.record(audit.A.DATA_EXPORTED, request=self.request, object_type="workpro_plugin.enrollment",
                     detail={"format": spreadsheet_format, "rows": queryset.count(),
                             "filters": {k: v for k, v in self.request.GET.items() if k != "export"}})
        return super().as_spreadsheet(queryset, spreadsheet_format)


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
    list_display = ("contract_number", "participant_name", "offer", "institution", "status_badge", "deadline",
                    "care_state", "created_at")
    # Institutions: only those whose enrollments the user sees (never the names of all of them).
    list_filter = ("status", OfferFilter, ("institution", RelatedOnlyFieldListFilter), DeadlineFilter, MinorFilter,
                   InterviewFilter, CareFilter)
    search_fields = ("contract_number", "participant__last_name", "participant__first_name",
                     "participant__customer_number", "participant__email", "account_holder__email")
    list_export = ("contract_number", "participant_name", "customer_number", "offer", "institution", "status_label",
                   "account_holder_email", "created_at", "contract_start", "contract_end", "costs")
    export_filename = "anmeldungen"
    list_per_page = 50
    ordering = ("-created_at",)

    def get_queryset(self, request):
        return with_care_counts(staff_enrollments(request.user))

    @admin_display(_("Notfalldaten"), None)
    def care_state(self, obj):
        """Only for minors with an offer or contract: complete, or what is missing (in words, not colour)."""
        from .services.minors import CARE_STATUSES

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
        return format_html('<span class="w-status w-status--primary">{}</span>', obj.get_status_display())

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

    @admin_display(_("Kontoinhaber"), None)
    def account_holder_email(self, obj):
        return obj.account_holder.email if obj.account_holder_id else ""


class PersonPermissionHelper(ReadOnlyPermissionHelper):
    def user_can_list(self, user):
        return user.is_superuser or (user.has_perm("workpro_plugin.view_person") and staff_institutions(user).exists())

    def user_can_inspect_obj(self, user, obj):
        return user.is_superuser or PersonAdmin.scoped(user).filter(pk=obj.pk).exists()


class PersonInspectView(InspectView):
    def get_context_data(self, **kwargs):
        audit.record(audit.A.PERSON_VIEWED, request=self.request, obj=self.instance, person=self.instance)
        from .services.privacy import consents_for, privacy_log_for, staff_may_export

        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(may_export=staff_may_export(user, self.instance),
                       consents=consents_for(user, self.instance),
                       privacy_log=privacy_log_for(user, self.instance))
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
        institutions = staff_institutions(user)
        return Person.objects.filter(Q(enrollments__institution__in=institutions)
                                     | Q(user__workpro_enrollments__institution__in=institutions)).distinct()

    def get_queryset(self, request):
        return self.scoped(request.user)


register_snippet(declared_params_snippets(admin_fees.FeeScheduleViewSet))


class ScopedHistoryView(HistoryView):
    """Wagtail's modeladmin history checks no permission at all, and its title is the object's
    name (a participant's, a recipient's): only who may inspect or edit the object sees it."""

    def check_action_permitted(self, user):
        helper = self.permission_helper
        return helper.user_can_inspect_obj(user, self.instance) or helper.user_can_edit_obj(user, self.instance)


class WorkProAdminGroup(ModelAdminGroup):
    menu_label = _("WorkPro")
    menu_icon = "clipboard-list"
    menu_order = 200
    items = (EnrollmentAdmin, PersonAdmin, InstitutionAdmin, OperatorAdmin, OutboxAdmin,
             admin_addons.AddonBookingAdmin, admin_apps.AppAdmin, admin_canned.CannedReplyAdmin, AuditEventAdmin)

    def get_admin_urls_for_registration(self):
        return decorate_urlpatterns(list(super().get_admin_urls_for_registration()), audit_denials)

    def get_submenu_items(self):
        items = super().get_submenu_items()
        items.append(MenuItem(_("Gebührenordnungen"), reverse("wagtailsnippets_workpro_plugin_feeschedule:list"),
                              icon_name="table", order=900))
        return items


for _model_admin in WorkProAdminGroup.items:  # every WorkPro model, also those added later
    _model_admin.history_view_class = ScopedHistoryView
    _model_admin.index_view_class = with_safe_export(_model_admin.index_view_class)  # no formulas in exports
    _model_admin.index_view_class = declared_params_only(_model_admin.index_view_class)
modeladmin_register(WorkProAdminGroup)


@hooks.register("register_admin_urls")
def register_workpro_admin_urls():
    urls = [
        path("anmeldung/<int:pk>/vorschau-angebot/", admin_views.offer_preview, name="offer_preview"),
        path("anmeldung/<int:pk>/<slug:action>/", admin_views.enrollment_action, name="enrollment_action"),
        path("anmeldungen/einladen/", admin_views.bulk_invite, name="bulk_invite"),
        path("anmeldungen/entscheiden/", admin_views.bulk_decide, name="bulk_decide"),
        *admin_addons.admin_urls,
        *admin_apps.admin_urls,
        path("zwei-faktor/", views_2fa.two_factor_manage, name="two_factor"),
        path("zwei-faktor/einrichten/", views_2fa.two_factor_setup, name="two_factor_setup"),
        path("zwei-faktor/code/", views_2fa.two_factor_verify, name="two_factor_verify"),
        path("zwei-faktor/link-anfordern/", views_2fa.two_factor_link_request, name="two_factor_link_request"),
        path("zwei-faktor/link/<str:token>/", views_2fa.two_factor_link, name="two_factor_link"),
        path("zwei-faktor/wiederherstellungscodes/", views_2fa.two_factor_recovery, name="two_factor_recovery"),
        path("zwei-faktor/mitarbeiter/", views_2fa.two_factor_staff, name="two_factor_staff"),
        path("zwei-faktor/mitarbeiter/<int:pk>/link/", views_2fa.two_factor_staff_link, name="two_factor_staff_link"),
        path("person/<int:pk>/daten-export/", views_privacy.admin_person_export, name="person_export"),
    ]
    return [path("workpro/", include((decorate_urlpatterns(urls, audit_denials), "workpro_admin"),
                                     namespace="workpro_admin"))]


class EnrollmentDashboardPanel(Component):
    """Counts per status, overdue deadlines and today's interviews of the user's institutions."""

    name = "workpro_enrollments"
    template_name = "workpro_plugin/admin/dashboard_panel.html"
    order = 50

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context):
        from .models import AddonBooking
        from .selectors.chat import staff_conversations

        enrollments = staff_enrollments(self.user).order_by()
        today = timezone.localdate()
        counts = dict(enrollments.values_list("status").annotate(n=Count("pk")))
        start, end = today_bounds()
        return {
            "counts": [(status, label, counts.get(status, 0)) for status, label in S.choices if status in counts],
            "overdue": enrollments.filter(overdue_q(today)).count(),
            "interviews": enrollments.filter(interview_at__gte=start, interview_at__lt=end,
                                             status=S.EINGELADEN).order_by("interview_at"),
            "list_url": reverse("workpro_plugin_enrollment_modeladmin_index"),
            # What waits for staff besides enrollments: questions without an answer, add-ons to decide.
            "unanswered": staff_conversations(self.user).order_by().filter(last_message_from_staff=False).count(),
            "unanswered_url": reverse("workpro_chat:inbox") + "?status=unbeantwortet",
            "bookings_requested": AddonBooking.objects.filter(
                enrollment__in=enrollments, status=AddonBooking.Status.REQUESTED).count(),
            "bookings_url": reverse("workpro_plugin_addonbooking_modeladmin_index")
            + f"?status__exact={AddonBooking.Status.REQUESTED}",
        }


@hooks.register("construct_homepage_panels")
def add_enrollment_panel(request, panels):
    if request.user.is_superuser or staff_institutions(request.user).exists():
        panels.insert(0, EnrollmentDashboardPanel(request.user))


# --- Nachrichten (chat) -----------------------------------------------------------------------

class ChatMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.is_superuser or staff_institutions(request.user).exists()


@hooks.register("register_admin_urls")
def register_chat_admin_urls():
    from .backoffice.views import chat as admin_views_chat

    return [path("workpro/nachrichten/", include((admin_views_chat.urls, "workpro_chat"), namespace="workpro_chat"))]


@hooks.register("register_admin_menu_item")
def register_chat_menu_item():
    return ChatMenuItem(_("Nachrichten"), reverse("workpro_chat:inbox"), icon_name="mail", order=199)


hooks.register("register_account_menu_item", views_2fa.account_menu_item)


@hooks.register("before_serve_page")
def offer_registration(page, request, serve_args, serve_kwargs):
    """POST on an offer page by an anonymous visitor is "Registrieren" (portal.views.registration)."""
    if isinstance(page, OfferPage) and request.method == "POST" and not request.user.is_authenticated:
        return registration.register(request, page, *serve_args, **serve_kwargs)
    return None
