"""The embedded demo: DEBUG on, SQLite, ORM broker, console mail and SMS."""

import os

from .base import *  # noqa: F401,F403
from .base import env_list

DEBUG = True
SECRET_KEY = "django-insecure-workpro-demo-key-only-for-local-development"  # noqa: S105
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")

STORAGES = {**STORAGES}  # noqa: F405
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# Mails on the console as text, attachments by name and size (no base64); EMAIL_BACKEND still wins.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "workpro_site.mail.EmailBackend")
