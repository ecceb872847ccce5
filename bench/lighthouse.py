"""Lighthouse on the demo's public pages: SEO, best practices, accessibility, performance.

    make lighthouse
    LIGHTHOUSE_HOSTS=127.0.0.1 LIGHTHOUSE_FORM_FACTORS=mobile .venv/bin/python bench/lighthouse.py

Sets up a throw-away SQLite demo, collects the static files and starts gunicorn with DEBUG off
behind Debian's nginx with the shipped configuration (deploy/nginx/workpro.conf, rendered by
bench/nginx.py) on https://<host>/ (port 443, a local CA that Chromium is told to trust through a
scratch NSS database; needs root for the port and `certutil` from libnss3-tools). Without nginx, or
with LIGHTHOUSE_PROXY=whitenoise, gunicorn alone on a free port serves the static files with
WhiteNoise (bench/lighthouse_settings.py). Then it runs Lighthouse 12 (`npx --yes lighthouse@12`: installed into npm's cache on first use, not
into the project; `make test` never needs it) in headless Chromium ($CHROME_PATH, default
/usr/bin/chromium) against the public pages of two demo sites, mobile and desktop, and prints one
row per page and form factor. Below the table: every SEO and best-practices audit that did not
pass. The JSON reports go to test-artifacts/lighthouse/. Exit status 1 when a page scores below
100 in SEO or best practices (the goal of #24).

Performance depends on the machine's load (the 2 cores are shared): compare it between runs here.
Traffic goes only to this machine.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import nginx  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HOSTS = os.environ.get("LIGHTHOUSE_HOSTS", "127.0.0.1,regenbogen.localhost").split(",")
FORM_FACTORS = os.environ.get("LIGHTHOUSE_FORM_FACTORS", "mobile,desktop").split(",")
LIGHTHOUSE = os.environ.get("LIGHTHOUSE_PACKAGE", "lighthouse@12")
CHROME_PATH = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
PROXY = os.environ.get("LIGHTHOUSE_PROXY") or (
    "nginx" if nginx.NGINX and shutil.which("certutil") and os.geteuid() == 0 else "whitenoise")
CATEGORIES = ("seo", "best-practices", "accessibility", "performance")
GOALS = {"seo": 100, "best-practices": 100}
OUT = ROOT / "test-artifacts" / "lighthouse"
# The offer each site's table shows: the one with a picture (its preview image and <img srcset>).
OFFERS = {"127.0.0.1": "krippenplatz", "localhost": "ausbildung-fachinformatiker",
          "regenbogen.localhost": "krippe-regenbogenkinder"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pages(host: str) -> list[str]:
    offer = f"/angebote/{OFFERS.get(host, 'krippenplatz')}/"
    return ["/", "/angebote/", offer, "/hilfe/", "/en/", f"/en{offer}"]


def prepare(tmp: Path, port: int) -> dict:
    """A fresh SQLite demo for sites on `port`, and the static files collected as in production."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "workpro_site.settings.dev",
           "SQLITE_PATH": str(tmp / "lighthouse.sqlite3"), "MEDIA_ROOT": str(tmp / "media"),
           "PRIVATE_MEDIA_ROOT": str(tmp / "private"), "STATIC_ROOT": str(tmp / "static"),
           "PYTHONPATH": str(ROOT)}
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    steps = [(["migrate", "--noinput", "-v", "0"], "workpro_site.settings.dev"),
             (["workpro_demo", "--port", str(port), "--quiet"], "workpro_site.settings.dev"),
             (["collectstatic", "--noinput", "-v", "0"], "bench.lighthouse_settings")]
    for command, settings in steps:
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, check=True,
                       env={**env, "DJANGO_SETTINGS_MODULE": settings}, stdout=subprocess.DEVNULL)
    return env


def wait_until_served(connect, processes: list[subprocess.Popen], log: Path, what: str) -> list[subprocess.Popen]:
    """Poll GET / through `connect()` until it answers 200 (the 2 cores may be busy: up to 180 s);
    otherwise stop `processes` and exit with the end of the gunicorn log."""
    deadline = time.monotonic() + 180
    status = None
    while time.monotonic() < deadline and all(p.poll() is None for p in processes):
        try:
            connection = connect()
            connection.request("GET", "/")
            status = connection.getresponse().status
            if status == 200:
                return processes
        except OSError:
            pass
        time.sleep(0.3)
    for process in processes:
        nginx.stop(process)
    raise SystemExit(f"{what} did not answer 200 (last status {status}):\n"
                     + log.read_text(errors="replace")[-2000:])


def start_server(env: dict, port: int, tmp: Path) -> list[subprocess.Popen]:
    """gunicorn alone, WhiteNoise serving the static files."""
    app = nginx.start_gunicorn({**env, "DJANGO_SETTINGS_MODULE": "bench.lighthouse_settings"}, port,
                               tmp / "gunicorn.log", workers=2)
    return wait_until_served(lambda: http.client.HTTPConnection(HOSTS[0], port, timeout=10), [app],
                             tmp / "gunicorn.log", "gunicorn")


CHROME_ENV: dict[str, str] = {}


def trust_ca(ca: Path, home: Path) -> dict[str, str]:
    """A scratch HOME whose NSS database trusts the local CA (Chromium on Linux reads $HOME/.pki/nssdb);
    npm keeps its cache where it was, so Lighthouse is not downloaded again."""
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True, exist_ok=True)
    subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True)
    subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n", "WorkPro local test CA",
                    "-i", str(ca)], check=True)
    npm_cache = os.environ.get("npm_config_cache") or str(Path.home() / ".npm")
    return {"HOME": str(home), "npm_config_cache": npm_cache}


def start_nginx_stack(env: dict, tmp: Path, https_port: int) -> list[subprocess.Popen]:
    """gunicorn on a private port, nginx with deploy/nginx/workpro.conf on `https_port` in front."""
    app_port, http_port = nginx.free_port(), nginx.free_port()
    tls = nginx.make_tls(tmp / "tls", [h for h in HOSTS] + ["localhost"])
    CHROME_ENV.update(trust_ca(tls["ca"], tmp / "home"))
    app_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.lighthouse_nginx_settings"}
    app = nginx.start_gunicorn(app_env, app_port, tmp / "gunicorn.log", workers=2)
    site = nginx.site_config(tmp, upstream="workpro_lighthouse", app_ports=[app_port], http_port=http_port,
                             https_port=https_port, tls=tls, static_root=Path(env["STATIC_ROOT"]),
                             media_root=Path(env["MEDIA_ROOT"]), private="private-filesystem.conf",
                             private_values={"PRIVATE_MEDIA_ROOT": env["PRIVATE_MEDIA_ROOT"]})
    web = nginx.start_nginx(nginx.main_config(tmp / "nginx", [site]), https_port=https_port)
    context = nginx.tls_context(tls["ca"])
    return wait_until_served(lambda: http.client.HTTPSConnection(HOSTS[0], https_port, timeout=10, context=context),
                             [web, app], tmp / "gunicorn.log", "nginx → gunicorn")


def lighthouse(url: str, form_factor: str, report: Path, categories=CATEGORIES) -> dict:
    command = ["npx", "--yes", LIGHTHOUSE, url, "--quiet", "--output=json", f"--output-path={report}",
               f"--only-categories={','.join(categories)}", "--max-wait-for-load=90000",
               "--chrome-flags=--headless=new --no-sandbox --disable-gpu --no-first-run"]
    if form_factor == "desktop":
        command.append("--preset=desktop")
    report.unlink(missing_ok=True)
    result = subprocess.run(command, env={**os.environ, "CHROME_PATH": CHROME_PATH, **CHROME_ENV},
                            capture_output=True, text=True, timeout=400)
    if result.returncode != 0 or not report.exists():
        raise RuntimeError(f"lighthouse failed on {url}: {result.stderr[-600:]}")
    return json.loads(report.read_text())


def audit(url: str, form_factor: str, report: Path) -> dict:
    """Lighthouse with retries: on a busy machine Chromium's trace sometimes misses the navigation
    start (NO_NAVSTART); the last try leaves out performance, which alone needs the trace."""
    for attempt in range(3):
        categories = CATEGORIES if attempt < 2 else tuple(c for c in CATEGORIES if c != "performance")
        try:
            return lighthouse(url, form_factor, report, categories)
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            print(f"    retry {url} {form_factor}: {str(error)[-200:]}", flush=True)
    raise RuntimeError(f"lighthouse failed three times on {url}")


def failed_audits(data: dict, category: str) -> list[str]:
    audits = data["audits"]
    failed = []
    for ref in data["categories"][category]["auditRefs"]:
        audit = audits[ref["id"]]
        if ref.get("weight", 0) and audit.get("score") is not None and audit["score"] < 1:
            failed.append(f"{ref['id']} ({audit['score']}): {audit.get('title', '')}")
    return failed


def main() -> int:
    if shutil.which("npx") is None:
        print("npx not found: install Node.js and npm to run Lighthouse", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    port = int(os.environ.get("LIGHTHOUSE_PORT") or (443 if PROXY == "nginx" else free_port()))
    scheme = "https" if PROXY == "nginx" else "http"
    authority = "" if (scheme, port) == ("https", 443) else f":{port}"
    rows, problems, below_goal = [], [], False
    keep = os.environ.get("LIGHTHOUSE_WORKDIR")  # kept and reused (same LIGHTHOUSE_PORT): no new demo
    with tempfile.TemporaryDirectory(prefix="workpro-lighthouse-", ignore_cleanup_errors=True) as name:
        tmp = Path(keep or name)
        tmp.mkdir(parents=True, exist_ok=True)
        print(f"==> Demo database, static files and gunicorn (DEBUG off), "
              f"{'behind nginx (deploy/nginx/workpro.conf)' if PROXY == 'nginx' else 'WhiteNoise'}, "
              f"on {scheme}://…{authority}/", flush=True)
        if keep and (tmp / "prepared").exists():
            env = json.loads((tmp / "prepared").read_text())
        else:
            env = prepare(tmp, port)
            if keep:
                (tmp / "prepared").write_text(json.dumps(env))
        servers = start_nginx_stack(env, tmp, port) if PROXY == "nginx" else start_server(env, port, tmp)
        try:
            for host in HOSTS:
                for path in pages(host):
                    for form_factor in FORM_FACTORS:
                        url = f"{scheme}://{host}{authority}{path}"
                        slug = f"{host}{path}".strip("/").replace("/", "_").replace(".", "-")
                        data = audit(url, form_factor, OUT / f"{slug}.{form_factor}.json")
                        scores = {c: round((data["categories"][c]["score"] or 0) * 100)
                                  if c in data["categories"] else "n/a" for c in CATEGORIES}
                        rows.append((f"{host}{path}", form_factor, scores))
                        print(f"  {host}{path} {form_factor}: " + " ".join(f"{c}={s}" for c, s in scores.items()),
                              flush=True)
                        for category, goal in GOALS.items():
                            if scores[category] == "n/a" or scores[category] < goal:
                                below_goal = True
                                problems += [f"{host}{path} {form_factor} {category}: {line}"
                                             for line in failed_audits(data, category)]
        finally:
            for server in servers:
                nginx.stop(server)
    print()
    print("| page | form factor | SEO | best practices | accessibility | performance |")
    print("|---|---|---|---|---|---|")
    for page, form_factor, s in rows:
        print(f"| {page} | {form_factor} | {s['seo']} | {s['best-practices']} | {s['accessibility']} "
              f"| {s['performance']} |")
    if problems:
        print("\nAudits that did not pass (SEO, best practices):")
        for line in problems:
            print(f"  {line}")
    print(f"\nServed by: {'nginx (deploy/nginx/workpro.conf) → gunicorn' if PROXY == 'nginx' else 'gunicorn + WhiteNoise'}"
          f"; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"Reports: {OUT}")
    return 1 if below_goal else 0


if __name__ == "__main__":
    sys.exit(main())
