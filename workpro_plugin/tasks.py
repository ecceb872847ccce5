"""django-q2 entry points: they take ids, fetch, and call services."""

from .models import Institution


def healthcheck_task(marker: str) -> dict:
    """Proves a worker can reach the database; used by the cluster round-trip test."""
    return {"marker": marker, "institutions": Institution.objects.count()}


def deliver_outbox_message_task(message_id: int) -> bool:
    from .services.notify import deliver

    return deliver(message_id)


def sweep_outbox_task() -> int:
    from .services.notify import sweep

    return sweep()


def expire_overdue_offers_task() -> int:
    from .services.enrollments import expire_overdue_offers

    return expire_overdue_offers()


def apply_overdue_proofs_task() -> int:
    from .services.enrollments import apply_overdue_proofs

    return apply_overdue_proofs()


def send_deadline_reminders_task() -> int:
    from .services.enrollments import send_deadline_reminders

    return send_deadline_reminders()


def coming_of_age_task() -> dict:
    from .services.minors import coming_of_age

    return coming_of_age()


def send_care_reminders_task() -> int:
    from .services.minors import send_care_reminders

    return send_care_reminders()


def send_chat_notifications_task() -> int:
    from .services.chat import send_pending_notifications

    return send_pending_notifications()


def purge_audit_events_task() -> int:
    from .services.audit import purge

    return purge()


def apply_retention_task() -> dict:
    from .services.privacy import apply_retention

    return apply_retention()


def clear_expired_sessions_task() -> int:
    from .services.privacy import clear_expired_sessions

    return clear_expired_sessions()
