"""Settings shared by every WorkPro deployment; dev/test/production adjust them.

Everything that differs between machines comes from the environment, so the same
code runs the embedded demo (SQLite, ORM broker, console mail) and production
(PostgreSQL, Redis, SMTP).
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from workpro_plugin.conf import configure

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PROJECT_DIR = BASE_DIR / "workpro_site"


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


INSTALLED_APPS = [
    "workpro_site",
    "home",
    "workpro_plugin",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail_modeladmin",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_q",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",  # recovery codes for staff who lost their phone
    "health_check",  # /-/health/ (workpro_plugin.urls.health_patterns)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]
# WorkPro's middleware (2FA gate, audit, issued passwords, CSP, headers, django-otp, django-axes
# last) is added in its place by workpro_plugin.conf.configure() at the end of this module.

ROOT_URLCONF = "workpro_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

WSGI_APPLICATION = "workpro_site.wsgi.application"

# --- Database -----------------------------------------------------------------
# SQLite by default. The options keep django-q2's ORM broker from losing results
# under bursts ("database is locked"): wait instead of failing, take the write lock
# at BEGIN, and let readers run beside the single writer (WAL).
SQLITE_OPTIONS = {
    "timeout": 20,
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["OPTIONS"] = dict(SQLITE_OPTIONS)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Passwords ----------------------------------------------------------------
# configure() puts WorkPro's argon2id (OWASP's minimum: m = 19 MiB, t = 2, p = 1) in front of these;
# hashes made with Django's Argon2 parameters verify and are rehashed on the next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# From workpro_plugin.conf.configure() (end of this module): AUTHENTICATION_BACKENDS (axes, then
# WorkPro's ModelBackend that refuses issued passwords after 72 hours and the SMS password backend),
# LOGIN_URL = "workpro:login", Wagtail's password reset and address change off (portal users request
# a password by SMS, staff through their Leitung or a superuser: checks workpro.E015, E016), and
# django-axes: 5 failures per email and IP lock for 15 minutes; WorkPro's handler also locks the
# account from every address after WORKPRO_ACCOUNT_FAILURE_LIMIT (20) failures in those 15 minutes.

# The client address for lockouts, rate limits and the audit log (workpro_plugin.lib.http.client_ip):
# X-Forwarded-For is read only behind the reverse proxies listed here (addresses or networks,
# e.g. TRUSTED_PROXIES=127.0.0.1,10.0.0.0/8). Empty: the socket peer is the client.
WORKPRO_TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")

SESSION_COOKIE_AGE = 60 * 60 * 8  # a working day; portal sessions end after that
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- Internationalisation -----------------------------------------------------
LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("Deutsch")), ("en", _("Englisch"))]
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

# --- Static files and media ---------------------------------------------------
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATIC_URL = "/static/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "/media/"
# Applications, contracts, signed scans and passport photos never live under
# MEDIA_URL: they are served only through permission-checked views.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", BASE_DIR / "private_media"))

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
    },
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_MEDIA_ROOT), "base_url": None},
    },
}

# S3-compatible object storage (django-storages), for several web and worker machines: private
# documents go to S3_PRIVATE_BUCKET, public media (images, Wagtail documents) to S3_MEDIA_BUCKET.
# S3_ENDPOINT_URL (empty: AWS), S3_REGION, S3_ADDRESSING_STYLE ("path" for most non-AWS servers);
# the keys come from boto3's usual sources (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, instance role).
# Private objects are never public: links are signed and live S3_PRIVATE_URL_SECONDS; with
# WORKPRO_X_ACCEL_REDIRECT nginx fetches them (deploy/nginx/), else the web worker streams them.


def _s3_storage(bucket: str, **options) -> dict:
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": bucket, "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
        "region_name": os.environ.get("S3_REGION") or None,
        "addressing_style": os.environ.get("S3_ADDRESSING_STYLE") or None,
        "signature_version": os.environ.get("S3_SIGNATURE_VERSION", "s3v4"),
        "default_acl": None, "file_overwrite": False, **options}}


if os.environ.get("S3_PRIVATE_BUCKET"):
    STORAGES["private"] = _s3_storage(
        os.environ["S3_PRIVATE_BUCKET"], querystring_auth=True,
        querystring_expire=int(os.environ.get("S3_PRIVATE_URL_SECONDS", "60")))
if os.environ.get("S3_MEDIA_BUCKET"):
    STORAGES["default"] = _s3_storage(os.environ["S3_MEDIA_BUCKET"], querystring_auth=False)

# Private downloads through the reverse proxy: the view checks permissions, then answers with an
# empty response whose X-Accel-Redirect header names this internal nginx location followed by the
# file (its storage name on disk, or the signed S3 path); nginx sends the file, the worker is free.
# Empty (default): the worker streams the file itself. deploy/nginx/workpro.conf: "/_workpro_private/".
WORKPRO_X_ACCEL_REDIRECT = os.environ.get("WORKPRO_X_ACCEL_REDIRECT", "")

DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# --- Wagtail ------------------------------------------------------------------
WAGTAIL_SITE_NAME = "WorkPro"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "key", "odt", "pdf", "pptx", "rtf", "txt", "xlsx", "zip"]
WAGTAIL_I18N_ENABLED = False
# configure() turns off Gravatar (it would leak hashed staff emails and break the CSP) and
# Wagtail's update check (no calls home from the admin).

# --- Mail and SMS -------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
# Django waits for an SMTP server forever by default: a mail server that never answers kept a
# worker (and the stop of its cluster) busy without end.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "WorkPro <noreply@workpro.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# SMS backends: console, file, locmem (tests), http (gateway, see README). WorkPro's default:
# the HTTP gateway once WORKPRO_SMS_GATEWAY_URL is set, else the console with DEBUG, else none:
# production refuses to start without a gateway (system check workpro.E027).
if os.environ.get("WORKPRO_SMS_BACKEND"):
    WORKPRO_SMS_BACKEND = os.environ["WORKPRO_SMS_BACKEND"]
WORKPRO_SMS_GATEWAY_URL = os.environ.get("WORKPRO_SMS_GATEWAY_URL", "")
WORKPRO_SMS_GATEWAY_TOKEN = os.environ.get("WORKPRO_SMS_GATEWAY_TOKEN", "")
WORKPRO_SMS_SENDER_ID = os.environ.get("WORKPRO_SMS_SENDER_ID", "WorkPro")
WORKPRO_SMS_FILE_PATH = os.environ.get("WORKPRO_SMS_FILE_PATH", str(BASE_DIR / "sms-outbox"))
WORKPRO_OUTBOX_MAX_ATTEMPTS = int(os.environ.get("WORKPRO_OUTBOX_MAX_ATTEMPTS", "8"))
# Abholberechtigte: a passport photo older than this asks for a new one.
WORKPRO_PICKUP_PHOTO_VALIDITY_MONTHS = int(os.environ.get("WORKPRO_PICKUP_PHOTO_VALIDITY_MONTHS", "24"))
# The demo keeps the offer index and help page directly under its institution homepages
# (the plugin's default allows any parent page type).
WORKPRO_INDEX_PARENT_PAGE_TYPES = ["home.HomePage"]

# --- Data protection: retention (DSGVO) ----------------------------------------
# WORKPRO_RETENTION_DAYS: WorkPro's defaults (workpro_plugin.conf.RETENTION_DAYS): 183 days
# after an enrollment ended per document kind, every document of a concluded contract
# 10 years after the contract end (§ 147 AO), people 183 days after their last enrollment,
# an interest never pursued ends after two years. The daily schedule
# workpro-privacy-retention applies them.

# --- Background tasks (django-q2) ---------------------------------------------
# One dict for web and worker processes: ack_failures is stamped into each task
# by the enqueuing process, so both must agree.
REDIS_URL = os.environ.get("REDIS_URL", "")
Q_CLUSTER = {
    "name": os.environ.get("Q_CLUSTER_NAME", "workpro"),
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    "timeout": 120,
    "retry": 300,
    "max_attempts": 5,
    "ack_failures": False,
    "save_limit": 1000,
    "catch_up": False,
    "poll": 0.2,
    "label": _("Hintergrundaufgaben"),
}
# qcluster ends within this many seconds of SIGTERM: tasks still running then are terminated and
# handed out again (workpro_plugin/management/commands/qcluster.py); give the process manager more.
WORKPRO_TASK_STOP_SECONDS = int(os.environ.get("WORKPRO_TASK_STOP_SECONDS", "30"))
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
    # One connection pool per process for enqueuing (django-q2's own broker connects per task).
    Q_CLUSTER["broker_class"] = "workpro_plugin.lib.taskbroker.PooledRedisBroker"
else:
    Q_CLUSTER["orm"] = "default"

# --- Security defaults (tightened in production.py) ----------------------------
X_FRAME_OPTIONS = "DENY"  # Wagtail overrides this for its own preview iframe
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"  # the portal's links in mails must still find the session
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # Wagtail admin reads the token from the cookie
# WorkPro's defaults: Permissions-Policy (WORKPRO_PERMISSIONS_POLICY) denies camera, microphone,
# geolocation, payment and USB; the Content Security Policy (django-csp, set by configure())
# serves everything from our own origin without inline scripts or styles. Only the Wagtail admin
# gets 'unsafe-inline' added, per request, by workpro_plugin.middleware.WorkProCSPMiddleware.

# Two-factor authentication (django-otp, TOTP) for everyone who can open the Wagtail
# admin. Optional in the demo (staff may set it up under Konto); production.py turns it on.
WORKPRO_REQUIRE_STAFF_2FA = env_bool("WORKPRO_REQUIRE_STAFF_2FA", False)
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "WorkPro")

# Audit log (workpro_plugin.models.AuditEvent): events older than this are deleted daily.
WORKPRO_AUDIT_RETENTION_DAYS = int(os.environ.get("WORKPRO_AUDIT_RETENTION_DAYS", "730"))


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "workpro_plugin": {"handlers": ["console"], "level": "INFO"},
        "django-q": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# --- WorkPro ------------------------------------------------------------------
# The same block a host site appends (README, "Install into an existing Wagtail site"): adds what
# WorkPro needs and keeps every value set above.
configure(globals())
