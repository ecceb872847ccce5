"""Enrollments in any status, with the sections, print and signed copy their next step needs."""

from datetime import timedelta

from django.utils import timezone

from tests.factories.documents import add_signed_copy
from workpro_plugin.models import Enrollment, EnrollmentSection

S = Enrollment.Status


def complete_sections(enrollment: Enrollment, phase: int, income=None):
    for section in enrollment.required_sections(phase=phase):
        data = {"done": True}
        if section == "income":
            data = {"earners": [{"name": "Mutter", "annual_income": str(income or 30000)}]}
        EnrollmentSection.objects.update_or_create(enrollment=enrollment, section=section,
                                                   defaults={"data": data, "is_complete": True})


def mark_printed(enrollment: Enrollment):
    Enrollment.objects.filter(pk=enrollment.pk).update(printed_fingerprint=enrollment.data_fingerprint())


def enrollment_in(status: str, *, offer, institution, holder, participant=None, for_transition: str = "") -> Enrollment:
    """An enrollment in `status` whose guards for the next step are met."""
    participant = participant or holder.workpro_person
    today = timezone.localdate()
    enrollment = Enrollment.objects.create(
        offer=offer, institution=institution, account_holder=holder, participant=participant, status=status,
        contract_number=None,
        interview_at=timezone.now() + timedelta(days=2) if status == S.EINGELADEN else None,
        interview_place="Raum 1" if status == S.EINGELADEN else "",
        costs=100 if status in (S.ANGEBOT, S.ANGENOMMEN, S.RATIFIZIERT) else None,
        contract_start=today + timedelta(days=30) if status in (S.ANGEBOT, S.ANGENOMMEN) else None,
        contract_end=today + timedelta(days=400) if status in (S.ANGEBOT, S.ANGENOMMEN) else None,
        signed_copy_deadline=(today - timedelta(days=1) if for_transition == "expire" else today + timedelta(days=7))
        if status == S.ANGEBOT else None,
    )
    complete_sections(enrollment, phase=2 if status == S.KANDIDAT else 1)
    mark_printed(enrollment)
    if status in (S.ANGEBOT, S.ANGENOMMEN):
        add_signed_copy(enrollment)
    enrollment.refresh_from_db()
    return enrollment
