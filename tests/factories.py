"""Small builders for enrollment tests (no demo data)."""

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.utils import timezone

from workpro_plugin.models import Document, Enrollment, EnrollmentSection, Guardian, OfferSection, Person

S = Enrollment.Status


def make_user(email: str, *, person: bool = True, groups=(), superuser: bool = False, **person_fields):
    user = get_user_model().objects.create(username=email, email=email, is_superuser=superuser,
                                           is_staff=superuser)
    for group in groups:
        user.groups.add(group if isinstance(group, Group) else Group.objects.get(name=group))
    if person:
        defaults = {"last_name": "Muster", "first_name": email.split("@")[0].title(),
                    "date_of_birth": date(1985, 1, 1)}
        defaults.update(person_fields)
        Person.objects.create(user=user, email=email, **defaults)
    return user


def make_child(guardian_user, **fields) -> Person:
    defaults = {"last_name": "Muster", "first_name": "Kind", "date_of_birth": timezone.localdate() - timedelta(days=3 * 365)}
    defaults.update(fields)
    child = Person.objects.create(**defaults)
    Guardian.objects.create(participant=child, guardian=guardian_user.workpro_person, is_primary=True,
                            relation="mutter")
    return child


def require_sections(offer, plan=(("income", 2),)):
    for section, phase in plan:
        OfferSection.objects.create(page=offer, section=section, phase=phase)


def complete_sections(enrollment: Enrollment, phase: int, income=None):
    for section in enrollment.offer.specific.required_sections(phase=phase):
        data = {"done": True}
        if section == "income":
            data = {"earners": [{"name": "Mutter", "annual_income": str(income or 30000)}]}
        EnrollmentSection.objects.update_or_create(enrollment=enrollment, section=section,
                                                   defaults={"data": data, "is_complete": True})


def mark_printed(enrollment: Enrollment):
    Enrollment.objects.filter(pk=enrollment.pk).update(printed_fingerprint=enrollment.data_fingerprint())


def pdf_bytes(pages: int = 1) -> bytes:
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def add_signed_copy(enrollment: Enrollment):
    Document.objects.create(enrollment=enrollment, kind="signed_contract", title="Unterschrift",
                            file=ContentFile(pdf_bytes(), name="signed.pdf"))


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
