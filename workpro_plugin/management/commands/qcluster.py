"""django-q2's ``qcluster``, but a stop (SIGTERM, SIGINT) ends within a bounded time.

django-q2 stops by telling its sentinel to stop and waiting for it without limit; the sentinel puts
a "STOP" behind the tasks its workers have already taken (up to ``workers²`` prefetched) and waits,
again without limit, for every worker to finish them. Its guard, which enforces the task
``timeout``, no longer runs then. A slow or hanging task (an SMTP server that never answers, a big
PDF) therefore kept ``qcluster`` alive for minutes after SIGTERM, until the process manager killed
it anyway. Here the stop waits at most ``WORKPRO_TASK_STOP_SECONDS`` (never longer than the
cluster's ``timeout``); workers still busy then are terminated, like the guard does with a task past
its timeout. Their task is not lost: the ORM broker hands it out again after ``retry`` seconds, and
what the Redis broker drops is found again by the schedules (outbox sweep, PDF sweep) because the
database rows are the truth.

Shadows django_q's command (``workpro_plugin`` comes before ``django_q`` in INSTALLED_APPS) and takes
the same options.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path

from django.conf import settings
from django_q.cluster import Cluster
from django_q.conf import Conf
from django_q.management.commands.qcluster import Command as DjangoQCommand

from ... import conf

logger = logging.getLogger("workpro_plugin.qcluster")


def stop_seconds() -> float:
    """How long a stop may take: WORKPRO_TASK_STOP_SECONDS, at most the cluster's task timeout."""
    limit = float(conf.get("TASK_STOP_SECONDS"))
    return min(limit, float(Conf.TIMEOUT)) if Conf.TIMEOUT else limit


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (the sentinel's workers, monitor and pusher), from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _signal_all(pids, sig) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


class BoundedStopCluster(Cluster):
    def stop(self) -> bool:
        if not self.sentinel or not self.sentinel.is_alive():
            return False
        limit = stop_seconds()
        logger.info("task cluster stopping (at most %.0f s)", limit)
        # Set from a daemon thread: multiprocessing's Event.set() waits until every process sleeping in
        # wait() has woken. When the whole process group got the SIGTERM (systemd's default
        # KillMode=control-group, `kill -- -PGID`), the sentinel died inside stop_event.wait() and
        # never wakes: set() would block this process for good (an idle cluster never stopped).
        threading.Thread(target=self.stop_event.set, name="qcluster-stop", daemon=True).start()
        self.sentinel.join(limit)
        if self.sentinel.is_alive():
            # Workers still busy: terminate them (SIGTERM is their default action), so the sentinel
            # finds them gone and finishes its stop; whatever is left after a short grace is killed.
            busy = descendants(self.sentinel.pid)
            logger.warning("task cluster: %d processes still busy after %.0f s; terminating them",
                           len(busy), limit)
            _signal_all(busy, signal.SIGTERM)
            self.sentinel.join(3)
            if self.sentinel.is_alive():
                _signal_all(descendants(self.sentinel.pid), signal.SIGKILL)
                self.sentinel.kill()
                self.sentinel.join()
        self.start_event = None
        self.stop_event = None
        return True


class Command(DjangoQCommand):
    def handle(self, *args, **options):
        settings.SECRET_KEY  # noqa: B018 - like django_q: the cluster signs its tasks
        if options.get("cluster_name"):
            os.environ["Q_CLUSTER_NAME"] = options["cluster_name"]
        cluster = BoundedStopCluster()
        cluster.start()
        if options.get("run_once", False):
            cluster.stop()
            return
        # Wait here (not in the interpreter's exit handler) so a signal's stop() runs with us waiting.
        while cluster.sentinel.is_alive():
            time.sleep(0.2)

