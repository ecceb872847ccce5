"""Health URLs: /-/health/ (database, cache, storages) and /-/health/tasks/ (heartbeat of the task cluster)."""

from datetime import timedelta

import pytest
from django.core.cache import caches
from django.test import override_settings
from django.utils import timezone
from django_q.models import Schedule

from workpro_plugin import tasks
from workpro_plugin.models import Heartbeat

pytestmark = pytest.mark.django_db


def test_web_health_reports_database_cache_and_both_storages(client):
    response = client.get("/-/health/?format=json")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"Database(alias='default')", "Cache(alias='default')",
                         "Storage(alias='default')", "Storage(alias='private')"}
    assert set(body.values()) == {"OK"}
    # never cached by a proxy, and no login needed
    assert "no-cache" in response["Cache-Control"] and "max-age=0" in response["Cache-Control"]


def test_web_health_fails_when_the_cache_fails_and_leaks_nothing(client, monkeypatch):
    cache = caches["default"]

    async def broken_get(*args, **kwargs):
        raise ConnectionError("redis://:s3cret@10.1.2.3:6379/0 refused")

    monkeypatch.setattr(cache, "aget", broken_get)
    response = client.get("/-/health/?format=text")
    assert response.status_code == 500
    text = response.content.decode()
    assert "Cache(alias='default'): Unexpected Result: Connection Error" in text
    assert "s3cret" not in text and "10.1.2.3" not in text
    assert "Database(alias='default'): OK" in text


def test_health_answers_only_get(client):
    assert client.post("/-/health/").status_code in (403, 405)  # CSRF first, or not allowed


def test_task_cluster_health_needs_a_recent_heartbeat(client):
    assert client.get("/-/health/tasks/?format=json").status_code == 500  # never beaten

    tasks.heartbeat_task()  # what the schedule runs every minute
    response = client.get("/-/health/tasks/?format=json")
    assert response.status_code == 200
    assert response.json() == {"TaskClusterHeartbeat()": "OK"}

    Heartbeat.objects.update(beat_at=timezone.now() - timedelta(seconds=301))
    response = client.get("/-/health/tasks/?format=json")
    assert response.status_code == 500
    assert response.json() == {"TaskClusterHeartbeat()": "Unavailable: heartbeat older than 300 seconds"}

    with override_settings(WORKPRO_HEARTBEAT_MAX_AGE_SECONDS=600):
        assert client.get("/-/health/tasks/?format=json").status_code == 200


def test_heartbeat_and_outbox_purge_are_scheduled_by_the_migration():
    heartbeat = Schedule.objects.get(name="workpro-heartbeat")
    assert heartbeat.func == "workpro_plugin.tasks.heartbeat_task"
    assert (heartbeat.schedule_type, heartbeat.minutes) == (Schedule.MINUTES, 1)
    purge = Schedule.objects.get(name="workpro-outbox-purge")
    assert (purge.func, purge.schedule_type) == ("workpro_plugin.tasks.purge_outbox_task", Schedule.DAILY)
