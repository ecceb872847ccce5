"""A real django-q2 round trip through the configured broker (ORM, or Redis with REDIS_URL)."""

import uuid
from multiprocessing import Event, Value

import pytest
from django.conf import settings
from django_q.brokers import get_broker
from django_q.monitor import monitor
from django_q.pusher import pusher
from django_q.queues import Queue
from django_q.tasks import async_task, result
from django_q.worker import worker

from workpro_plugin.models import Institution


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_task_round_trip_through_the_broker(demo):
    broker = get_broker(list_key=f"workpro-roundtrip-{uuid.uuid4().hex[:8]}")
    if settings.Q_CLUSTER.get("redis"):
        from django_q.brokers.redis_broker import Redis

        assert isinstance(broker, Redis)  # WorkPro's PooledRedisBroker is one
    else:
        assert type(broker).__name__ == "ORM"
    marker = uuid.uuid4().hex
    # sync=False: go through the broker even though the test settings run tasks inline.
    task_id = async_task("workpro_plugin.tasks.healthcheck_task", marker, broker=broker, sync=False)
    assert broker.queue_size() == 1

    task_queue, result_queue, stop = Queue(), Queue(), Event()
    stop.set()  # one pass of the pusher
    pusher(task_queue, stop, broker=broker)
    task_queue.put("STOP")
    worker(task_queue, result_queue, Value("f", -1))
    result_queue.put("STOP")
    monitor(result_queue, broker)

    assert result(task_id) == {"marker": marker, "institutions": Institution.objects.count()}
    assert broker.queue_size() == 0
    broker.delete_queue()


@pytest.mark.django_db
def test_sync_mode_runs_tasks_inline_in_tests(demo):
    task_id = async_task("workpro_plugin.tasks.healthcheck_task", "inline")
    assert result(task_id) == {"marker": "inline", "institutions": 3}
