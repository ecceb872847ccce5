"""Documents a user may open in the portal."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from ..access import active_guardian_q
from ..models import Document, Enrollment
from .enrollments import PortalScope

# Documents a participant with an own login reads when someone else holds the contract: no
# application, offer or contract (they carry the guardians' income and signatures).
PARTICIPANT_DOCUMENT_KINDS = ("invitation", "decision", "upload", "other")


def portal_documents(user, today=None):
    """Every document `user` may open in the portal (superseded ones included; lists filter them)."""
    if user is None or not user.is_authenticated:
        return Document.objects.none()
    today = today or timezone.localdate()
    guardian_enrollments = Enrollment.objects.filter(active_guardian_q(user, today)).values("pk")
    own = Q(owner__user=user) & (Q(enrollment__isnull=True) | Q(kind__in=PARTICIPANT_DOCUMENT_KINDS)
                                 | Q(enrollment__account_holder=user))
    return (Document.objects.filter(Q(enrollment__account_holder=user) | Q(enrollment__in=guardian_enrollments) | own)
            .exclude(kind="chat_attachment", superseded=True))  # hidden by staff: gone for members


def portal_unread_documents(scope: PortalScope) -> int:
    """The documents of portal_documents that Mein Konto counts as new (current, never opened, not the
    user's own upload), selected by the PortalScope's ids rather than joins to the guardianships."""
    user = scope.user
    if user is None or not user.is_authenticated:
        return 0
    return unread_documents(scope).count()


def unread_documents(scope: PortalScope):
    """The documents portal_unread_documents counts (of an authenticated user's scope)."""
    user = scope.user
    visible = Q(enrollment__account_holder=user)
    if scope.ward_ids:
        visible |= Q(enrollment__participant_id__in=scope.ward_ids)
    if scope.person is not None:
        visible |= Q(owner_id=scope.person.pk) & (Q(enrollment__isnull=True) | Q(kind__in=PARTICIPANT_DOCUMENT_KINDS)
                                                  | Q(enrollment__account_holder=user))
    return (Document.objects.filter(visible, superseded=False, first_opened_at__isnull=True)
            .exclude(uploaded_by=user).order_by())
