"""Settings of `make cluster` (bench/cluster.py): production's, configured from the environment like a
real deployment (database, Redis, S3, proxy, X-Accel-Redirect). Only the outgoing channels differ:
mails and SMS are written to files in CLUSTER_OUTBOX_DIR so the run can count them."""

import os

from workpro_site.settings.production import *  # noqa: F401,F403

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.path.join(os.environ["CLUSTER_OUTBOX_DIR"], "mail")
WORKPRO_SMS_BACKEND = "workpro_plugin.sms.backends.file.SmsBackend"
WORKPRO_SMS_FILE_PATH = os.path.join(os.environ["CLUSTER_OUTBOX_DIR"], "sms")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["console"], "level": "ERROR"},
                "workpro_plugin": {"handlers": ["console"], "level": "WARNING"}},
}
