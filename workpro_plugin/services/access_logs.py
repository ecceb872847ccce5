"""django-axes' records of logins and failed logins (login name, IP address, browser).

They are personal data like the audit log: kept only WORKPRO_ACCESS_LOG_RETENTION_DAYS (the
daily retention run deletes older ones), part of the person's own export, and deleted when
the person is anonymised. Staff exports never hold them (the section is not scoped).
"""

from __future__ import annotations

from datetime import timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .. import conf
from . import privacy

DEFAULT_RETENTION_DAYS = conf.DEFAULTS["ACCESS_LOG_RETENTION_DAYS"]


def retention_days() -> int:
    return int(conf.get("ACCESS_LOG_RETENTION_DAYS"))


def purge(*, now=None) -> int:
    """Delete axes rows older than the retention period; returns how many went.

    A lock-out counter (AccessAttempt) is kept at least as long as django-axes' cool-off, so the
    purge never lifts a running lock-out early.
    """
    now = now or timezone.now()
    keep = timedelta(days=retention_days())
    cooloff = getattr(settings, "AXES_COOLOFF_TIME", None)
    cutoff = now - keep
    attempts_cutoff = now - max(keep, cooloff) if isinstance(cooloff, timedelta) else cutoff
    deleted = AccessLog.objects.filter(attempt_time__lt=cutoff).delete()[0]
    deleted += AccessFailureLog.objects.filter(attempt_time__lt=cutoff).delete()[0]
    deleted += AccessAttempt.objects.filter(attempt_time__lt=attempts_cutoff).delete()[0]
    return deleted


def _named(person) -> Q:
    """Rows under the person's login names, and under a former address up to when it changed."""
    where = Q(pk__in=[])
    for name in privacy.login_names(person):
        where |= Q(username__iexact=name)
    for name, until in privacy.former_login_names(person):
        where |= Q(username__iexact=name, attempt_time__lte=until)
    return where


def access_log_export(person) -> dict:
    """The person's logins with address and browser (AccessLog: successful logins, theirs), and the
    failed attempts under their login name: time, path and count only, because whoever typed the
    name (maybe someone else) left the address and browser, as in the audit section."""
    named = _named(person)
    return {
        "logins": [
            {"at": row.attempt_time, "logout_at": row.logout_time, "ip": row.ip_address,
             "browser": row.user_agent, "path": row.path_info}
            for row in AccessLog.objects.filter(named).order_by("attempt_time", "pk")],
        "failed_logins": [
            {"at": row.attempt_time, "path": row.path_info, "locked_out": row.locked_out}
            for row in AccessFailureLog.objects.filter(named).order_by("attempt_time", "pk")],
        "lockout_counters": [
            {"since": row.attempt_time, "path": row.path_info, "failures": row.failures_since_start}
            for row in AccessAttempt.objects.filter(named).order_by("attempt_time", "pk")],
    }


def access_log_erase(person) -> int:
    """Every axes row under the person's login names goes."""
    named = _named(person)
    return (AccessLog.objects.filter(named).delete()[0] + AccessFailureLog.objects.filter(named).delete()[0]
            + AccessAttempt.objects.filter(named).delete()[0])


privacy.register_exporter("access_log", access_log_export)
privacy.register_eraser("access_log", access_log_erase)
privacy.register_retention("access_log", purge)
