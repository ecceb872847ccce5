"""Health URLs for load balancers and monitoring (django-health-check).

``/-/health/`` (web): the database answers, the cache stores and returns a value, and both file
storages (public media and private documents) save, read and delete a probe file.
``/-/health/tasks/`` (task cluster): a worker stamped the heartbeat (schedule ``workpro-heartbeat``,
every minute) within ``WORKPRO_HEARTBEAT_MAX_AGE_SECONDS``.

Both answer 200 when healthy and 500 otherwise, never cached, without a login. They name only the
check and a generic error (django-health-check logs the details instead), never data, paths,
hosts or credentials. Formats: HTML, ``?format=json``, ``?format=text``, ``?format=openmetrics``.
"""

from __future__ import annotations

import dataclasses
import datetime

from asgiref.sync import sync_to_async
from health_check.base import HealthCheck
from health_check.checks import Cache, Database, Storage
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

from .. import conf
from ..selectors import operations


@dataclasses.dataclass
class TaskClusterHeartbeat(HealthCheck):
    """Fails when no task cluster stamped the heartbeat recently (or never)."""

    timeout = datetime.timedelta(seconds=5)

    async def run(self) -> None:
        # In the request's thread (thread_sensitive), on its database connection.
        age = await sync_to_async(operations.heartbeat_age)()
        if age is None:
            raise ServiceUnavailable("no heartbeat yet")
        limit = conf.get("HEARTBEAT_MAX_AGE_SECONDS")
        if age.total_seconds() > limit:
            raise ServiceUnavailable(f"heartbeat older than {limit} seconds")


class WebHealthView(HealthCheckView):
    checks = (
        Database,
        Cache,
        (Storage, {"alias": "default"}),
        (Storage, {"alias": "private"}),
    )


class TaskClusterHealthView(HealthCheckView):
    checks = (TaskClusterHeartbeat,)


web_health = WebHealthView.as_view()
task_cluster_health = TaskClusterHealthView.as_view()
