"""Private downloads with WORKPRO_X_ACCEL_REDIRECT (shared/files.py): after the same permission checks,
Django names the file for nginx instead of streaming it; on disk by its storage name, on S3 by the
path and signature of a short-lived URL (nginx: deploy/nginx/private-*.conf)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from moto import mock_aws
from storages.backends.s3 import S3Storage

from tests.factories import make_user
from tests.factories.documents import pdf_bytes
from workpro_plugin.models import Document

pytestmark = pytest.mark.django_db
REGION = "eu-central-1"
PREFIX = "/_workpro_private/"


def _document(holder) -> Document:
    return Document.objects.create(owner=holder.workpro_person, kind="other", title="Bescheid",
                                   content_type="application/pdf",
                                   file=ContentFile(pdf_bytes(), name="bescheid.pdf"))


def test_without_the_setting_the_worker_streams_the_file(client):
    holder = make_user("eltern-stream@example.org")
    document = _document(holder)
    client.force_login(holder)
    response = client.get(reverse("workpro:document", args=[document.pk]))
    assert response.status_code == 200 and "X-Accel-Redirect" not in response
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_a_file_on_disk_is_named_for_nginx_and_the_body_stays_empty(client, settings):
    settings.WORKPRO_X_ACCEL_REDIRECT = PREFIX
    holder = make_user("eltern-accel@example.org")
    document = _document(holder)
    client.force_login(holder)
    response = client.get(reverse("workpro:document", args=[document.pk]) + "?download=1")
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == PREFIX + document.file.name
    assert response.content == b""
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "private, no-store"


def test_someone_else_gets_no_file_name(client, settings):
    settings.WORKPRO_X_ACCEL_REDIRECT = PREFIX
    document = _document(make_user("eltern-a@example.org"))
    client.force_login(make_user("fremd-accel@example.org"))
    response = client.get(reverse("workpro:document", args=[document.pk]))
    assert response.status_code == 404 and "X-Accel-Redirect" not in response


def test_an_object_on_s3_is_named_by_its_signed_path(client, settings, monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(
            Bucket="workpro-private", CreateBucketConfiguration={"LocationConstraint": REGION})
        # The field took its storage when the model was loaded: give it the S3 storage of
        # settings/base.py's S3_PRIVATE_BUCKET.
        monkeypatch.setattr(Document._meta.get_field("file"), "storage", S3Storage(
            bucket_name="workpro-private", region_name=REGION, default_acl=None, querystring_auth=True,
            querystring_expire=60, addressing_style="path", signature_version="s3v4", file_overwrite=False))
        settings.WORKPRO_X_ACCEL_REDIRECT = PREFIX
        holder = make_user("eltern-s3@example.org")
        document = _document(holder)
        client.force_login(holder)
        response = client.get(reverse("workpro:document", args=[document.pk]))
    target = urlsplit(response["X-Accel-Redirect"])
    # Path-style (…/workpro-private/<key>) or virtual-hosted (the bucket in the host nginx is set to).
    assert target.path.startswith(PREFIX) and target.path.endswith("/" + document.file.name)
    query = parse_qs(target.query)
    assert query["X-Amz-Expires"] == ["60"] and "X-Amz-Signature" in query
    assert response.content == b"" and response["Content-Type"] == "application/pdf"
