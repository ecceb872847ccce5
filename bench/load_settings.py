"""Settings of the gunicorn under `make load`: the demo's, with DEBUG off as in production."""

from workpro_site.settings.dev import *  # noqa: F401,F403

DEBUG = False
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["console"], "level": "ERROR"}},
}
