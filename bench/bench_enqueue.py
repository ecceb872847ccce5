"""Enqueuing a task over Redis: django-q2's broker (a connection per task) against WorkPro's pooled broker.

Both enqueue one task into a throw-away list on redis://127.0.0.1:6379 (db BENCH_REDIS_DB, default 5),
interleaved (A B A B ...); the ratio is pooled / django-q2 (below 1: faster). Skipped without Redis.
"""

from __future__ import annotations

import os
import uuid

from bench.util import load_average, measure_against, report_pair

URL = f"redis://127.0.0.1:6379/{os.environ.get('BENCH_REDIS_DB', '5')}"


def run() -> None:
    import redis
    from django_q.brokers.redis_broker import Redis
    from django_q.conf import Conf

    from workpro_plugin.lib.taskbroker import PooledRedisBroker

    try:
        redis.Redis.from_url(URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        print("   skipped: no Redis on 127.0.0.1:6379")
        return
    saved, Conf.REDIS = Conf.REDIS, URL
    key = f"workpro-bench-enqueue-{uuid.uuid4().hex[:8]}"
    try:
        pair = measure_against(lambda: Redis(list_key=key).enqueue("x"),
                               lambda: PooledRedisBroker(list_key=key).enqueue("x"), repeat=400, warmup=20)
        print(f"   {load_average()}")
        report_pair("enqueue, pooled broker (one pool per process)", "enqueue, django-q2 Redis broker", pair)
    finally:
        Redis(list_key=key).delete_queue()
        Conf.REDIS = saved
