"""Operations: the task cluster's heartbeat."""

from __future__ import annotations

from django.utils import timezone

from ..models import Heartbeat

TASK_CLUSTER = "task-cluster"


def beat(*, name: str = TASK_CLUSTER, now=None) -> None:
    """Stamps the heartbeat (run by a worker every minute: proves scheduler, broker and workers work)."""
    Heartbeat.objects.update_or_create(name=name, defaults={"beat_at": now or timezone.now()})
