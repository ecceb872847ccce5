"""The WorkPro panel on the Wagtail dashboard."""

from __future__ import annotations

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from laces.components import Component

from ..models import AddonBooking, Enrollment
from ..selectors.chat import staff_conversations
from ..selectors.enrollments import overdue_q, staff_enrollments, today_bounds
from ..selectors.institutions import is_staff_anywhere

S = Enrollment.Status


class EnrollmentDashboardPanel(Component):
    """Counts per status, overdue deadlines and today's interviews of the user's institutions."""

    name = "workpro_enrollments"
    template_name = "workpro_plugin/admin/dashboard_panel.html"
    order = 50

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context):
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


def add_enrollment_panel(request, panels):
    """The construct_homepage_panels hook: the panel for superusers and staff of an institution."""
    if is_staff_anywhere(request.user):
        panels.insert(0, EnrollmentDashboardPanel(request.user))
