"""Files are read through the storage API (#17): with images and documents on S3 (moto's local
mock), the institution logo is still in every PDF (it used to vanish: `.path` only exists on disk)."""

from __future__ import annotations

import io

import boto3
import pytest
from django.core.files.images import ImageFile
from moto import mock_aws
from PIL import Image as PILImage
from pypdf import PdfReader
from wagtail.images import get_image_model

from tests.factories import enrollment_in
from workpro_plugin.models import Enrollment
from workpro_plugin.services.documents import (
    application_context,
    render_application_pdf,
    render_contract_offer_pdf,
)

pytestmark = pytest.mark.django_db
S = Enrollment.Status
REGION = "eu-central-1"


def _s3_storage(bucket: str) -> dict:
    return {"BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": bucket, "region_name": REGION, "default_acl": None,
                        "querystring_auth": True, "file_overwrite": False}}


@pytest.fixture
def s3(settings, monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        for bucket in ("workpro-media", "workpro-private"):
            client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        settings.STORAGES = {**settings.STORAGES, "default": _s3_storage("workpro-media"),
                             "private": _s3_storage("workpro-private")}
        yield client


def _png(colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (120, 60), colour).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def with_logo_on_s3(s3, world):
    logo = get_image_model()(title="Logo Kita")
    logo.file = ImageFile(io.BytesIO(_png()), name="logo-kita.png")
    logo.save()
    with pytest.raises(NotImplementedError):
        logo.file.path  # noqa: B018 - proves the file is not on a local disk
    assert s3.list_objects_v2(Bucket="workpro-media")["KeyCount"] >= 1
    world.kita.logo = logo
    world.kita.save(update_fields=["logo"])
    return world


def _page_one_images(pdf: bytes) -> list:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    xobjects = page["/Resources"].get("/XObject", {})
    found = []
    for name in xobjects:
        obj = xobjects[name].get_object()
        if obj.get("/Subtype") == "/Image":
            found.append(name)
        elif obj.get("/Subtype") == "/Form":  # WeasyPrint may wrap content in a form XObject
            inner = obj.get("/Resources", {}).get("/XObject", {})
            found += [n for n in inner if inner[n].get_object().get("/Subtype") == "/Image"]
    return found


def test_the_logo_on_s3_is_embedded_in_the_application_pdf(with_logo_on_s3):
    world = with_logo_on_s3
    enrollment = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder)
    assert application_context(enrollment)["logo_path"].startswith("data:image/png;base64,")
    assert _page_one_images(render_application_pdf(enrollment))


def test_the_logo_on_s3_is_embedded_in_the_contract_offer(with_logo_on_s3):
    world = with_logo_on_s3
    enrollment = enrollment_in(S.EINGESTUFT, offer=world.offer, institution=world.kita, holder=world.holder)
    assert _page_one_images(render_contract_offer_pdf(enrollment))


def test_without_a_logo_the_pdf_has_no_image(s3, world):
    enrollment = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder)
    assert application_context(enrollment)["logo_path"] == ""
    assert not _page_one_images(render_application_pdf(enrollment))
