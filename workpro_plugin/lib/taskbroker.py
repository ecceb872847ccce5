"""django-q2's Redis broker over one connection pool per process.

django-q2 builds a broker for every ``async_task`` and its Redis broker calls ``redis.from_url``
each time: a new connection pool, so a new TCP connection (and handshake) per enqueued task, closed
again when the broker is garbage-collected. ``PooledRedisBroker`` keeps one pool per Redis URL and
process (redis-py's pool notices a fork and starts afresh in the child), so enqueuing reuses an idle
connection. ``configure(..., redis_url=...)`` selects it through ``Q_CLUSTER["broker_class"]``.
"""

from __future__ import annotations

import threading

import redis
from django_q.brokers.redis_broker import Redis
from django_q.conf import Conf

_pools: dict[str, redis.ConnectionPool] = {}
_lock = threading.Lock()


def connection_pool(url: str) -> redis.ConnectionPool:
    """The process's one pool for ``url``."""
    pool = _pools.get(url)
    if pool is None:
        with _lock:
            pool = _pools.setdefault(url, redis.ConnectionPool.from_url(url))
    return pool


class PooledRedisBroker(Redis):
    @staticmethod
    def get_connection(list_key: str | None = None) -> redis.Redis:
        if isinstance(Conf.REDIS, str):
            return redis.Redis(connection_pool=connection_pool(Conf.REDIS))
        return Redis.get_connection(list_key)
