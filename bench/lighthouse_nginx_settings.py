"""Settings of the gunicorn behind nginx under `make lighthouse`: deploy/nginx/workpro.conf serves the
static files (collected, hashed) and the public media; Django sees HTTPS through the proxy's header."""

from bench.lighthouse_settings import *  # noqa: F401,F403
from bench.lighthouse_settings import MIDDLEWARE, STORAGES

ROOT_URLCONF = "workpro_site.urls"
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("whitenoise.")]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
