"""`make cluster`: WorkPro on several "machines" for real, on this one, without containers.

    make cluster                                   # about 3-5 minutes on 2 cores
    CLUSTER_REGISTRATIONS=24 CLUSTER_LOGINS=12 .venv/bin/python bench/cluster.py

Starts, each as an ordinary child process on free ports of 127.0.0.1:

- a local CA and a server certificate (cryptography), nginx (Debian) with deploy/nginx/workpro.conf
  rendered for an upstream of both gunicorn instances, HTTPS only, static files, private documents
  via X-Accel-Redirect proxied to S3; plus two "pinned" nginx servers (same file, one instance each)
  so the run can choose the instance, as a load balancer's sticky choice would;
- two gunicorn instances and two `qcluster`s, sharing one PostgreSQL database (CLUSTER_DATABASE,
  dropped and created anew), Redis (CLUSTER_REDIS_URL, flushed) as cache and django-q2 broker,
  moto's S3 server as private storage (django-storages S3Storage).

Everything is configured through the environment, exactly the variables of the README's deployment
guide (printed with --env). Then a bounded load run across both instances: registrations (one client
address: the per-address limit of 20 an hour must hold across both instances), logins and portal
pages, a document upload through instance 1 downloaded through instance 2, an offer published via
the ORM (a Wagtail revision), and the checks, printed as PASS/FAIL with figures. Exits 1 if a check
fails. Every process is stopped at the end, also on Ctrl-C.
"""

from __future__ import annotations

import datetime
import email
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import nginx  # noqa: E402

ROOT = nginx.ROOT
HOST = nginx.HOST
PG = os.environ.get("CLUSTER_PG", "postgres://postgres@127.0.0.1:5432")
DATABASE = os.environ.get("CLUSTER_DATABASE", "workpro_cluster")
REDIS_URL = os.environ.get("CLUSTER_REDIS_URL", "redis://127.0.0.1:6379/8")
REGISTRATIONS = int(os.environ.get("CLUSTER_REGISTRATIONS", "24"))
LOGINS = int(os.environ.get("CLUSTER_LOGINS", "12"))
CONNECTIONS = int(os.environ.get("CLUSTER_CONNECTIONS", "4"))
REGISTER_LIMIT = 20  # per client address and hour (portal/views/registration.py)
PARENT = ("eltern@example.org", "Demo-Eltern-2026")
BUCKET = "workpro-private"
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Cluster:
    """The child processes, stopped in reverse order by close() (also after Ctrl-C)."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.processes: list[tuple[str, subprocess.Popen]] = []

    def add(self, name: str, process: subprocess.Popen) -> subprocess.Popen:
        self.processes.append((name, process))
        return process

    def spawn(self, name: str, args: list[str], env: dict) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        return self.add(name, subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                               start_new_session=True))

    def close(self) -> None:
        # A qcluster lets running tasks finish for up to WORKPRO_TASK_STOP_SECONDS (settings, default 30):
        # SIGKILL only after that, so an exit -9 here means a stop that hung.
        grace = int(os.environ.get("WORKPRO_TASK_STOP_SECONDS", "30")) + 5
        for name, process in reversed(self.processes):
            if process.poll() is None:
                nginx.stop(process, grace=grace)
            print(f"  stopped {name:<10} (pid {process.pid}, exit {process.returncode})")
        self.processes.clear()


def step(text: str) -> None:
    print(f"==> {text}", flush=True)


# --- preparing the shared services -------------------------------------------------------------

def fresh_database() -> tuple[str, bool]:
    """Dropped and created anew; with CLUSTER_REUSE=1 an existing one is kept (and the demo not loaded
    again: quicker reruns while working on the run itself). Returns the URL and whether it is new."""
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone()
        if exists and os.environ.get("CLUSTER_REUSE") == "1":
            return f"{PG}/{DATABASE}", False
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    return f"{PG}/{DATABASE}", True


def fresh_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def environment(tmp: Path, ports: dict, database_url: str) -> dict:
    """The deployment's variables (README, "Several machines"); printed with --env."""
    hosts = ["127.0.0.1", "localhost", "regenbogen.localhost"]
    return {
        "DJANGO_SETTINGS_MODULE": "bench.cluster_settings",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": ",".join(hosts),
        "CSRF_TRUSTED_ORIGINS": ",".join(f"https://{h}:{p}" for h in hosts
                                         for p in (ports["https"], ports["pin1"], ports["pin2"])),
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "Q_CLUSTER_NAME": "workpro-cluster",
        "Q_WORKERS": "1",
        "S3_PRIVATE_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": f"http://{HOST}:{ports['s3']}",
        "S3_REGION": "eu-central-1",
        "S3_ADDRESSING_STYLE": "path",
        "AWS_ACCESS_KEY_ID": "cluster",
        "AWS_SECRET_ACCESS_KEY": "cluster-secret",
        "WORKPRO_X_ACCEL_REDIRECT": "/_workpro_private/",
        "TRUSTED_PROXIES": HOST,
        "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
        "STATIC_ROOT": str(tmp / "static"),
        "MEDIA_ROOT": str(tmp / "media"),
        "WAGTAILADMIN_BASE_URL": f"https://localhost:{ports['https']}",
        "CLUSTER_OUTBOX_DIR": str(tmp / "outbox"),
    }


def manage(env: dict, *args: str, quiet: bool = True) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout[-2000:]}{result.stderr[-4000:]}")
    return result.stdout


def orm(env: dict, code: str):
    """Run `code` in `manage.py shell` on the cluster's database; it prints one JSON line, returned parsed."""
    output = manage(env, "shell", "-c", code)
    return json.loads(output.strip().splitlines()[-1])


# --- the client -------------------------------------------------------------------------------

@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, label: str, status: int, took: float) -> None:
        with self.lock:
            self.latencies.setdefault(label, []).append(took)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status >= 500:
                self.errors.append(f"{label}: HTTP {status}")

    def failure(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


class Browser:
    """One client with its cookies over HTTPS (certificate checked against the local CA)."""

    def __init__(self, port: int, context, stats: Stats, host: str = "localhost"):
        self.port, self.context, self.stats, self.host = port, context, stats, host
        self.cookies: dict[str, str] = {}
        self.conn = None

    def request(self, label: str, method: str, path: str, *, data: dict | None = None, body: bytes | None = None,
                content_type: str = "", headers: dict | None = None) -> tuple[int, dict, bytes]:
        origin = f"https://{self.host}:{self.port}"
        sent = {"Host": f"{self.host}:{self.port}", "Accept-Encoding": "identity", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if data is not None:
            body, content_type = urlencode(data).encode(), "application/x-www-form-urlencoded"
        if body is not None:
            sent.update({"Content-Type": content_type, "Origin": origin, "Referer": origin + path})
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection(self.host, self.port, timeout=120, context=self.context)
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=sent)
                response = self.conn.getresponse()
                content = response.read()
                break
            except (http.client.HTTPException, OSError) as exc:
                self.conn.close()
                self.conn = None
                if attempt == 2 or method != "GET":
                    self.stats.failure(f"{label}: {exc!r}")
                    return 0, {}, b""
        self.stats.record(label, response.status, time.perf_counter() - started)
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, {k.lower(): v for k, v in response.headers.items()}, content

    def token(self, label: str, path: str) -> str:
        status, _headers, content = self.request(label, "GET", path)
        found = CSRF_RE.search(content.decode(errors="replace"))
        if status != 200 or not found:
            self.stats.failure(f"{label}: GET {path} gave {status} without a form")
            return ""
        return found.group(1)

    def login(self, email_address: str, password: str) -> bool:
        token = self.token("login form", "/workpro/konto/anmelden/")
        status, headers, _ = self.request("login", "POST", "/workpro/konto/anmelden/", data={
            "csrfmiddlewaretoken": token, "username": email_address, "password": password})
        return status == 302 and headers.get("location", "").endswith("/workpro/konto/")


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content, ctype) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: {ctype}\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def pdf_bytes() -> bytes:
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# --- checks -------------------------------------------------------------------------------------

class Checks:
    def __init__(self):
        self.results: list[tuple[bool, str, str]] = []

    def add(self, ok: bool, name: str, figures: str) -> None:
        self.results.append((bool(ok), name, figures))
        print(f"  {'PASS' if ok else 'FAIL'}  {name}: {figures}", flush=True)

    @property
    def failed(self) -> int:
        return sum(1 for ok, _n, _f in self.results if not ok)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] if ordered else 0.0


# --- the run ------------------------------------------------------------------------------------

def run(tmp: Path, cluster: Cluster) -> int:
    ports = {name: nginx.free_port() for name in ("https", "http", "pin1", "pin1_http", "pin2", "pin2_http",
                                                  "app1", "app2", "s3")}
    step(f"Scratch directory {tmp}; ports {ports}")
    tls = nginx.make_tls(tmp / "tls", ["localhost", "127.0.0.1", "regenbogen.localhost"])
    context = nginx.tls_context(tls["ca"])

    step("S3: moto server mode, private bucket")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("DATABASE_URL", "REDIS_URL", "SQLITE_PATH"):
        env.pop(name, None)
    s3 = cluster.spawn("moto", [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(ports["s3"])], env)
    nginx.wait_for_port(ports["s3"], process=s3, seconds=60)
    database_url, new_database = fresh_database()
    env.update(environment(tmp, ports, database_url))
    import boto3

    s3_client = boto3.client("s3", endpoint_url=env["S3_ENDPOINT_URL"], region_name=env["S3_REGION"],
                             aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                             aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    s3_client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": env["S3_REGION"]})
    fresh_redis()

    step(f"PostgreSQL database {DATABASE}: migrate, demo data (sites on port {ports['https']}), collectstatic")
    began = time.monotonic()
    mail_began = datetime.datetime.now(datetime.timezone.utc).isoformat()  # the mail directory is new too
    manage(env, "migrate", "--noinput", "-v", "0")
    if new_database:
        manage(env, "workpro_demo", "--port", str(ports["https"]), "--quiet", "--force")  # a throw-away database
    manage(env, "collectstatic", "--noinput", "-v", "0")
    print(f"  prepared in {time.monotonic() - began:.0f} s")

    step("Two gunicorn instances, two qclusters, nginx")
    for number in (1, 2):
        port = ports[f"app{number}"]
        cluster.add(f"gunicorn{number}", nginx.start_gunicorn(env, port, tmp / f"gunicorn{number}.log",
                                                              workers=2, name=f"workpro{number}"))
        cluster.spawn(f"qcluster{number}", [sys.executable, "manage.py", "qcluster"], env)
    common = {"tls": tls, "static_root": tmp / "static", "media_root": tmp / "media", "private": "private-s3.conf",
              "private_values": {"S3_ENDPOINT": env["S3_ENDPOINT_URL"], "S3_HOST": f"{HOST}:{ports['s3']}"}}
    sites = [nginx.site_config(tmp, upstream="workpro_app", app_ports=[ports["app1"], ports["app2"]],
                               http_port=ports["http"], https_port=ports["https"], **common)]
    for number in (1, 2):
        sites.append(nginx.site_config(tmp, upstream=f"workpro_app{number}", app_ports=[ports[f"app{number}"]],
                                       http_port=ports[f"pin{number}_http"], https_port=ports[f"pin{number}"],
                                       suffix=f"-pin{number}", **common))
    cluster.add("nginx", nginx.start_nginx(nginx.main_config(tmp, sites), https_port=ports["https"]))
    for number in (1, 2):
        nginx.wait_for_port(ports[f"pin{number}"])

    facts = orm(env, """
import json
from workpro_plugin.models import OfferPage
offers = []
for page in OfferPage.objects.live().specific():
    site = page.get_site()
    if site and page.registration_state().is_open and not getattr(page, "is_addon", False):
        offers.append({"id": page.pk, "path": page.get_url_parts()[2], "host": site.hostname,
                       "index": page.get_parent().get_url_parts()[2], "title": page.title})
print(json.dumps(offers))
""")
    offers = [o for o in facts if o["host"] == "localhost"] or facts
    if not offers:
        raise RuntimeError("the demo has no offer open for registration")
    offer = offers[0]
    print(f"  offer for the run: {offer['title']!r} at https://{offer['host']}{offer['path']}")

    stats = Stats()
    checks = Checks()
    run_began = orm(env, "import json; from django.utils import timezone; "
                         "print(json.dumps(timezone.now().isoformat()))")
    started_run = time.monotonic()

    step(f"Load: {REGISTRATIONS} registrations from one client address, {CONNECTIONS} at a time, both instances")

    refusals: dict[str, int] = {}

    def register(index: int) -> int:
        browser = Browser(ports["https"], context, stats, host=offer["host"])
        token = browser.token("offer page", offer["path"])
        first = "".join(chr(ord("a") + int(digit)) for digit in str(index)).capitalize()  # names have no digits
        status, headers, content = browser.request("registration", "POST", offer["path"], data={
            "csrfmiddlewaretoken": token, "last_name": "Lastlauf", "first_name": f"Lena {first}",
            "email": f"cluster-{index}-{uuid.uuid4().hex[:6]}@example.org", "privacy": "on", "website": ""})
        if status == 400:
            reason = re.search(r'class="[^"]*(?:errorlist|error|alert)[^"]*"[^>]*>\s*(?:<li>)?([^<]{5,200})',
                               content.decode(errors="replace"))
            with stats.lock:
                key = reason.group(1).strip() if reason else "?"
                refusals[key] = refusals.get(key, 0) + 1
        return status

    with ThreadPoolExecutor(CONNECTIONS) as pool:
        registration_statuses = list(pool.map(register, range(REGISTRATIONS)))
    accepted = registration_statuses.count(302)
    refused = registration_statuses.count(400)

    step(f"Load: {LOGINS} logins, each followed by the portal pages, both instances")
    portal_pages = ["/workpro/konto/", "/workpro/konto/dokumente/", "/workpro/konto/nachrichten/",
                    "/workpro/konto/daten/"]

    def login_and_browse(_index: int) -> bool:
        browser = Browser(ports["https"], context, stats, host=offer["host"])
        if not browser.login(*PARENT):
            stats.failure("login refused")
            return False
        ok = True
        for path in portal_pages:
            status, _h, _c = browser.request("portal page", "GET", path)
            ok = ok and status == 200
        return ok

    login_began = time.monotonic()
    with ThreadPoolExecutor(CONNECTIONS) as pool:
        logins_ok = sum(pool.map(login_and_browse, range(LOGINS)))
    login_seconds = time.monotonic() - login_began

    step("Upload through instance 1, download through instance 2 (nginx, X-Accel-Redirect from S3)")
    one = Browser(ports["pin1"], context, stats, host=offer["host"])
    one.login(*PARENT)
    chat_path = f"/workpro/konto/nachrichten/angebot/{offer['id']}/"
    status, headers, content = one.request("chat form", "GET", chat_path)
    if status == 302:  # a conversation about the offer exists: post into it
        chat_path = headers["location"]
        status, headers, content = one.request("chat form", "GET", chat_path)
    token_match = CSRF_RE.search(content.decode(errors="replace"))
    uploaded = pdf_bytes()
    body, ctype = multipart({"csrfmiddlewaretoken": token_match.group(1) if token_match else "",
                             "body": "Nachweis aus dem Lastlauf"},
                            {"attachment": ("nachweis-lastlauf.pdf", uploaded, "application/pdf")})
    upload_status, _h, _c = one.request("upload", "POST", chat_path, body=body, content_type=ctype)
    document = orm(env, """
import json
from workpro_plugin.models import Document
d = Document.objects.filter(kind="chat_attachment", uploaded_by__email="eltern@example.org").order_by("-pk").first()
print(json.dumps(d and {"id": d.pk, "name": d.file.name, "storage": type(d.file.storage).__name__}))
""")
    two = Browser(ports["pin2"], context, stats, host=offer["host"])
    two.cookies = dict(one.cookies)  # the same session, now on the other instance
    download = {"status": 0, "body": b"", "headers": {}}
    direct_header = ""
    stored = b""
    if document:
        path = f"/workpro/konto/dokumente/{document['id']}/?download=1"
        download["status"], download["headers"], download["body"] = two.request("download", "GET", path)
        stored = s3_client.get_object(Bucket=BUCKET, Key=document["name"])["Body"].read()
        direct = http.client.HTTPConnection(HOST, ports["app2"], timeout=60)
        direct.request("GET", path, headers={"Host": offer["host"], "X-Forwarded-Proto": "https",
                                             "Cookie": "; ".join(f"{k}={v}" for k, v in one.cookies.items())})
        answer = direct.getresponse()
        direct_body = answer.read()
        direct_header = answer.getheader("X-Accel-Redirect") or ""
        direct_header_ok = direct_header.startswith(f"/_workpro_private/{BUCKET}/") and direct_body == b""
    else:
        direct_header_ok = False

    step("Offer publish via the ORM (Wagtail revision): visible on both instances at once")
    pinned = [Browser(ports[f"pin{n}"], context, stats, host=offer["host"]) for n in (1, 2)]
    for browser in pinned:  # warm both instances' view of the listing and the page
        browser.request("offer index", "GET", offer["index"])
        browser.request("offer page", "GET", offer["path"])
    new_title = f"{offer['title']} – neu {secrets.token_hex(3)}"
    orm(env, f"""
import json
from workpro_plugin.models import OfferPage
page = OfferPage.objects.get(pk={offer['id']}).specific
page.title = {new_title!r}
page.save_revision(log_action=True).publish()
print(json.dumps(True))
""")
    seen = []
    for browser in pinned:
        index_status, _h, index_body = browser.request("offer index", "GET", offer["index"])
        page_status, _h, page_body = browser.request("offer page", "GET", offer["path"])
        seen.append(all(new_title in body.decode(errors="replace") for body in (index_body, page_body)))
    run_seconds = time.monotonic() - started_run

    step("Waiting for the task clusters to empty the outbox")
    deadline = time.monotonic() + 180
    while True:
        outbox = orm(env, """
import json
from django.db.models import Count
from workpro_plugin.models import OutboxMessage
rows = OutboxMessage.objects.filter(created_at__gte=RUN_BEGAN)
print(json.dumps({"pending": rows.exclude(state__in=["sent", "failed"]).count(),
                  "sent": rows.filter(state="sent").count(), "failed": rows.filter(state="failed").count(),
                  "mails_sent": OutboxMessage.objects.filter(state="sent", channel="mail",
                                                             sent_at__gte=MAIL_BEGAN).count(),
                  "duplicates": list(rows.values("channel", "recipient", "template", "context")
                                     .annotate(n=Count("pk")).filter(n__gt=1)
                                     .values_list("recipient", "template", "n"))}))
""".replace("RUN_BEGAN", repr(run_began)).replace("MAIL_BEGAN", repr(mail_began)))
        if outbox["pending"] == 0 or time.monotonic() > deadline:
            break
        time.sleep(2)
    numbers = orm(env, """
import json
from django.db.models import Count
from workpro_plugin.models import Enrollment, Person
def dups(qs, field):
    return list(qs.exclude(**{field: None}).exclude(**{field: ""}).values(field).annotate(n=Count("pk"))
                .filter(n__gt=1).values_list(field, "n"))
print(json.dumps({"customer_numbers": Person.objects.exclude(customer_number=None).exclude(customer_number="").count(),
                  "customer_dups": dups(Person.objects.all(), "customer_number"),
                  "contracts": Enrollment.objects.exclude(contract_number=None).exclude(contract_number="").count(),
                  "contract_dups": dups(Enrollment.objects.all(), "contract_number"),
                  "enrollments": Enrollment.objects.count(), "people": Person.objects.count()}))
""")
    message_ids = []
    for mail_file in sorted((tmp / "outbox" / "mail").glob("*")):
        for chunk in mail_file.read_text(errors="replace").split("-" * 79):
            if chunk.strip():
                parsed = email.message_from_string(chunk.strip() + "\n")
                if parsed.get("Message-ID"):
                    message_ids.append(parsed["Message-ID"])

    per_instance = {}
    for number in (1, 2):
        access = tmp / f"gunicorn{number}.access.log"
        per_instance[number] = len(access.read_text().splitlines()) if access.exists() else 0

    print()
    step("Checks")
    requests_total = sum(stats.statuses.values())
    fives = sum(n for code, n in stats.statuses.items() if code >= 500)
    checks.add(fives == 0 and not stats.errors, "zero errors",
               f"{requests_total} requests through nginx in {run_seconds:.1f} s, 5xx: {fives}, "
               f"connection/flow errors: {len(stats.errors)} {stats.errors[:3]}, "
               f"statuses {dict(sorted(stats.statuses.items()))}")
    checks.add(per_instance[1] > 0 and per_instance[2] > 0, "both instances served",
               f"gunicorn 1: {per_instance[1]} requests, gunicorn 2: {per_instance[2]} requests")
    checks.add(accepted == min(REGISTRATIONS, REGISTER_LIMIT) and accepted + refused == REGISTRATIONS,
               "registration limit shared across instances (Redis)",
               f"{accepted} of {REGISTRATIONS} accepted, {refused} refused "
               f"(limit {REGISTER_LIMIT} per address and hour): {refusals or ''}")
    checks.add(logins_ok == LOGINS, "logins and portal pages",
               f"{logins_ok} of {LOGINS} logins with {len(portal_pages)} portal pages each, "
               f"{LOGINS / login_seconds:.2f} logins/s incl. pages")
    checks.add(outbox["pending"] == 0 and outbox["failed"] == 0 and not outbox["duplicates"],
               "no duplicate outbox rows, outbox drained",
               f"{outbox['sent']} sent, {outbox['pending']} pending, {outbox['failed']} failed, "
               f"duplicates per (channel, recipient, template, context): {outbox['duplicates'][:3] or 0}")
    known = set(orm(env, """
import json
from workpro_plugin.models import OutboxMessage
from workpro_plugin.services.notify import message_id
print(json.dumps([message_id(m) for m in OutboxMessage.objects.filter(channel="mail", state="sent")]))
"""))
    strangers = [m for m in message_ids if m.strip() not in known]
    checks.add(len(message_ids) == len(set(message_ids)) == outbox["mails_sent"] and not strangers,
               "no duplicate mails",
               f"{len(message_ids)} mails written during the run, {len(set(message_ids))} distinct Message-IDs, "
               f"{outbox['mails_sent']} outbox mails marked sent, {len(strangers)} without an outbox row")
    checks.add(not numbers["customer_dups"] and not numbers["contract_dups"], "no duplicate numbers",
               f"{numbers['customer_numbers']} Kundennummern, {numbers['contracts']} Vertragsnummern "
               f"({numbers['people']} people, {numbers['enrollments']} enrollments), duplicates: "
               f"{numbers['customer_dups'] + numbers['contract_dups'] or 0}")
    checks.add(all(seen), "publish visible on both instances at once",
               f"new title on instance 1: {seen[0]}, on instance 2: {seen[1]} (first request after the publish)")
    checks.add(bool(document) and document["storage"] == "S3Storage" and upload_status == 302,
               "upload through instance 1 stored in S3",
               f"POST {upload_status}, document {document and document['id']} in {document and document['storage']} "
               f"as {document and document['name']}")
    checks.add(download["status"] == 200 and download["body"] == stored and stored.startswith(b"%PDF")
               and "x-accel-redirect" not in download["headers"] and direct_header_ok,
               "download through instance 2 via nginx (X-Accel-Redirect)",
               f"HTTP {download['status']}, {len(download['body'])} bytes equal to the S3 object: "
               f"{download['body'] == stored}, type {download['headers'].get('content-type')}, "
               f"Django's answer: X-Accel-Redirect {direct_header.split('?')[0]}?… "
               f"with an empty body: {direct_header_ok}")
    print()
    print("| phase | requests | p50 ms | p95 ms |")
    print("|---|---:|---:|---:|")
    for label, values in stats.latencies.items():
        print(f"| {label} | {len(values)} | {statistics.median(values) * 1000:.0f} | "
              f"{percentile(values, 0.95) * 1000:.0f} |")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"\n{len(checks.results) - checks.failed} of {len(checks.results)} checks passed")
    return 1 if checks.failed else 0


def main() -> int:
    if nginx.NGINX is None:
        print("nginx is not installed (apt-get install nginx)")
        return 2
    if "--env" in sys.argv:
        ports = {name: 0 for name in ("https", "pin1", "pin2", "s3")}
        for name, value in environment(Path("/srv/workpro"), ports, "postgres://…").items():
            print(f"{name}={value}")
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="workpro-cluster-"))
    cluster = Cluster(tmp)

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    code = 1
    try:
        code = run(tmp, cluster)
    except KeyboardInterrupt:
        print("\nInterrupted: stopping every process")
        code = 130
    except Exception as exc:  # noqa: BLE001 - printed, then everything is stopped
        import traceback

        traceback.print_exc()
        print(f"\nFAIL  the cluster run stopped: {exc}\n  logs in {tmp}")
        code = 1
    finally:
        step("Stopping every process")
        cluster.close()
        if code == 0 and not os.environ.get("CLUSTER_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"  logs kept in {tmp}")
    return code


if __name__ == "__main__":
    sys.exit(main())
