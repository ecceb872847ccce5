"""`manage.py qcluster` ends within WORKPRO_TASK_STOP_SECONDS of SIGTERM, even with a task still running.

django-q2 alone waits for the running (and prefetched) tasks without limit; a blocking task kept the
cluster alive for minutes. A real qcluster process, with the ORM broker (SQLite) and with Redis.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.helpers import require_redis
from workpro_plugin.management.commands.qcluster import descendants

ROOT = Path(__file__).resolve().parents[2]
STOP_SECONDS = 3
TASK_SECONDS = 600  # far longer than any stop may take
# Starting and ending a Django process takes seconds on a loaded machine; the bound only has to tell
# "stopped after the stop timeout" from "waited for the task" (TASK_SECONDS).
EXIT_MARGIN = 90


def _cluster_env(env: dict, broker: str) -> dict:
    """The environment of one qcluster run: a cluster name of its own and, for "redis", the Redis broker."""
    env = {**env, "Q_CLUSTER_NAME": f"workpro-stoptest-{uuid.uuid4().hex[:8]}"}
    if broker == "redis":
        require_redis()
        env["REDIS_URL"] = "redis://127.0.0.1:6379/5"
    return env


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("qcluster")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "workpro_site.settings.dev",
           "SQLITE_PATH": str(tmp / "db.sqlite3"), "PYTHONPATH": str(ROOT),
           "MEDIA_ROOT": str(tmp / "media"), "PRIVATE_MEDIA_ROOT": str(tmp / "private"),
           "WORKPRO_TASK_STOP_SECONDS": str(STOP_SECONDS)}
    for name in ("DATABASE_URL", "REDIS_URL", "Q_CLUSTER_NAME"):
        env.pop(name, None)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    return tmp, env


@pytest.mark.parametrize("broker", ["orm", "redis"])
def test_sigterm_stops_qcluster_within_its_stop_timeout_while_a_task_blocks(database, broker):
    tmp, env = database
    env = _cluster_env(env, broker)
    marker = tmp / f"started-{broker}"
    log = open(tmp / f"qcluster-{broker}.log", "wb")  # noqa: SIM115
    cluster = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        subprocess.run([sys.executable, "manage.py", "shell", "-c",
                        "from django_q.tasks import async_task; "
                        f"async_task('tests.reliability.qcluster_tasks.busy', {str(marker)!r}, {TASK_SECONDS})"],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        deadline = time.monotonic() + 180
        while not marker.exists():
            assert cluster.poll() is None, (tmp / f"qcluster-{broker}.log").read_text()
            assert time.monotonic() < deadline, "the task never started"
            time.sleep(0.2)
        assert descendants(cluster.pid), "the cluster has its sentinel and workers"

        begin = time.monotonic()
        cluster.send_signal(signal.SIGTERM)
        cluster.wait(timeout=STOP_SECONDS + EXIT_MARGIN)  # TimeoutExpired: it waited for the task
        took = time.monotonic() - begin
        assert took < TASK_SECONDS
        print(f"qcluster ({broker}) stopped {took:.1f} s after SIGTERM with a {TASK_SECONDS} s task running")
        assert b"still busy after" in (tmp / f"qcluster-{broker}.log").read_bytes()
    finally:
        leftovers = descendants(cluster.pid) if cluster.poll() is None else []
        for pid in [cluster.pid, *leftovers]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        cluster.wait()
        log.close()


@pytest.mark.parametrize("broker", ["orm", "redis"])
def test_sigterm_to_the_whole_process_group_stops_an_idle_qcluster(database, broker):
    """systemd (KillMode=control-group) and `kill -- -PGID` send SIGTERM to every process of the cluster at
    once: the sentinel dies inside multiprocessing's Event.wait(), whose set() then waited for it forever."""
    tmp, env = database
    env = _cluster_env(env, broker)
    log = open(tmp / f"qcluster-group-{broker}.log", "wb")  # noqa: SIM115
    cluster = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while len(descendants(cluster.pid)) < 3:  # sentinel, workers, monitor, pusher
            assert cluster.poll() is None, (tmp / f"qcluster-group-{broker}.log").read_text()
            assert time.monotonic() < deadline, "the cluster never started"
            time.sleep(0.2)
        time.sleep(3)  # the sentinel is in its guard loop, waiting on the stop event
        begin = time.monotonic()
        os.killpg(cluster.pid, signal.SIGTERM)
        cluster.wait(timeout=STOP_SECONDS + EXIT_MARGIN)  # TimeoutExpired: it hung
        print(f"qcluster ({broker}) stopped {time.monotonic() - begin:.1f} s after SIGTERM to its process group")
    finally:
        try:
            os.killpg(cluster.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        cluster.wait()
        log.close()
