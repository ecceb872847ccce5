"""nginx in front of gunicorn on this machine, for tests/deploy/test_nginx.py and `make cluster`.

Renders deploy/nginx/workpro.conf (its @@PLACEHOLDERS@@), makes a local CA and a server certificate
with `cryptography`, and runs Debian's nginx as an ordinary child process (own prefix, pid file,
logs and temp directories under a scratch directory; nothing in /etc/nginx is touched).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy" / "nginx"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, process: subprocess.Popen | None = None, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process {process.args[:3]} exited with {process.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {HOST}:{port} after {seconds} s")


def make_tls(directory: Path, names: list[str]) -> dict[str, Path]:
    """A local CA and a server certificate for `names` (host names and IP addresses), as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "WorkPro local test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    alt = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {"ca": directory / "ca.pem", "cert": directory / "server.pem", "key": directory / "server.key"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM)
                              + ca.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    paths["key"].chmod(0o600)
    return paths


def render(template: str | Path, values: dict[str, str]) -> str:
    """Replace @@NAME@@ placeholders (template: a file name in deploy/nginx or a path); none may be left."""
    path = Path(template)
    lines = (path if path.is_absolute() else DEPLOY / path).read_text().splitlines()
    out = []
    for line in lines:
        if not line.lstrip().startswith("#"):  # comments keep naming the placeholders
            for name, value in values.items():
                line = line.replace(f"@@{name}@@", str(value))
            left = re.findall(r"@@([A-Z_]+)@@", line)
            if left:
                raise ValueError(f"placeholders without a value: {', '.join(left)}")
        out.append(line)
    return "\n".join(out) + "\n"


def site_config(directory: Path, *, upstream: str, app_ports: list[int], http_port: int, https_port: int,
                tls: dict[str, Path], static_root: Path, media_root: Path, private: str,
                private_values: dict[str, str], suffix: str = "") -> Path:
    """Render workpro.conf and its private location into `directory`; returns the site file."""
    private_file = directory / f"private{suffix}.conf"
    private_file.write_text(render(private, private_values))
    site = directory / f"workpro{suffix}.conf"
    site.write_text(render("workpro.conf", {
        "UPSTREAM": upstream,
        "APP_SERVERS": "\n    ".join(f"server {HOST}:{port} max_fails=0;" for port in app_ports),
        "HTTP_LISTEN": f"{HOST}:{http_port}", "HTTPS_LISTEN": f"{HOST}:{https_port}", "SERVER_NAMES": "_",
        "TLS_CERT": tls["cert"], "TLS_KEY": tls["key"], "STATIC_ROOT": str(static_root).rstrip("/"),
        "MEDIA_ROOT": str(media_root).rstrip("/"), "PRIVATE_LOCATION": private_file,
    }))
    return site


def main_config(directory: Path, sites: list[Path]) -> Path:
    """The top-level nginx.conf for a scratch prefix: Debian's MIME types, the sites, logs in `directory`."""
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (directory / "tmp" / sub).mkdir(parents=True, exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers keep read access to the scratch files
    includes = "".join(f"    include {site};\n" for site in sites)
    conf = directory / "nginx.conf"
    conf.write_text(f"""{user}worker_processes 2;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    server_tokens off;
    access_log {directory}/access.log;
    client_body_temp_path {directory}/tmp/client_body;
    proxy_temp_path {directory}/tmp/proxy;
    fastcgi_temp_path {directory}/tmp/fastcgi;
    uwsgi_temp_path {directory}/tmp/uwsgi;
    scgi_temp_path {directory}/tmp/scgi;
{includes}}}
""")
    return conf


def start_nginx(conf: Path, *, https_port: int) -> subprocess.Popen:
    if NGINX is None:
        raise RuntimeError("nginx is not installed")
    check = subprocess.run([NGINX, "-t", "-q", "-p", str(conf.parent), "-c", str(conf)],
                           capture_output=True, text=True)
    if check.returncode:
        raise RuntimeError(f"nginx -t failed:\n{check.stderr}")
    process = subprocess.Popen([NGINX, "-p", str(conf.parent), "-c", str(conf), "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=open(conf.parent / "nginx.stderr", "wb"),  # noqa: SIM115
                               start_new_session=True)
    wait_for_port(https_port, process=process, seconds=20)
    return process


def start_gunicorn(env: dict, port: int, log: Path, *, workers: int = 2, name: str = "workpro") -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable,
         "-m", "gunicorn", "workpro_site.wsgi:application", "--bind", f"{HOST}:{port}", "--workers", str(workers),
         "--worker-class", "sync", "--timeout", "120", "--graceful-timeout", "5", "--name", name,
         "--log-level", "warning", "--access-logfile", str(log.with_suffix(".access.log")),
         "--access-logformat", '%(h)s "%(r)s" %(s)s %(B)s %(M)sms'],
        cwd=ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)  # noqa: SIM115
    wait_for_port(port, process=process, seconds=90)
    return process


def stop(process: subprocess.Popen | None, *, grace: float = 10) -> None:
    """SIGTERM to the process group (gunicorn's and nginx's workers too), SIGKILL after `grace` seconds."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(5)


def tls_context(ca: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca))
    return context
