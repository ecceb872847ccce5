"""Settings of the gunicorn behind nginx in tests/deploy/test_nginx.py: the test settings with what a
production-like deployment changes (hashed static files, the proxy's scheme header, X-Accel-Redirect)."""

import os

from workpro_site.settings.test import *  # noqa: F401,F403
from workpro_site.settings.test import STORAGES

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
STATIC_ROOT = os.environ["STATIC_ROOT"]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    "private": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": os.environ["PRIVATE_MEDIA_ROOT"], "base_url": None}},
}
WORKPRO_X_ACCEL_REDIRECT = "/_workpro_private/"
