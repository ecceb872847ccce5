"""Enqueuing over Redis reuses one connection pool: not a new connection per task."""

import uuid

import pytest
import redis
from django_q.brokers.redis_broker import Redis
from django_q.conf import Conf

from tests.helpers import require_redis
from workpro_plugin.lib import taskbroker
from workpro_plugin.lib.taskbroker import PooledRedisBroker

URL = "redis://127.0.0.1:6379/5"


@pytest.fixture
def redis_conf(monkeypatch):
    require_redis(URL)
    monkeypatch.setattr(Conf, "REDIS", URL)
    monkeypatch.setattr(taskbroker, "_pools", {})
    connects = []
    original = redis.connection.AbstractConnection.connect

    def counting_connect(self, *args, **kwargs):
        if self._sock is None:
            connects.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(redis.connection.AbstractConnection, "connect", counting_connect)
    return connects


def _enqueue_with(broker_class, n, list_key):
    for i in range(n):
        broker_class(list_key=list_key).enqueue(f"task-{i}")


@pytest.mark.parametrize("broker_class,expected", [(PooledRedisBroker, 1), (Redis, 20)])
def test_connections_opened_for_twenty_tasks(redis_conf, broker_class, expected):
    list_key = f"workpro-pool-test-{uuid.uuid4().hex[:8]}"
    try:
        _enqueue_with(broker_class, 20, list_key)
        assert len(redis_conf) == expected
        assert broker_class(list_key=list_key).queue_size() == 20
    finally:
        broker_class(list_key=list_key).delete_queue()


def test_configure_selects_the_pooled_broker_with_redis():
    from workpro_plugin.conf import configure

    namespace = configure({}, redis_url=URL)
    assert namespace["Q_CLUSTER"]["broker_class"] == "workpro_plugin.lib.taskbroker.PooledRedisBroker"
    assert namespace["Q_CLUSTER"]["redis"] == URL
    assert "broker_class" not in configure({})["Q_CLUSTER"]
