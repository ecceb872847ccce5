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


def apply_retention_task() -> dict:
    from .services.privacy import apply_retention

    return apply_retention()
