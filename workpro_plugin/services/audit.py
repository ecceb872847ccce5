"""The audit log: one row per security-relevant event, kept for WORKPRO_AUDIT_RETENTION_DAYS.

Rows hold who, what and which object, never the personal data itself (changed field names,
not their values), so the log does not become a second copy of the data it protects.
"""

from __future__ import annotations

import ipaddress
from contextvars import ContextVar
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from ..models import AuditAction, AuditEvent

A = AuditAction
# The request being served (set by security.AuditMiddleware): services log its address.
current_request: ContextVar = ContextVar("workpro_audit_request", default=None)


def client_ip(request) -> str | None:
    """The client address as django-axes sees it (so lockouts and the log agree)."""
    if request is None:
        return None
    value = getattr(request, "axes_ip_address", None)
    if not value:
        try:
            from axes.helpers import get_client_ip_address

            value = get_client_ip_address(request)
        except Exception:  # noqa: BLE001 - the log must not break a request over an address
            value = request.META.get("REMOTE_ADDR")
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None


def _object_ref(obj) -> tuple[str, str]:
    if obj is None:
        return "", ""
    return obj._meta.label_lower, str(obj.pk)


def _label(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return (user.email or user.get_username())[:254]


def record(action: str, *, actor=None, request=None, obj=None, object_type: str = "", object_id: str = "",
           person=None, detail: dict | None = None, actor_label: str = "") -> AuditEvent:
    """Write one audit event; the actor defaults to the request's user."""
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
    if obj is not None and not object_type:
        object_type, object_id = _object_ref(obj)
    return AuditEvent.objects.create(
        action=action, actor=actor, actor_label=(actor_label or _label(actor))[:254],
        object_type=object_type[:80], object_id=str(object_id)[:64], person=person,
        ip=client_ip(request if request is not None else current_request.get()),
        detail=detail or {},
    )


def denied(request, *, object_type: str = "", object_id="", reason: str = "not_found", obj=None) -> AuditEvent:
    """A failed authorisation: someone asked for an object that is not theirs."""
    return record(A.ACCESS_DENIED, request=request, obj=obj, object_type=object_type, object_id=str(object_id),
                  detail={"reason": reason, "path": request.path[:300], "method": request.method})


def purge(*, now=None) -> int:
    """Delete events older than the retention period; returns how many went."""
    days = int(getattr(settings, "WORKPRO_AUDIT_RETENTION_DAYS", 730))
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted, _ = AuditEvent.objects.filter(at__lt=cutoff).delete()
    return deleted


# --- signal receivers (connected in signals.connect_audit) ------------------------------------

def on_logged_in(sender, request, user, **kwargs):
    record(A.LOGIN, actor=user, request=request,
           detail={"area": "admin" if request is not None and _is_admin(request) else "portal"})


def on_logged_out(sender, request, user, **kwargs):
    if user is not None:
        record(A.LOGOUT, actor=user, request=request)


def on_login_failed(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in `credentials`; only the typed name is kept.
    username = str(credentials.get("username") or credentials.get("email") or "")[:254]
    record(A.LOGIN_FAILED, request=request, actor_label=username.strip().lower(),
           detail={"area": "admin" if request is not None and _is_admin(request) else "portal"})


def on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    record(A.LOCKED_OUT, request=request, actor_label=str(username or "")[:254].strip().lower())


def _is_admin(request) -> bool:
    from ..security import is_admin_path

    return is_admin_path(request.path_info)
