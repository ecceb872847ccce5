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
