"""Run several commands together; Ctrl-C (or SIGTERM) stops all of them within a few seconds.

    python scripts/run_together.py -- manage.py qcluster -- manage.py runserver 127.0.0.1:8000

Each command runs in its own process group, so the stop reaches the processes it started too
(the cluster's workers, runserver's reloader child). They get SIGTERM first and SIGKILL after
GRACE seconds. When one command ends by itself, the others are stopped as well.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

GRACE = float(os.environ.get("RUN_TOGETHER_GRACE", "3"))


def split(argv: list[str]) -> list[list[str]]:
    commands, current = [], []
    for arg in argv:
        if arg == "--":
            if current:
                commands.append(current)
            current = []
        else:
            current.append(arg)
    if current:
        commands.append(current)
    return commands


def stop(processes: list[subprocess.Popen]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for process in processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, sig)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + GRACE
        while time.monotonic() < deadline and any(p.poll() is None for p in processes):
            time.sleep(0.05)
        if all(p.poll() is not None for p in processes):
            break
    for process in processes:  # reap, and take down what the group left behind
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


def main(argv: list[str]) -> int:
    commands = split(argv)
    if not commands:
        print(__doc__, file=sys.stderr)
        return 2
    stopping = []

    def on_signal(signum, frame):
        stopping.append(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    processes = [subprocess.Popen(command, start_new_session=True) for command in commands]
    while not stopping and all(p.poll() is None for p in processes):
        time.sleep(0.1)
    if stopping:
        print("\nStopping web server and task cluster …", file=sys.stderr, flush=True)
    stop(processes)
    return 0 if stopping else max((p.returncode or 0) for p in processes) or 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
