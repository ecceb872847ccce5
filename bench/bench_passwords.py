"""Password hashing and logins: Django's default Argon2 (m=100 MiB, p=8) against WorkPro's argon2id (m=19 MiB, t=2, p=1).

Every figure is measured interleaved (A, B, A, B, ...) in this one run, so both sides see the same load:
hashes per second in one process and on the whole machine (one process per core), the peak resident
memory one hash adds (free heap trimmed and VmHWM reset through /proc/self/clear_refs before each hash), and logins per
second through the portal login view (Django test client), in one process and one per core.
BENCH_PASSWORD_ROUNDS scales the number of interleaved pairs (default 8).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import statistics
import time

from django.test import Client
from django.test.utils import override_settings

DJANGO_DEFAULT = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
WORKPRO = ["workpro_plugin.lib.hashers.WorkProArgon2PasswordHasher", "django.contrib.auth.hashers.Argon2PasswordHasher"]
VARIANTS = (("Django default argon2 (m=100 MiB, t=2, p=8)", DJANGO_DEFAULT),
            ("WorkPro argon2id (m=19 MiB, t=2, p=1)", WORKPRO))
PASSWORD = "Sonnenblume-2026"
HOST = "127.0.0.1:8000"
ROUNDS = int(os.environ.get("BENCH_PASSWORD_ROUNDS", "8"))
CORES = os.cpu_count() or 1


def _status(field: str) -> int:
    """A VmXXX line of /proc/self/status in KiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    # Give freed heap back first: in a long-lived process (after the other bench modules) a hash would
    # otherwise reuse memory that is already resident and add nothing to the peak.
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


def _hash_once(hasher) -> tuple[float, float]:
    """Seconds for one hash and the peak RSS it added in MiB."""
    can_reset = _reset_peak()
    before = _status("VmRSS")
    started = time.perf_counter()
    hasher.encode(PASSWORD, hasher.salt())
    seconds = time.perf_counter() - started
    peak = _status("VmHWM") if can_reset else before
    return seconds, max(peak - before, 0) / 1024


def _hash_worker(path: str, count: int) -> None:
    from django.utils.module_loading import import_string

    hasher = import_string(path)()
    for _ in range(count):
        hasher.encode(PASSWORD, hasher.salt())


def _parallel(target, args_for, processes: int) -> float:
    """Wall seconds for `processes` forked workers running target(*args) at once."""
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=target, args=args_for(i)) for i in range(processes)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
        if worker.exitcode != 0:
            raise SystemExit(f"a bench worker failed with exit code {worker.exitcode}")
    return time.perf_counter() - started


def _login_worker(hashers: list[str], email: str, count: int) -> None:
    from django.db import connections

    connections.close_all()  # a forked child opens its own SQLite connection
    with override_settings(PASSWORD_HASHERS=hashers):
        for _ in range(count):
            _login(email)


def _login(email: str) -> None:
    response = Client(HTTP_HOST=HOST, SERVER_PORT="8000").post("/workpro/konto/anmelden/", {"username": email, "password": PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"login of {email} answered {response.status_code}")


def run() -> None:
    from django.contrib.auth.hashers import get_hasher
    from django.db import connections

    from tests.factories import make_user
    from workpro_site.demo import load_demo

    load_demo(port=8000)
    print(f"   load average {os.getloadavg()[0]:.2f}, {CORES} cores, {ROUNDS} interleaved pairs per figure")

    # --- hashes per second and peak memory per hash, one process, interleaved A B A B
    hashers = []
    for _, paths in VARIANTS:
        with override_settings(PASSWORD_HASHERS=paths):
            hashers.append(get_hasher("default"))
    for hasher in hashers:
        _hash_once(hasher)  # warm
    seconds, memory = ([], []), ([], [])
    for _ in range(ROUNDS):
        for side, hasher in enumerate(hashers):
            took, peak = _hash_once(hasher)
            seconds[side].append(took)
            memory[side].append(peak)
    rates = [1 / statistics.median(side) for side in seconds]
    peaks = [max(side) for side in memory]
    for (label, _), rate, peak in zip(VARIANTS, rates, peaks):
        print(f"   {label:<48} {rate:7.1f} hashes/s (1 process)   peak +{peak:6.1f} MiB RSS per hash")
    print(f"   {'':<48} ratio WorkPro/Django: {rates[1] / rates[0]:.2f}x hashes/s, "
          f"{peaks[1] / peaks[0] if peaks[0] else 0:.2f}x memory")

    # --- the whole machine: one process per core, interleaved
    per_worker = max(2, ROUNDS // 2)
    machine = ([], [])
    for _ in range(max(2, ROUNDS // 4)):
        for side, (_, paths) in enumerate(VARIANTS):
            wall = _parallel(_hash_worker, lambda i, p=paths: (p[0], per_worker), CORES)
            machine[side].append(CORES * per_worker / wall)
    machine_rates = [statistics.median(side) for side in machine]
    for (label, _), rate in zip(VARIANTS, machine_rates):
        print(f"   {label:<48} {rate:7.1f} hashes/s ({CORES} processes)")
    print(f"   {'':<48} ratio WorkPro/Django: {machine_rates[1] / machine_rates[0]:.2f}x")

    # --- logins per second through the portal login view
    emails = []
    for side, (_, paths) in enumerate(VARIANTS):
        with override_settings(PASSWORD_HASHERS=paths):
            user = make_user(f"bench-login-{side}@example.org")
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
            emails.append(f"bench-login-{side}@example.org")
            _login(emails[side])  # warm; a WorkPro login leaves the hash as it is
    single = ([], [])
    for _ in range(ROUNDS):
        for side, (_, paths) in enumerate(VARIANTS):
            with override_settings(PASSWORD_HASHERS=paths):
                started = time.perf_counter()
                _login(emails[side])
                single[side].append(time.perf_counter() - started)
    login_rates = [1 / statistics.median(side) for side in single]
    for (label, _), rate in zip(VARIANTS, login_rates):
        print(f"   {'logins, ' + label:<48} {rate:7.1f} logins/s (1 process)")
    print(f"   {'':<48} ratio WorkPro/Django: {login_rates[1] / login_rates[0]:.2f}x")

    connections.close_all()
    parallel = ([], [])
    for _ in range(max(2, ROUNDS // 4)):
        for side, (_, paths) in enumerate(VARIANTS):
            wall = _parallel(_login_worker, lambda i, p=paths, e=emails[side]: (p, e, per_worker), CORES)
            parallel[side].append(CORES * per_worker / wall)
    parallel_rates = [statistics.median(side) for side in parallel]
    for (label, _), rate in zip(VARIANTS, parallel_rates):
        print(f"   {'logins, ' + label:<48} {rate:7.1f} logins/s ({CORES} processes)")
    print(f"   {'':<48} ratio WorkPro/Django: {parallel_rates[1] / parallel_rates[0]:.2f}x (goal >= 4x)")
