"""A stand-in for a django-q2 worker that is killed mid-task (run by tests/reliability/test_faults.py).

    python -m tests.fault_child deliver <marker-file> <outbox-id>
    python -m tests.fault_child expire <marker-file>

It runs the real task function against the database named by DATABASE_URL, and
hangs at the worst moment: "deliver" after the outbox row is claimed and before
anything is sent; "expire" after the transition is saved and logged, before the
transaction commits. It touches the marker file when it got there; the test then
kills it with SIGKILL.
"""

import os
import sys
import time
from pathlib import Path

HANG_SECONDS = 60


def _arrived(marker: Path) -> None:
    marker.write_text(str(os.getpid()))
    time.sleep(HANG_SECONDS)  # the test kills us here
    raise SystemExit("not killed in time")


class HangingMailBackend:
    """Reached only after deliver() claimed the row: the worker dies before sending."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        _arrived(Path(os.environ["FAULT_MARKER"]))


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workpro_site.settings.test")
    import django

    django.setup()
    from django.conf import settings

    scenario, marker = argv[0], Path(argv[1])
    os.environ["FAULT_MARKER"] = str(marker)
    if scenario == "deliver":
        from workpro_plugin.tasks import deliver_outbox_message_task

        settings.EMAIL_BACKEND = "tests.fault_child.HangingMailBackend"
        deliver_outbox_message_task(int(argv[2]))
    elif scenario == "expire":
        from workpro_plugin.services import enrollments
        from workpro_plugin.tasks import expire_overdue_offers_task

        enrollments.notify = lambda *args, **kwargs: _arrived(marker)  # inside the transaction, before commit
        expire_overdue_offers_task()
    else:
        raise SystemExit(f"unknown scenario {scenario}")
    raise SystemExit("the task finished without reaching the hang")


if __name__ == "__main__":
    main(sys.argv[1:])
