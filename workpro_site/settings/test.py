"""Test settings: fast hashing, locmem cache/mail/SMS, django-q2 tasks inline."""

import os
import tempfile

from .base import *  # noqa: F401,F403

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105
ALLOWED_HOSTS = ["*"]

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WORKPRO_SMS_BACKEND = "workpro_plugin.sms.backends.locmem.SmsBackend"

_tmp = tempfile.mkdtemp(prefix="workpro-test-")
MEDIA_ROOT = os.path.join(_tmp, "media")
PRIVATE_MEDIA_ROOT = os.path.join(_tmp, "private")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
    },
}

# sync is read when django_q is imported, so it must be set here, not overridden.
Q_CLUSTER = {**Q_CLUSTER, "sync": True}  # noqa: F405
if Q_CLUSTER.get("redis"):
    # Keep test tasks apart from a demo cluster that may share the Redis server.
    Q_CLUSTER["name"] = f"workpro-test-{os.getpid()}"

WAGTAILADMIN_BASE_URL = "http://testserver"
