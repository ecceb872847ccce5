"""Failed authorisation in the audit log, for the views of both faces and the middleware."""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied

from ..services import audit

# Admin views an authenticated staff member reaches before the second factor.
TWO_FACTOR_OPEN_URL_NAMES = {
    "wagtailadmin_login", "wagtailadmin_logout", "wagtailadmin_javascript_catalog", "wagtailadmin_sprite",
    "two_factor_setup", "two_factor_verify", "two_factor_link_request", "two_factor_link",
}


def audit_denials(view):
    """For admin views: Wagtail turns PermissionDenied into a redirect, so log it on the way out."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied:
            record_denied(request, kwargs)
            raise

    return wrapped


def record_denied(request, kwargs=None, reason: str = "permission_denied") -> None:
    kwargs = kwargs or {}
    match = request.resolver_match
    audit.denied(request, object_type=match.view_name if match else "",
                 object_id=kwargs.get("pk") or kwargs.get("instance_pk") or "", reason=reason)
