"""Documents a user may open in the portal."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from ..access import active_guardian_q
from ..models import Document, Enrollment

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
