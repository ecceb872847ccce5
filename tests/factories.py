"""Small builders for enrollment tests (no demo data)."""

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.utils import timezone

from workpro_plugin.models import Document, Enrollment, EnrollmentSection, Guardian, OfferSection, Person

S = Enrollment.Status


def make_institution(slug="kita", hostname=None, name=None):
    """A small institution tree: operator, homepage, site, offer index, staff groups."""
    from wagtail.models import Page, Site

    from home.models import HomePage
    from workpro_plugin.models import Institution, OfferIndexPage, Operator
    from workpro_plugin.services.institutions import ensure_staff_groups

    operator, _ = Operator.objects.get_or_create(name="Träger GmbH")
    root = Page.get_first_root_node()
    home = HomePage(title=name or slug.title(), slug=slug)
    root.add_child(instance=home)
    site = Site.objects.create(
        hostname=hostname or f"{slug}.test", port=80, root_page=home,
        is_default_site=not Site.objects.filter(is_default_site=True).exists(),
    )
    index = OfferIndexPage(title="Angebote", slug="angebote")
    home.add_child(instance=index)
    institution = Institution.objects.create(operator=operator, site=site, name=name or slug.title(), slug=slug)
    return ensure_staff_groups(institution)


def make_offer(institution, title="Krippenplatz", **fields):
    from workpro_plugin.models import OfferIndexPage, OfferPage

    index = OfferIndexPage.objects.descendant_of(institution.site.root_page).get()
    fields.setdefault("category", "betreuung")
    fields.setdefault("teaser", f"Kurzbeschreibung {title}")
    offer = OfferPage(title=title, **fields)
    index.add_child(instance=offer)
    return offer


def make_world():
    """Two institutions, an offer, its staff, a holder, a stranger and a superuser (the `world` fixture)."""
    from types import SimpleNamespace

    kita = make_institution("kita", hostname="kita.test")
    other = make_institution("bbz", hostname="bbz.test")
    offer = make_offer(kita, "Krippenplatz", capacity=10)
    require_sections(offer)
    return SimpleNamespace(
        kita=kita, other=other, offer=offer,
        holder=make_user("eltern@example.org"),
        staff=make_user("leitung@kita.test", person=False, groups=[kita.lead_group]),
        caseworker=make_user("sachbearbeitung@kita.test", person=False, groups=[kita.staff_group]),
        other_staff=make_user("leitung@bbz.test", person=False, groups=[other.lead_group]),
        stranger=make_user("fremd@example.org"),
        superuser=make_user("admin@example.org", person=False, superuser=True),
    )


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


def two_factor_link(user) -> str:
    """The path of the newest enrolment link mailed to `user` (read from the outbox, as the mailbox would)."""
    from workpro_plugin.models import OutboxMessage

    message = OutboxMessage.objects.filter(recipient=user.email, template="two_factor_enrolment").latest("pk")
    return message.context["link_path"]


def open_two_factor_enrolment(client, user, **extra):
    """Mail `user` an enrolment link and open it in `client` (logged in as `user`): returns the device
    whose first code confirms it."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from workpro_plugin.services import two_factor

    two_factor.enrolment_request(user=user, by=user)
    response = client.post(two_factor_link(user), **extra)
    assert response.status_code == 302, response.status_code
    return TOTPDevice.objects.get(user=user, confirmed=False)
