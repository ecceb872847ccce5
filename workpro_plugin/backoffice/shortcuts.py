"""The admin face's one way to fetch the object a URL names: from what the staff user may see, or a 404.

An id outside the user's institutions is a 404, never a 403: staff do not learn that the row
exists. Whether the user may *act* on the object found (a 403) is the view's next check.
"""

from __future__ import annotations

from django.http import Http404

from ..selectors.chat import staff_conversations
from ..selectors.enrollments import staff_enrollments
from ..services import audit


def staff_object_or_404(queryset, pk, *, request=None, object_type: str = ""):
    """The row `pk` of `queryset` (already narrowed to the user's institutions); else a 404.

    A `pk` that is no valid id (text, too large) is a 404 too. With `request`, the refusal is
    recorded as an audit denial of `object_type`.
    """
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        if request is not None:
            audit.denied(request, object_type=object_type, object_id=pk)
        raise Http404 from exc


def staff_enrollment_or_404(user, pk, *, request=None):
    """An enrollment of the user's institutions; with `request`, a miss is recorded as an audit denial."""
    return staff_object_or_404(staff_enrollments(user), pk, request=request,
                               object_type="workpro_plugin.enrollment")


def staff_conversation_or_404(user, pk):
    """A conversation of the user's institutions, with what the thread view needs."""
    return staff_object_or_404(staff_conversations(user).select_related(
        "enrollment__account_holder__workpro_person", "institution__site"), pk)
