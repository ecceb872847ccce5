"""Load test: gunicorn on 127.0.0.1 against a throw-away SQLite demo, one URL after the other.

    make load                                  # 20 s per URL, 4 connections
    LOAD_SECONDS=5 LOAD_CONNECTIONS=8 .venv/bin/python bench/load.py

Measures the offer index, an offer page, the login (POST with email and password,
argon2) and the portal overview ("Mein Konto", logged in), each interleaved with a
baseline page of the same site (the help page; for Mein Konto the help page of the same logged-in
parent, and that page beside the anonymous one in a row of its own): LOAD_SLICES alternating slices of
baseline and case, so both see the same machine load. Prints requests per second,
median and p95 latency, errors, and the case's ratio to the baseline (median of the
per-slice p50 ratios; throughput as case / baseline), with the load average. Every
URL is warmed up (all workers, logins) before the first timed slice. Each client
reads the login form once for its CSRF cookie; the timed login is the POST alone.
Exits with status 1 if any request failed. Traffic goes only to 127.0.0.1; every phase stops after its time.
The client runs on the same 2 cores as the server: compare figures between runs
on this machine, not with other machines.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
SECONDS = float(os.environ.get("LOAD_SECONDS", "20"))
CONNECTIONS = int(os.environ.get("LOAD_CONNECTIONS", "4"))
WORKERS = int(os.environ.get("LOAD_WORKERS", "2"))
SLICES = max(1, int(os.environ.get("LOAD_SLICES", "4")))
BASELINE_PATH = "/hilfe/"  # the demo's help page: a plain Wagtail page of the same site
HOST = "127.0.0.1"
EMAIL, PASSWORD = "eltern@example.org", "Demo-Eltern-2026"
CSRF_RE = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} (1 / 5 min), {os.cpu_count()} cores"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def prepare(tmp: Path, port: int) -> dict:
    """Migrate a fresh SQLite database and load the demo (sites on `port`)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "workpro_site.settings.dev",
           "SQLITE_PATH": str(tmp / "load.sqlite3"), "MEDIA_ROOT": str(tmp / "media"),
           "PRIVATE_MEDIA_ROOT": str(tmp / "private"), "PYTHONPATH": str(ROOT)}
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    for command in (["migrate", "--noinput", "-v", "0"], ["workpro_demo", "--port", str(port), "--quiet"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
    return env


def start_server(env: dict, port: int, tmp: Path) -> subprocess.Popen:
    server_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.load_settings"}
    log = open(tmp / "gunicorn.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "workpro_site.wsgi:application", "--bind", f"{HOST}:{port}",
         "--workers", str(WORKERS), "--worker-class", "sync", "--timeout", "60", "--log-level", "warning"],
        cwd=ROOT, env=server_env, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + float(os.environ.get("LOAD_START_SECONDS", "180"))  # slow on a busy machine
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    raise SystemExit(f"gunicorn did not start; see {tmp / 'gunicorn.log'}:\n"
                     + (tmp / "gunicorn.log").read_text(errors="replace")[-2000:])


class Session:
    """One keep-alive connection with its cookies."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.connection = http.client.HTTPConnection(HOST, port, timeout=30)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict, bytes]:
        headers = {"Host": f"{HOST}:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
        except (http.client.HTTPException, OSError):
            self.connection.close()
            self.connection = http.client.HTTPConnection(HOST, self.port, timeout=30)
            raise
        content = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, dict(response.headers), content

    def login(self) -> bool:
        self.cookies.pop("sessionid", None)
        status, _headers, content = self.request("GET", "/workpro/konto/anmelden/")
        token = CSRF_RE.search(content)
        if status != 200 or token is None:
            return False
        status, headers, _ = self.request("POST", "/workpro/konto/anmelden/", {
            "csrfmiddlewaretoken": token.group(1).decode(), "username": EMAIL, "password": PASSWORD})
        return status == 302 and headers.get("Location", "").endswith("/workpro/konto/")


@dataclass
class Result:
    label: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def row(self, ratios: tuple[float, float] | None = None) -> str:
        count = len(self.latencies)
        ordered = sorted(self.latencies)
        p50 = statistics.median(ordered) * 1000 if ordered else 0.0
        p95 = ordered[max(0, int(count * 0.95) - 1)] * 1000 if ordered else 0.0
        rps = count / self.elapsed if self.elapsed else 0.0
        ratio = f" {ratios[0]:>6.2f}x | {ratios[1]:>6.2f}x |" if ratios else f" {'':>7} | {'':>7} |"
        return (f"| {self.label:<28} | {count:>8} | {rps:>8.1f} | {p50:>8.1f} | {p95:>8.1f} | {self.errors:>6} |"
                + ratio)


def run_phase(port: int, step, seconds: float, result: Result) -> Result:
    """`step(session) -> bool` repeatedly from CONNECTIONS threads for `seconds` (after each thread's
    untimed setup); each step timed, added to `result`."""

    def worker():
        session = Session(port)
        setup = getattr(step, "setup", None)
        if setup is not None and not setup(session):
            with result.lock:
                result.errors += 1
            return
        stop_at = time.monotonic() + seconds
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                ok = step(session)
            except (http.client.HTTPException, OSError):
                ok = False
            took = time.perf_counter() - started
            with result.lock:
                if ok:
                    result.latencies.append(took)
                else:
                    result.errors += 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(CONNECTIONS)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)
    result.elapsed += time.monotonic() - began
    return result


def warm_up(port: int, steps) -> int:
    """Untimed: every URL a few times from every connection, so each worker has loaded code, templates
    and caches before the first timed slice. Returns failed requests."""
    failed = Result("warm-up")
    for step in steps:
        run_phase(port, step, 1.0, failed)
    return failed.errors


def interleaved(port: int, label: str, step, baseline, base_label: str = "help page") -> tuple[Result, Result, float, float]:
    """Baseline and case in SLICES alternating slices (B A B A ...); returns both results, the median
    of the per-slice p50 ratios and the throughput ratio."""
    base, case = Result(f"  baseline: {base_label}"[:28]), Result(label[:28])
    ratios = []
    for _ in range(SLICES):
        base_before, case_before = len(base.latencies), len(case.latencies)
        run_phase(port, baseline, SECONDS / SLICES, base)
        run_phase(port, step, SECONDS / SLICES, case)
        base_slice, case_slice = base.latencies[base_before:], case.latencies[case_before:]
        if base_slice and case_slice:
            ratios.append(statistics.median(case_slice) / statistics.median(base_slice))
    latency_ratio = statistics.median(ratios) if ratios else float("nan")
    base_rps = len(base.latencies) / base.elapsed if base.elapsed else 0.0
    case_rps = len(case.latencies) / case.elapsed if case.elapsed else 0.0
    return base, case, latency_ratio, (case_rps / base_rps if base_rps else float("nan"))


def get_ok(path: str):
    def step(session: Session) -> bool:
        status, _headers, _content = session.request("GET", path)
        return status == 200
    return step


def login_setup(session: Session) -> bool:
    """Once per client: the login form sets the CSRF cookie (untimed)."""
    status, _headers, _content = session.request("GET", "/workpro/konto/anmelden/")
    return status == 200 and "csrftoken" in session.cookies


def login_step(session: Session) -> bool:
    """The POST alone, no GET before it: Django accepts the CSRF cookie's secret as the form token, and
    the login's new cookie (CSRF rotation) is picked up from the answer for the next try."""
    session.cookies.pop("sessionid", None)
    status, headers, _ = session.request("POST", "/workpro/konto/anmelden/", {
        "csrfmiddlewaretoken": session.cookies["csrftoken"], "username": EMAIL, "password": PASSWORD})
    return status == 302 and headers.get("Location", "").endswith("/workpro/konto/")


login_step.setup = login_setup


def overview_step(session: Session) -> bool:
    status, _headers, content = session.request("GET", "/workpro/konto/")
    return status == 200 and b"Alle Vertr" in content


overview_step.setup = Session.login


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="workpro-load-"))
    port = free_port()
    server = None
    status = 1
    try:
        print(f"preparing the SQLite demo in {tmp} ...", flush=True)
        env = prepare(tmp, port)
        server = start_server(env, port, tmp)
        probe = Session(port)
        status, _h, content = probe.request("GET", "/angebote/")
        offer = re.search(rb'href="(/angebote/[a-z0-9-]+/)"', content)
        if status != 200 or offer is None:
            raise SystemExit("the offer index of the demo has no offers")
        offer_path = offer.group(1).decode()
        print(f"gunicorn on http://{HOST}:{port}/ ({WORKERS} sync workers), {CONNECTIONS} connections, "
              f"{SECONDS:.0f} s per URL; offer page {offer_path}", flush=True)
        baseline = get_ok(BASELINE_PATH)
        baseline_logged_in = get_ok(BASELINE_PATH)
        baseline_logged_in.setup = Session.login  # as overview_step: logged in once per client, untimed
        # (label, case, baseline, baseline's label): Mein Konto beside the help page of the same logged-in
        # parent (as bench_portal), so the ratio is the portal's own cost; what a login itself costs every
        # page (session, user, permissions) is its own row, the logged-in help page beside the anonymous one.
        phases = [
            ("Angebote (offer index)", get_ok("/angebote/"), baseline, "help page"),
            ("Angebot (offer page)", get_ok(offer_path), baseline, "help page"),
            ("Login (POST)", login_step, baseline, "help page"),
            ("Mein Konto (overview)", overview_step, baseline_logged_in, "help page, logged in"),
            ("help page, logged in", baseline_logged_in, baseline, "help page"),
        ]
        print(f"warming up every URL (untimed) ...; {load_average()}", flush=True)
        warm_errors = warm_up(port, [baseline, *(step for _label, step, _b, _l in phases)])
        rows, results = [], []
        for label, step, base_step, base_label in phases:
            base, case, latency_ratio, rps_ratio = interleaved(port, label, step, base_step, base_label)
            rows.append((case, (latency_ratio, rps_ratio)))
            rows.append((base, None))
            results += [base, case]
            print(f"  {label}: done; {load_average()}", flush=True)
        print()
        print(f"Each URL interleaved with the help page ({BASELINE_PATH}; for Mein Konto as the same logged-in parent) "
              f"in {SLICES} slices; ratio p50 = case / baseline latency (median of slices), ratio req/s = case / "
              "baseline throughput.")
        print(f"| {'URL':<28} | {'requests':>8} | {'req/s':>8} | {'p50 ms':>8} | {'p95 ms':>8} | {'errors':>6} |"
              f" {'p50':>7} | {'req/s':>7} |")
        print(f"|{'-' * 30}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 8}|{'-' * 9}|{'-' * 9}|")
        for result, ratios in rows:
            print(result.row(ratios))
        print(f"\n{load_average()}")
        if warm_errors:
            print(f"warm-up: {warm_errors} failed requests")
        errors = sum(r.errors for r in results)
        empty = [r.label for r in results if not r.latencies]
        if errors or empty:
            print(f"\nFAILED: {errors} errors; no successful request for {empty or 'none'}. "
                  f"Server log: {tmp / 'gunicorn.log'}")
            status = 1
            return status
        print("\nzero errors")
        status = 0
        return status
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        if status == 0 and os.environ.get("LOAD_KEEP_TMP") != "1":
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
