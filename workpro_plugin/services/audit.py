"""The audit log: one row per security-relevant event, kept for WORKPRO_AUDIT_RETENTION_DAYS.

Rows hold who, what and which object, never the personal data itself (changed field names,
not their values), so the log does not become a second copy of the data it protects.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from .. import conf
from ..lib.http import client_ip, is_admin_path
from ..models import AuditAction, AuditEvent
from . import privacy

A = AuditAction
# The request being served (set by middleware.AuditMiddleware): services log its address.
current_request: ContextVar = ContextVar("workpro_audit_request", default=None)


def _object_ref(obj) -> tuple[str, str]:
    if obj is None:
        return "", ""
    return obj._meta.label_lower, str(obj.pk)


def actor_label(user) -> str:
    """How an actor is named in the audit log (kept when the account is deleted)."""
    return _label(user)


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
    days = int(conf.get("AUDIT_RETENTION_DAYS"))
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
    return is_admin_path(request.path_info)


# --- data protection: export and erasure -------------------------------------------------------

# Failed attempts carry only the typed login name: they count as the person's when it is theirs.
_NAMED_ATTEMPTS = (A.LOGIN_FAILED, A.LOCKED_OUT)


_login_names = privacy.login_names


def _events_of(person) -> Q:
    where = Q(person=person)
    if person.user_id:
        where |= Q(actor_id=person.user_id)
    return where | _named_attempts(person)


def _named_attempts(person) -> Q:
    """Failed logins under the person's login names, and under a former address up to when it changed."""
    where = Q(pk__in=[])
    names = _login_names(person)
    if names:
        where |= Q(actor__isnull=True, action__in=_NAMED_ATTEMPTS, actor_label__in=names)
    for name, until in privacy.former_login_names(person):
        where |= Q(actor__isnull=True, action__in=_NAMED_ATTEMPTS, actor_label=name, at__lte=until)
    return where


def audit_export(person) -> list[dict]:
    """The export section: who opened or changed the person's data and when (the recipients, Art. 15),
    and the person's own logins and actions. Only their own events show an IP address: the address
    of a staff member or of someone mistyping their login name is not theirs."""
    events = AuditEvent.objects.filter(_events_of(person)).select_related("actor").order_by("at", "pk")
    result = []
    for event in events:
        own = person.user_id is not None and event.actor_id == person.user_id
        by = event.actor.get_full_name() if event.actor_id else ""
        result.append({
            "at": event.at, "action": event.action, "action_label": str(event.get_action_display()),
            "by": by or event.actor_label or None, "own": own, "object_type": event.object_type,
            "object_id": event.object_id, "ip": event.ip if own else None, "detail": event.detail,
        })
    return result


def audit_erase(person) -> int:
    """Audit events stay until the audit retention deletes them (purge): they prove who saw the
    person's data. What points to the person in them goes: the login name copied into the events
    of their own account and of failed logins under their name, and the IP addresses of those.
    Staff's events about the person keep staff's name and address."""
    touched = 0
    if person.user_id:
        touched += AuditEvent.objects.filter(actor_id=person.user_id).update(
            actor_label=f"anonymisiert-{person.user_id}", ip=None)
    touched += AuditEvent.objects.filter(_named_attempts(person)).update(actor_label="", ip=None)
    return touched


privacy.register_exporter("audit", audit_export)
privacy.register_eraser("audit", audit_erase)
