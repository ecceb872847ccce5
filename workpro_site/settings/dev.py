"""The embedded demo: DEBUG on, SQLite, ORM broker, console mail and SMS."""

import os

from .base import *  # noqa: F401,F403
from .base import env_list

DEBUG = True
SECRET_KEY = "django-insecure-workpro-demo-key-only-for-local-development"  # noqa: S105
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,.localhost,[::1],testserver")

STORAGES = {**STORAGES}  # noqa: F405
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# Digital signatures in the demo: `manage.py workpro_demo` creates a self-signed demo CA and a key per
# institution in SIGNING_DEMO_DIR (git-ignored), stored in private storage; the keys' password comes
# from the environment as in production (the default below is for the demo only).
SIGNING_DEMO_DIR = Path(os.environ.get("WORKPRO_SIGNING_DEMO_DIR", BASE_DIR / "signing-demo"))  # noqa: F405
WORKPRO_SIGNING_TRUST_ROOTS = [str(SIGNING_DEMO_DIR / "demo-ca.pem")]
os.environ.setdefault("WORKPRO_SIGNING_PASSWORD", "workpro-demo-nur-lokal")  # noqa: F405
# Mails on the console as text, attachments by name and size (no base64); EMAIL_BACKEND still wins.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "workpro_site.mail.EmailBackend")
