"""django-q2 entry points: they take ids, fetch, and call services."""

from .models import Institution


def healthcheck_task(marker: str) -> dict:
    """Proves a worker can reach the database; used by the cluster round-trip test."""
    return {"marker": marker, "institutions": Institution.objects.count()}
