"""Tasks for tests/reliability/test_qcluster_stop.py, run by a real qcluster."""

import time
from pathlib import Path


def busy(marker: str, seconds: float) -> None:
    """A task that blocks (like an SMTP server that never answers): says it started, then sleeps."""
    Path(marker).write_text("started")
    time.sleep(seconds)
