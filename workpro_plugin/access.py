"""Who may do what: every "may this user see/do this" rule of WorkPro, one predicate each.

Views and services ask here; nothing here writes. Rules that need a list of objects (the
enrollments a user may see) are selectors built on the predicates below.
"""

from __future__ import annotations

from django.conf import settings
from django_otp import user_has_device

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
    return bool(getattr(settings, "WORKPRO_REQUIRE_STAFF_2FA", False))


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
