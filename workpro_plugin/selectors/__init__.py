"""Read queries, each owning its joins."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db.models import Q
from django.http import HttpRequest
from django.utils import translation
from wagtail.models import Site

from ..models import HelpPage, Institution, OfferIndexPage

CONTENT_GENERATION_KEY = "workpro:content-generation"


@dataclass(frozen=True)
class SiteNav:
    """What every page of an institution site shows in its header and footer."""

    institution: Institution | None
    offers_url: str | None
    help_url: str | None


def institution_for_site(site: Site | None) -> Institution | None:
    if site is None:
        return None
    return (
        Institution.objects.select_related("operator", "logo", "site").filter(site=site).first()
    )


def site_page_of_type(site: Site | None, page_model):
    """The first live page of `page_model` inside `site`, or None."""
    if site is None:
        return None
    return (
        page_model.objects.live()
        .descendant_of(site.root_page, inclusive=True)
        .order_by("path")
        .first()
    )


def offer_index_for_site(site: Site | None) -> OfferIndexPage | None:
    return site_page_of_type(site, OfferIndexPage)


def help_page_for_site(site: Site | None) -> HelpPage | None:
    return site_page_of_type(site, HelpPage)


def invalidate_public_content() -> None:
    """Called when pages, institutions or enrollments change: cached public content is stale."""
    try:
        cache.incr(CONTENT_GENERATION_KEY)
    except ValueError:
        cache.set(CONTENT_GENERATION_KEY, 1, None)


def content_generation() -> int:
    return cache.get_or_set(CONTENT_GENERATION_KEY, 1, None)


def site_nav(site: Site | None) -> SiteNav:
    """Header data of a site, cached per site and language until pages change."""
    if site is None:
        return SiteNav(None, None, None)
    key = f"workpro:site-nav:{content_generation()}:{site.pk}:{translation.get_language()}"
    nav = cache.get(key)
    if nav is None:
        offer_index = offer_index_for_site(site)
        help_page = help_page_for_site(site)
        nav = SiteNav(
            institution=institution_for_site(site),
            offers_url=offer_index.relative_url(site) if offer_index else None,
            help_url=help_page.relative_url(site) if help_page else None,
        )
        cache.set(key, nav, 60 * 60)
    return nav


def site_nav_for_request(request: HttpRequest) -> SiteNav:
    if not hasattr(request, "_workpro_site_nav"):
        request._workpro_site_nav = site_nav(Site.find_for_request(request))
    return request._workpro_site_nav


def institution_for_request(request: HttpRequest) -> Institution | None:
    """The institution whose site serves this request."""
    return site_nav_for_request(request).institution


def staff_institutions(user):
    """The institutions whose enrollments `user` processes (all for superusers)."""
    from django.db.models import Q

    if user is None or not user.is_authenticated:
        return Institution.objects.none()
    if user.is_superuser:
        return Institution.objects.all()
    groups = user.groups.all()
    return Institution.objects.filter(Q(staff_group__in=groups) | Q(lead_group__in=groups)).distinct()


def choosable_fee_schedules(user):
    """Fee schedules `user` may see and choose for an offer: those of the user's institutions and the
    shared ones (no institution); all for superusers, none for admin users without an institution."""
    from django.db.models import Q

    from ..models import FeeSchedule

    if user is not None and user.is_authenticated and user.is_superuser:
        return FeeSchedule.objects.all()
    institutions = staff_institutions(user)
    if not institutions.exists():
        return FeeSchedule.objects.none()
    return FeeSchedule.objects.filter(Q(institution__in=institutions) | Q(institution__isnull=True))


def editable_fee_schedules(user):
    """Fee schedules `user` may manage (with the model permissions): only those of the user's institutions;
    a shared schedule applies to every institution, so only superusers change it."""
    from ..models import FeeSchedule

    if user is not None and user.is_authenticated and user.is_superuser:
        return FeeSchedule.objects.all()
    return FeeSchedule.objects.filter(institution__in=staff_institutions(user))


def staff_enrollments(user):
    """Enrollments in the user's institutions, with what list and export show."""
    from ..models import Enrollment

    return Enrollment.objects.filter(institution__in=staff_institutions(user)).select_related(
        "participant", "offer", "institution", "account_holder")


def overdue_q(today):
    """Enrollments with a passed deadline: an unsigned offer, or requested proof of income not received."""
    from django.db.models import Q

    from ..models import OPEN_STATUSES, EnrollmentStatus

    return (Q(status=EnrollmentStatus.ANGEBOT, signed_copy_deadline__lt=today)
            | Q(proof_deadline__lt=today, proof_received_at__isnull=True, status__in=OPEN_STATUSES))


def today_bounds():
    """Start and end of the current local day, for "today's interviews"."""
    from datetime import timedelta

    from django.utils import timezone

    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


# --- portal access: who may see what in "Mein Konto" ------------------------------------------

class PortalRole:
    """How a portal user relates to an enrollment.

    HOLDER manages the contract (the account holder: an adult participant or the PSB1 of
    a minor). PARTICIPANT is a participant with an own login who is not the holder: apps,
    messages and their own documents, no contract actions. GUARDIAN is a former PSB1 in
    the 30 days after the participant came of age: reading only.
    """

    HOLDER = "holder"
    PARTICIPANT = "participant"
    GUARDIAN = "guardian"


def _active_guardian_q(user, today, prefix: str = "participant__"):
    from django.db.models import Q

    return (Q(**{f"{prefix}guardianships__guardian__user": user})
            & (Q(**{f"{prefix}guardianships__access_ends_on__isnull": True})
               | Q(**{f"{prefix}guardianships__access_ends_on__gte": today})))


def portal_enrollments(user, today=None):
    """Every enrollment `user` may see in the portal, whatever the role."""
    from django.db.models import Q
    from django.utils import timezone

    from ..models import Enrollment

    if user is None or not user.is_authenticated:
        return Enrollment.objects.none()
    today = today or timezone.localdate()
    visible = Q(account_holder=user) | Q(participant__user=user) | _active_guardian_q(user, today)
    ids = Enrollment.objects.filter(visible).values("pk")
    return Enrollment.objects.filter(pk__in=ids)


def portal_role(user, enrollment, today=None) -> str | None:
    """The role of `user` for `enrollment` (see PortalRole), or None: then it is a 404."""
    from django.utils import timezone

    if user is None or not user.is_authenticated:
        return None
    if enrollment.account_holder_id == user.pk:
        return PortalRole.HOLDER
    participant = enrollment.participant
    if participant is None:
        return None
    if participant.user_id == user.pk:
        return PortalRole.PARTICIPANT
    today = today or timezone.localdate()
    for link in participant.guardianships.filter(guardian__user=user):
        if link.has_access_on(today):
            return PortalRole.GUARDIAN
    return None


def speaks_for(user, person, today=None) -> bool:
    """May `user` act for `person` in personal matters (accept apps, write messages, read own documents)?

    The person themself with an own login; for a person without own login, their
    PSB1 while the guardian's access lasts.
    """
    from django.utils import timezone

    if user is None or not user.is_authenticated or person is None:
        return False
    if person.user_id == user.pk:
        return True
    if person.user_id is not None:
        return False
    today = today or timezone.localdate()
    return any(link.has_access_on(today)
               for link in person.guardianships.filter(guardian__user=user, is_primary=True))


# Documents a participant with an own login reads when someone else holds the contract: no
# application, offer or contract (they carry the guardians' income and signatures).
PARTICIPANT_DOCUMENT_KINDS = ("invitation", "decision", "upload", "other")


def portal_documents(user, today=None):
    """Every document `user` may open in the portal (superseded ones included; lists filter them)."""
    from django.db.models import Q
    from django.utils import timezone

    from ..models import Document, Enrollment

    if user is None or not user.is_authenticated:
        return Document.objects.none()
    today = today or timezone.localdate()
    guardian_enrollments = Enrollment.objects.filter(_active_guardian_q(user, today)).values("pk")
    own = Q(owner__user=user) & (Q(enrollment__isnull=True) | Q(kind__in=PARTICIPANT_DOCUMENT_KINDS)
                                 | Q(enrollment__account_holder=user))
    return (Document.objects.filter(Q(enrollment__account_holder=user) | Q(enrollment__in=guardian_enrollments) | own)
            .exclude(kind="chat_attachment", superseded=True))  # hidden by staff: gone for members


def two_factor_colleagues(user):
    """Accounts `user` may send a 2FA enrolment link to (it goes to their own address): the Sachbearbeitung
    and Leitung of the institutions `user` leads; for superusers everyone with access to the admin."""
    User = get_user_model()
    if user is None or not user.is_authenticated or not user.is_active:
        return User.objects.none()
    if user.is_superuser:
        admin_access = Q(codename="access_admin", content_type__app_label="wagtailadmin")
        return User.objects.filter(
            Q(is_superuser=True) | Q(groups__permissions__in=Permission.objects.filter(admin_access))
            | Q(user_permissions__in=Permission.objects.filter(admin_access)), is_active=True).distinct()
    led = Institution.objects.filter(lead_group__in=user.groups.all())
    group_ids = [pk for institution in led for pk in institution.staff_group_ids()]
    return User.objects.filter(is_active=True, groups__in=group_ids).distinct()
