"""Settings of the gunicorn under `make lighthouse`: the demo's, with DEBUG off as in production.

Static files are collected (ManifestStaticFilesStorage: hashed names) and served by WhiteNoise
with compression and far-future cache headers, the way the production reverse proxy serves them;
media (renditions, logos) come from MEDIA_ROOT (bench/lighthouse_urls.py).
"""

from workpro_site.settings.dev import *  # noqa: F401,F403
from workpro_site.settings.dev import MIDDLEWARE, STORAGES

DEBUG = False
ROOT_URLCONF = "bench.lighthouse_urls"
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
MIDDLEWARE = [*MIDDLEWARE]
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
                  "whitenoise.middleware.WhiteNoiseMiddleware")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["console"], "level": "ERROR"}},
}
