"""django-q2 entry points: they take ids, fetch, and call services."""

from .models import Institution
from .services import (
    allocation,
    audit,
    chat,
    documents,
    enrollments,
    minors,
    notify,
    operations,
    privacy,
)


def healthcheck_task(marker: str) -> dict:
    """Proves a worker can reach the database; used by the cluster round-trip test."""
    return {"marker": marker, "institutions": Institution.objects.count()}


def deliver_outbox_message_task(message_id: int) -> bool:
    return notify.deliver(message_id)


def sweep_outbox_task() -> int:
    documents.sweep_renders()  # the same minute: PDFs whose render task was lost are queued again
    return notify.sweep()


def expire_overdue_offers_task() -> int:
    return enrollments.expire_overdue_offers()


def apply_overdue_proofs_task() -> int:
    return enrollments.apply_overdue_proofs()


def send_deadline_reminders_task() -> int:
    return enrollments.send_deadline_reminders()


def coming_of_age_task() -> dict:
    return minors.coming_of_age()


def send_care_reminders_task() -> int:
    return minors.send_care_reminders()


def send_chat_notifications_task() -> int:
    return chat.send_pending_notifications()


def purge_audit_events_task() -> int:
    return audit.purge()


def apply_retention_task() -> dict:
    return privacy.apply_retention()


def clear_expired_sessions_task() -> int:
    return privacy.clear_expired_sessions()


def release_ended_contracts_task() -> int:
    """Daily: a ratified contract past its end date frees its place, and the waiting list moves up."""
    return enrollments.release_ended_contracts()


def expire_place_offers_task() -> int:
    """Daily: a place offered from the waiting list and not accepted in time goes to the next child."""
    return allocation.expire_place_offers()


def purge_outbox_task() -> int:
    """Daily: sent outbox rows past WORKPRO_OUTBOX_RETENTION_DAYS are deleted."""
    return notify.purge_sent()


def heartbeat_task() -> None:
    """Every minute: the task cluster's sign of life, read by the health URL /-/health/tasks/."""
    operations.beat()


def render_document_task(document_id: int) -> bool:
    """After commit: render a pending document (Anmeldung, Angebot), store it, release its mails."""
    return documents.render_document(document_id)
