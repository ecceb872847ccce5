"""deploy/nginx/workpro.conf, tested: Debian's nginx with the shipped configuration in front of a
gunicorn, over HTTPS with a local CA (bench/nginx.py renders and starts both on free ports).

Static files come from collectstatic with ManifestStaticFilesStorage; a private document is sent by
nginx after Django's permission check (X-Accel-Redirect), and the internal location is unreachable.
Skipped when nginx is not installed.
"""

from __future__ import annotations

import gzip
import http.client
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection
from django.urls import reverse

from bench import nginx
from tests.factories import make_user
from tests.factories.documents import pdf_bytes
from workpro_plugin.models import Document

# Serialized rollback like every other transactional test: a plain flush would re-create the content
# types, and the next test restoring its serialized rows would collide with them.
pytestmark = [pytest.mark.skipif(nginx.NGINX is None, reason="nginx is not installed"),
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]
ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(scope="module")
def static_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("static")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.deploy.gunicorn_settings", "STATIC_ROOT": str(root),
           "PRIVATE_MEDIA_ROOT": str(root / "unused")}
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                   check=True)
    return root


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return nginx.make_tls(tmp_path_factory.mktemp("tls"), ["localhost", "127.0.0.1"])


def _database_env(tmp_path: Path) -> dict:
    """gunicorn reads the test database: PostgreSQL's by name; SQLite's in-memory one copied to a file."""
    data = connection.settings_dict
    if connection.vendor == "sqlite":
        path = tmp_path / "db.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        target.close()
        return {"SQLITE_PATH": str(path), "DATABASE_URL": ""}
    user = data.get("USER") or "postgres"
    password = f":{data['PASSWORD']}" if data.get("PASSWORD") else ""
    return {"DATABASE_URL": f"postgres://{user}{password}@{data.get('HOST') or '127.0.0.1'}:"
                            f"{data.get('PORT') or 5432}/{data['NAME']}"}


@pytest.fixture
def stack(tmp_path, static_root, tls, client):
    """A document for a parent, a logged-in session, then gunicorn and nginx on free ports."""
    private_root = Path(settings.STORAGES["private"]["OPTIONS"]["location"])
    holder = make_user("eltern-nginx@example.org")
    document = Document.objects.create(owner=holder.workpro_person, kind="other", title="Bescheid",
                                       content_type="application/pdf",
                                       file=ContentFile(pdf_bytes(3), name="bescheid.pdf"))
    client.force_login(holder)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    ports = {"app": nginx.free_port(), "http": nginx.free_port(), "https": nginx.free_port()}
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.deploy.gunicorn_settings", "STATIC_ROOT": str(static_root),
           "PRIVATE_MEDIA_ROOT": str(private_root), "PYTHONPATH": str(ROOT), **_database_env(tmp_path)}
    if not env["DATABASE_URL"]:
        env.pop("DATABASE_URL")
    site = nginx.site_config(tmp_path, upstream="workpro_test", app_ports=[ports["app"]], http_port=ports["http"],
                             https_port=ports["https"], tls=tls, static_root=static_root,
                             media_root=tmp_path / "media", private="private-filesystem.conf",
                             private_values={"PRIVATE_MEDIA_ROOT": str(private_root)})
    app = web = None
    try:
        app = nginx.start_gunicorn(env, ports["app"], tmp_path / "gunicorn.log", workers=1)
        web = nginx.start_nginx(nginx.main_config(tmp_path, [site]), https_port=ports["https"])
        yield {"ports": ports, "document": document, "session": session, "tls": tls, "static": static_root,
               "log": tmp_path / "gunicorn.log", "private": private_root}
    finally:
        nginx.stop(web)
        nginx.stop(app)


def _https(stack, path: str, headers: dict | None = None) -> tuple[http.client.HTTPResponse, bytes]:
    """GET over TLS, the certificate checked against the local CA for the name "localhost"."""
    conn = http.client.HTTPSConnection("localhost", stack["ports"]["https"], timeout=30,
                                       context=nginx.tls_context(stack["tls"]["ca"]))
    conn.request("GET", path, headers={"Host": f"localhost:{stack['ports']['https']}", **(headers or {})})
    response = conn.getresponse()
    return response, response.read()


def _direct(stack, path: str, cookie: str) -> tuple[http.client.HTTPResponse, bytes]:
    """Straight to gunicorn, as nginx asks it (to see Django's own answer)."""
    conn = http.client.HTTPConnection("127.0.0.1", stack["ports"]["app"], timeout=30)
    conn.request("GET", path, headers={"Host": "localhost", "X-Forwarded-Proto": "https",
                                       "Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"})
    response = conn.getresponse()
    return response, response.read()


def _hashed_css(static_root: Path) -> Path:
    pattern = re.compile(r"\.[0-9a-f]{12}\.css$")
    return next(p for p in sorted(static_root.rglob("*.css")) if pattern.search(p.name) and p.stat().st_size > 1024)


def test_static_files_are_compressed_and_hashed_ones_cached_for_a_year(stack):
    hashed = _hashed_css(stack["static"])
    path = "/static/" + hashed.relative_to(stack["static"]).as_posix()
    response, body = _https(stack, path, {"Accept-Encoding": "gzip"})
    assert response.status == 200
    assert response.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(body) == hashed.read_bytes()
    assert response.getheader("Cache-Control") == "public, max-age=31536000, immutable"
    assert "Accept-Encoding" in (response.getheader("Vary") or "")
    # The unhashed original of the same file: a short lifetime, so a deploy is seen soon.
    original = re.sub(r"\.[0-9a-f]{12}\.css$", ".css", path)
    response, body = _https(stack, original, {"Accept-Encoding": "gzip"})
    assert response.status == 200 and response.getheader("Cache-Control") == "public, max-age=3600"
    # Without Accept-Encoding: plain.
    response, body = _https(stack, path)
    assert response.getheader("Content-Encoding") is None and body == hashed.read_bytes()


def test_private_document_is_sent_by_nginx_after_the_permission_check(stack):
    document, cookie = stack["document"], stack["session"]
    url = reverse("workpro:document", args=[document.pk]) + "?download=1"
    stored = (stack["private"] / document.file.name).read_bytes()

    # Django answers with the header and no body ...
    response, body = _direct(stack, url, cookie)
    assert response.status == 200, body[:500]
    assert response.getheader("X-Accel-Redirect") == f"/_workpro_private/{document.file.name}"
    assert body == b""
    # ... and nginx sends the file, with Django's type, name and cache rules.
    response, body = _https(stack, url, {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"})
    assert response.status == 200
    assert body == stored and body.startswith(b"%PDF")
    assert response.getheader("X-Accel-Redirect") is None
    assert response.getheader("Content-Type") == "application/pdf"
    assert response.getheader("Content-Disposition", "").startswith("attachment;")
    assert "no-store" in response.getheader("Cache-Control", "")
    assert response.getheader("X-Content-Type-Options") == "nosniff"

    # Without the session the view refuses before any file is named.
    response, body = _https(stack, url)
    assert response.status == 302 and not body.startswith(b"%PDF")
    # The internal location cannot be asked for directly.
    response, body = _https(stack, f"/_workpro_private/{document.file.name}")
    assert response.status == 404 and not body.startswith(b"%PDF")


def test_https_with_the_local_ca_and_plain_http_redirected(stack):
    response, _body = _https(stack, "/robots.txt")
    assert response.status == 200
    conn = http.client.HTTPConnection("127.0.0.1", stack["ports"]["http"], timeout=10)
    conn.request("GET", "/workpro/konto/", headers={"Host": "localhost"})
    redirect = conn.getresponse()
    assert redirect.status == 301 and redirect.getheader("Location") == "https://localhost/workpro/konto/"
    # A client that does not know the local CA refuses the connection.
    import ssl

    strict = http.client.HTTPSConnection("localhost", stack["ports"]["https"], timeout=10,
                                         context=ssl.create_default_context())
    with pytest.raises(ssl.SSLCertVerificationError):
        strict.request("GET", "/")
