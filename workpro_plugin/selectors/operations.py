"""Reads for operations: how old the task cluster's heartbeat is."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from ..models import Heartbeat

TASK_CLUSTER = "task-cluster"


def heartbeat_age(*, name: str = TASK_CLUSTER, now=None) -> timedelta | None:
    """Time since the last heartbeat of ``name``; None when there never was one."""
    beat_at = Heartbeat.objects.filter(name=name).values_list("beat_at", flat=True).first()
    return None if beat_at is None else (now or timezone.now()) - beat_at
