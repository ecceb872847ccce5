"""Applications on a Wunschliste, ready for an allocation round."""

from tests.factories.enrollments import enrollment_in
from workpro_plugin.models import Enrollment


def wish(offer, holder, child, rank, *, status=Enrollment.Status.BEWERBER, lottery=None, **fields):
    """The child's `rank`. Wunsch for `offer`: a submitted application (Bewerber) with a fixed lottery number."""
    enrollment = enrollment_in(status, offer=offer, institution=offer.get_institution(), holder=holder,
                               participant=child)
    Enrollment.objects.filter(pk=enrollment.pk).update(wish_rank=rank, lottery_number=lottery, **fields)
    enrollment.refresh_from_db()
    return enrollment
