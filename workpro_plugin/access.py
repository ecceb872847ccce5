"""Who may do what: every "may this user see/do this" rule of WorkPro, one predicate each.

Views and services ask here; nothing here writes. Rules that need a list of objects (the
enrollments a user may see) are selectors built on the predicates below.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone
from django_otp import user_has_device

from . import conf
from .models import Conversation

# Why the authentication backend refused a correct password; the portal login form reads it.
PASSWORD_EXPIRED = "password_expired"


def login_refusal(request) -> str:
    """"" or the reason (e.g. PASSWORD_EXPIRED) the backend refused this request's login."""
    return getattr(request, "workpro_login_refused", "") if request is not None else ""


def has_admin_access(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active
                and (user.is_superuser or user.has_perm("wagtailadmin.access_admin")))


def two_factor_required() -> bool:
    """Read per request, so tests (and a deployment's environment) can switch it."""
    return bool(conf.get("REQUIRE_STAFF_2FA"))


def needs_second_factor(user) -> str:
    """"" if the user may act as staff now; else "verify" (has a device) or "setup" (required, none yet).

    Who set up a device is always asked for a code, even where 2FA is optional.
    """
    if not has_admin_access(user):
        return ""
    if getattr(user, "is_verified", None) and user.is_verified():
        return ""
    if user_has_device(user, confirmed=True):
        return "verify"
    return "setup" if two_factor_required() else ""


# --- portal: who may see what in "Mein Konto" -------------------------------------------------

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


def active_guardian_q(user, today, prefix: str = "participant__") -> Q:
    """Enrollments (or, with another prefix, objects) whose participant `user` is a guardian of, while
    the guardian's access lasts."""
    return (Q(**{f"{prefix}guardianships__guardian__user": user})
            & (Q(**{f"{prefix}guardianships__access_ends_on__isnull": True})
               | Q(**{f"{prefix}guardianships__access_ends_on__gte": today})))


def portal_role(user, enrollment, today=None) -> str | None:
    """The role of `user` for `enrollment` (see PortalRole), or None: then it is a 404."""
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


def sees_ward_login(user, person, today=None) -> bool:
    """May `user` see what the own login of `person` shows? The PSB1 of a minor with an own login, while
    the guardian's access lasts. (Acting for such a ward is not this: see `speaks_for`.)"""
    if user is None or not user.is_authenticated or person is None or person.user_id in (None, user.pk):
        return False
    if not person.is_minor:
        return False
    today = today or timezone.localdate()
    return any(link.has_access_on(today)
               for link in person.guardianships.filter(guardian__user=user, is_primary=True))


def speaks_for(user, person, today=None) -> bool:
    """May `user` act for `person` in personal matters (accept apps, write messages, read own documents)?

    The person themself with an own login; for a person without own login, their
    PSB1 while the guardian's access lasts.
    """
    if user is None or not user.is_authenticated or person is None:
        return False
    if person.user_id == user.pk:
        return True
    if person.user_id is not None:
        return False
    today = today or timezone.localdate()
    return any(link.has_access_on(today)
               for link in person.guardianships.filter(guardian__user=user, is_primary=True))


# --- messages ("Nachrichten") ---------------------------------------------------------------

class Access:
    WRITE = "write"
    READ = "read"


def member_access(user, conversation: Conversation) -> str | None:
    """Access.WRITE, Access.READ or None (then the conversation does not exist for `user`)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if conversation.kind == Conversation.Kind.OFFER:
        return Access.WRITE if conversation.started_by_id == user.pk else None
    return role_access(portal_role(user, conversation.enrollment))


def enrollment_member_access(user, enrollment) -> str | None:
    """The same rule before an enrollment has a conversation."""
    return role_access(portal_role(user, enrollment))


def role_access(role: str | None) -> str | None:
    """What a portal role may do in an enrollment's messages: holder and participant write, a former
    PSB1 reads, anyone else does not see them."""
    if role in (PortalRole.HOLDER, PortalRole.PARTICIPANT):
        return Access.WRITE
    return Access.READ if role == PortalRole.GUARDIAN else None


def is_chat_staff(user, institution) -> bool:
    """Sachbearbeitung (process permission) or Leitung of the institution; superusers everywhere."""
    if institution is None or not institution.is_staff_member(user):
        return False
    if institution.staff_can(user, "process_enrollment"):
        return True
    return institution.is_lead(user)


def may_edit_texts(user, institution) -> bool:
    """Mail and SMS texts and contract terms of an institution: its Leitung, or its staff holding
    "edit_texts"; superusers everywhere."""
    if institution is None or not institution.is_staff_member(user):
        return False
    return institution.is_lead(user) or institution.staff_can(user, "edit_texts")
