"""`make run`: Ctrl-C stops web server and task cluster together within a few seconds."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "scripts" / "run_together.py"
# A server that ignores SIGTERM (as a cluster busy with a task may) and one that starts a child of its own.
STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(300)"
FORKING = ("import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)']); "
           "print('ready', flush=True); time.sleep(300)")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split(")")[-1].split()[0] == "Z")


def _group_pids(pgid: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().split(")")[-1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


@pytest.mark.skipif(not Path("/proc").exists(), reason="needs /proc to find the started processes")
def test_ctrl_c_stops_every_command_and_what_it_started():
    runner = subprocess.Popen([sys.executable, str(RUNNER), "--", sys.executable, "-c", STUBBORN,
                               "--", sys.executable, "-c", FORKING],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "RUN_TOGETHER_GRACE": "1.5"})
    try:
        assert runner.stdout.readline().strip() == "ready"
        assert runner.stdout.readline().strip() == "ready"
        children = [int(p) for p in subprocess.run(["pgrep", "-P", str(runner.pid)], capture_output=True,
                                                   text=True).stdout.split()]
        assert len(children) == 2
        started = [pid for child in children for pid in _group_pids(child)]
        assert len(started) == 3  # both commands and the grandchild
        begin = time.monotonic()
        runner.send_signal(signal.SIGINT)
        runner.wait(timeout=10)
        took = time.monotonic() - begin
    finally:
        if runner.poll() is None:
            runner.kill()
    assert runner.returncode == 0
    assert took < 5, f"stopping took {took:.1f} s"
    assert [pid for pid in started if _alive(pid)] == []
    assert "Stopping" in runner.stderr.read()


def test_when_one_command_ends_the_other_is_stopped():
    begin = time.monotonic()
    result = subprocess.run([sys.executable, str(RUNNER), "--", sys.executable, "-c", "import sys; sys.exit(3)",
                             "--", sys.executable, "-c", "import time; time.sleep(300)"], timeout=20)
    assert result.returncode == 3 and time.monotonic() - begin < 10


def test_make_run_uses_the_runner_and_shows_progress():
    makefile = (ROOT / "Makefile").read_text()
    run = re.search(r"^run:.*?(?=^\S)", makefile, re.S | re.M).group(0)
    assert "scripts/run_together.py" in run and "kill 0" not in run
    install = re.search(r"^\$\(VENV\)/.installed:.*?(?=^\S)", makefile, re.S | re.M).group(0)
    assert "pip install --quiet -e" not in install and "@echo" in install
