"""WorkPro's settings: every ``WORKPRO_*`` default in one place, and the host's one settings block.

Reading a setting: ``conf.get("RETENTION_DAYS")`` is ``settings.WORKPRO_RETENTION_DAYS`` when the
host set it, else the default below (read per call, so ``override_settings`` works). Defaults that
depend on ``DEBUG`` are safe for production: staff 2FA is required and no SMS backend is chosen
(the system check ``workpro.E027`` stops the start) unless ``DEBUG`` is on.

Configuring a host: append to its settings module::

    from workpro_plugin.conf import configure
    configure(globals())

``configure`` adds what WorkPro needs (apps, middleware in order, authentication backends, the
argon2id password hasher first in PASSWORD_HASHERS, axes,
the private storage, the task cluster, CSP, login URL) and keeps every value the host set itself.
The system checks in ``workpro_plugin.checks`` name whatever is still missing.

This module is the bottom of WorkPro's layers: it imports Django only, so the host's settings
module (and every WorkPro module) may import it.
"""

from __future__ import annotations

from datetime import timedelta
from importlib.util import find_spec
from pathlib import Path

from django.apps import apps
from django.conf import settings

PREFIX = "WORKPRO_"
CONSOLE_SMS_BACKEND = "workpro_plugin.sms.backends.console.SmsBackend"
HTTP_SMS_BACKEND = "workpro_plugin.sms.backends.http.SmsBackend"
# Backends that never reach a phone: fine for the demo and tests, not for production.
NON_DELIVERING_SMS_BACKENDS = (
    CONSOLE_SMS_BACKEND,
    "workpro_plugin.sms.backends.file.SmsBackend",
    "workpro_plugin.sms.backends.locmem.SmsBackend",
)

TEN_YEARS = 3653  # § 147 AO, § 257 HGB: ten years after the end of the calendar year at the latest

# Days a document is kept after its enrollment ended (per document kind). "contract" applies to
# every document of a concluded (ratified) contract; "person": a person is anonymised that many
# days after their last enrollment ended; "interest": an interest never pursued counts as ended
# after that many days. A host's WORKPRO_RETENTION_DAYS changes single keys; the others stay.
RETENTION_DAYS = {
    "application": 183,
    "invitation": 183,
    "decision": 183,
    "contract_offer": 183,
    "signed_contract": 183,
    "proof": 183,
    "upload": 183,
    "chat_attachment": 183,
    "other": 183,
    "ratified_contract": TEN_YEARS,
    "contract": TEN_YEARS,
    "addon_confirmation": 183,  # belongs to a ratified contract: kept for "contract" days
    "person": 183,
    "interest": 730,
}
# Keys the law keeps for ten years; shorter values are a check warning (workpro.W021).
TAX_RELEVANT_RETENTION = ("ratified_contract", "contract")


def _debug() -> bool:
    return bool(getattr(settings, "DEBUG", False))


def _default_sms_backend() -> str:
    """The HTTP gateway once WORKPRO_SMS_GATEWAY_URL is set; else the console with DEBUG; else none
    (workpro.E027 stops the start: passwords must never go to a log by default)."""
    if get("SMS_GATEWAY_URL"):
        return HTTP_SMS_BACKEND
    return CONSOLE_SMS_BACKEND if _debug() else ""


DEFAULTS = {
    # --- login and accounts
    "REQUIRE_STAFF_2FA": lambda: not _debug(),
    "ACCOUNT_FAILURE_LIMIT": 20,
    "REGISTRATION_EMAIL_LIMITS": ((3600, 10), (86400, 20)),
    "PASSWORD_REQUEST_IDENTITY_LIMITS": ((3600, 5), (86400, 10)),
    "PASSWORD_REQUEST_NAME_LIMITS": ((86400, 30),),
    "2FA_LINK_HOURS": 24,
    "2FA_LOCKOUT_MAX_SECONDS": 15 * 60,
    "TRUSTED_PROXIES": (),
    # Internal location of the reverse proxy for private downloads (X-Accel-Redirect), e.g.
    # "/_workpro_private/"; empty: the worker streams the file (shared/files.py).
    "X_ACCEL_REDIRECT": "",
    # --- mail and SMS
    "SMS_BACKEND": lambda: _default_sms_backend(),
    "SMS_GATEWAY_URL": "",
    "SMS_GATEWAY_TOKEN": "",
    "SMS_SENDER_ID": "WorkPro",
    "SMS_FILE_PATH": "sms-outbox",
    "OUTBOX_MAX_ATTEMPTS": 8,
    # Sent outbox rows (recipient, subject, context) are deleted this many days after sending
    # (daily schedule workpro-outbox-purge); failed and pending rows stay for the superusers to see.
    "OUTBOX_RETENTION_DAYS": 90,
    "MESSAGE_ID_DOMAIN": "",
    # --- data protection
    "RETENTION_DAYS": RETENTION_DAYS,
    "AUDIT_RETENTION_DAYS": 730,
    "ACCESS_LOG_RETENTION_DAYS": 90,
    "LOGIN_CHANGE_RETENTION_DAYS": 30,
    # --- portal
    "CHAT_POLL_SECONDS": 10,
    # Page types the offer index and the help page may be created under; None: any page type.
    "INDEX_PARENT_PAGE_TYPES": None,
    "PICKUP_PHOTO_VALIDITY_MONTHS": 24,
    # A minor gets an own login ("Eigene Mailadresse zuweisen") from this age on.
    "MINOR_LOGIN_MIN_AGE": 14,
    "PICKUP_PHOTO_MAX_BYTES": 8 * 1024 * 1024,
    # --- Platzvergabe: days a family has to accept a place offered from the waiting list
    "PLACE_ACCEPT_DAYS": 7,
    # --- documents: digital signatures (services/signatures.py)
    # {institution slug or pk: {"pkcs12": path on the machine, "password_env": "ENV_VAR"}}; without an
    # entry the institution's uploaded certificate is used, its password from WORKPRO_SIGNING_PASSWORD_<SLUG>.
    "SIGNING_KEYS": {},
    # A RFC 3161 timestamp service: signatures become PAdES B-T instead of B-B.
    "SIGNING_TSA_URL": None,
    # Root certificates (PEM or DER files) a signature must chain to, to count as trusted.
    "SIGNING_TRUST_ROOTS": (),
    # --- operations: the task cluster's heartbeat (schedule workpro-heartbeat, every minute) counts as
    # stale after this many seconds; the health URL /-/health/tasks/ then answers 500.
    "HEARTBEAT_MAX_AGE_SECONDS": 300,
    # qcluster stops within this many seconds of SIGTERM (at most the cluster's task timeout); tasks
    # still running then are terminated and handed out again (management/commands/qcluster.py).
    "TASK_STOP_SECONDS": 30,
    # --- headers
    "ADMIN_CSP_RELAXED": ("script-src", "style-src"),
    "PERMISSIONS_POLICY": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}

_MISSING = object()


def is_set(name: str) -> bool:
    """Whether the host set WORKPRO_<name> itself."""
    return getattr(settings, PREFIX + name, _MISSING) is not _MISSING


def get(name: str):
    """settings.WORKPRO_<name>, or WorkPro's default; RETENTION_DAYS merges the host's keys into the defaults."""
    if name not in DEFAULTS:
        raise KeyError(f"{PREFIX}{name} is not a WorkPro setting")
    value = getattr(settings, PREFIX + name, _MISSING)
    if name == "RETENTION_DAYS":
        return {**RETENTION_DAYS, **(value if value is not _MISSING and value else {})}
    if value is _MISSING:
        default = DEFAULTS[name]
        return default() if callable(default) else default
    return value


# --- the host's settings block -------------------------------------------------------------------

# Apps WorkPro needs besides a `wagtail start` site's own, in INSTALLED_APPS order.
REQUIRED_APPS = (
    "workpro_plugin",
    "wagtail_modeladmin",
    "django_q",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "health_check",  # the health URLs (workpro_plugin.urls.health_patterns) render its templates
)



def missing_apps() -> list[str]:
    """The apps of REQUIRED_APPS not in INSTALLED_APPS (needs the app registry)."""
    return [app for app in REQUIRED_APPS if not apps.is_installed(app)]


SESSION_MIDDLEWARE = "django.contrib.sessions.middleware.SessionMiddleware"
LOCALE_MIDDLEWARE = "django.middleware.locale.LocaleMiddleware"
AUTHENTICATION_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"
MESSAGE_MIDDLEWARE = "django.contrib.messages.middleware.MessageMiddleware"
CLICKJACKING_MIDDLEWARE = "django.middleware.clickjacking.XFrameOptionsMiddleware"
OTP_MIDDLEWARE = "django_otp.middleware.OTPMiddleware"
STAFF_2FA_MIDDLEWARE = "workpro_plugin.middleware.StaffTwoFactorMiddleware"
AUDIT_MIDDLEWARE = "workpro_plugin.middleware.AuditMiddleware"
ISSUED_PASSWORD_MIDDLEWARE = "workpro_plugin.middleware.IssuedPasswordMiddleware"
CSP_MIDDLEWARE = "workpro_plugin.middleware.WorkProCSPMiddleware"
SECURITY_HEADERS_MIDDLEWARE = "workpro_plugin.middleware.SecurityHeadersMiddleware"
AXES_MIDDLEWARE = "axes.middleware.AxesMiddleware"
ADMIN_LANGUAGE_MIDDLEWARE = "workpro_plugin.middleware.AdminLanguageMiddleware"

# (entry, what it must follow): each entry goes right after the last of those present.
# AxesMiddleware goes last, so it sees every failed login.
REQUIRED_MIDDLEWARE = (
    (OTP_MIDDLEWARE, (AUTHENTICATION_MIDDLEWARE,)),
    (STAFF_2FA_MIDDLEWARE, (OTP_MIDDLEWARE,)),
    (AUDIT_MIDDLEWARE, (STAFF_2FA_MIDDLEWARE,)),
    (ISSUED_PASSWORD_MIDDLEWARE, (AUDIT_MIDDLEWARE, MESSAGE_MIDDLEWARE, CLICKJACKING_MIDDLEWARE)),
    (CSP_MIDDLEWARE, (ISSUED_PASSWORD_MIDDLEWARE,)),
    (ADMIN_LANGUAGE_MIDDLEWARE, (LOCALE_MIDDLEWARE, AUTHENTICATION_MIDDLEWARE)),
    (SECURITY_HEADERS_MIDDLEWARE, (CSP_MIDDLEWARE,)),
    (AXES_MIDDLEWARE, None),  # None: at the end
)

AXES_BACKEND = "axes.backends.AxesStandaloneBackend"
ISSUED_PASSWORD_BACKEND = "workpro_plugin.backends.IssuedPasswordBackend"
SMS_PASSWORD_BACKEND = "workpro_plugin.backends.SmsPasswordBackend"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
AUTHENTICATION_BACKENDS = (AXES_BACKEND, ISSUED_PASSWORD_BACKEND, SMS_PASSWORD_BACKEND)
ACCOUNT_LOCKOUT_HANDLER = "workpro_plugin.backends.AccountLockoutHandler"
LOGIN_URL = "workpro:login"

# argon2id with OWASP's minimum parameters first (logins per second on a registration day); Django's
# own hashers after it, so existing hashes verify and are rehashed on login (lib/hashers.py).
WORKPRO_HASHER = "workpro_plugin.lib.hashers.WorkProArgon2PasswordHasher"
DJANGO_ARGON2_HASHER = "django.contrib.auth.hashers.Argon2PasswordHasher"
PASSWORD_HASHERS = (
    WORKPRO_HASHER,
    DJANGO_ARGON2_HASHER,
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
)

# Settings `configure` sets only where the host has not set them.
HOST_DEFAULTS = {
    "LOGIN_URL": LOGIN_URL,
    "WAGTAIL_PASSWORD_RESET_ENABLED": False,
    # Wagtail's login form labels its password field "Password" untranslated (no label set).
    "WAGTAILADMIN_USER_LOGIN_FORM": "workpro_plugin.backoffice.forms.AdminLoginForm",
    "WAGTAIL_EMAIL_MANAGEMENT_ENABLED": False,
    "AXES_FAILURE_LIMIT": 5,
    "AXES_COOLOFF_TIME": timedelta(minutes=15),
    "AXES_LOCKOUT_PARAMETERS": [["username", "ip_address"]],
    "AXES_HANDLER": ACCOUNT_LOCKOUT_HANDLER,
    "AXES_RESET_ON_SUCCESS": True,
    "AXES_LOCKOUT_CALLABLE": "workpro_plugin.portal.views.accounts.lockout",
    "AXES_USERNAME_CALLABLE": "workpro_plugin.portal.views.accounts.axes_username",
    "AXES_CLIENT_IP_CALLABLE": "workpro_plugin.lib.http.client_ip",
    "AXES_VERBOSE": False,
    # No third-party avatar service or update check: they would break the CSP and leak data.
    "WAGTAIL_GRAVATAR_PROVIDER_URL": None,
    "WAGTAIL_ENABLE_UPDATE_CHECK": False,
}

# Content Security Policy (django-csp): everything from the own origin, no inline code; the
# Wagtail admin alone gets 'unsafe-inline' per request (WorkProCSPMiddleware).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-src": ["'self'"],
        "frame-ancestors": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# One dict for web and worker processes (ack_failures is stamped into each task by the enqueuing
# process). Retries need ack_failures False, retry above timeout and a finite max_attempts.
Q_CLUSTER = {
    "name": "workpro",
    "workers": 2,
    "timeout": 120,
    "retry": 300,
    "max_attempts": 5,
    "ack_failures": False,
    "save_limit": 1000,
    "catch_up": False,
    "poll": 0.2,
    "orm": "default",
}


# django-q2's Redis broker, but one connection pool per process instead of a connection per task.
POOLED_REDIS_BROKER = "workpro_plugin.lib.taskbroker.PooledRedisBroker"


def _insert_app(apps: list[str], app: str) -> None:
    if app in apps:
        return
    if app == "workpro_plugin":
        # Before Wagtail's and Django's apps, so its templates win, but after the host's own apps.
        for anchor in ("wagtail.contrib.forms", "wagtail", "django.contrib.admin", "django.contrib.auth"):
            if anchor in apps:
                apps.insert(apps.index(anchor), app)
                return
    apps.append(app)


def _insert_middleware(middleware: list[str], entry: str, after) -> None:
    if entry in middleware:
        return
    if after is None:
        middleware.append(entry)
        return
    positions = [middleware.index(anchor) for anchor in after if anchor in middleware]
    position = max(positions) + 1 if positions else len(middleware)
    # Stay in front of entries that must come last (axes).
    if AXES_MIDDLEWARE in middleware:
        position = min(position, middleware.index(AXES_MIDDLEWARE))
    middleware.insert(position, entry)


def configure(namespace: dict, *, redis_url: str = "") -> dict:
    """Adds what WorkPro needs to a settings module's namespace (pass ``globals()``); idempotent.

    Keeps every value the host set: lists (apps, middleware, backends) get only the missing
    entries, dicts (STORAGES) only missing keys, and other settings are set only when absent.
    With ``redis_url``, an absent CACHES becomes a Redis cache there (shared by all processes, as
    production needs: workpro.E029) and an absent Q_CLUSTER uses it as broker. Returns the namespace.
    """
    apps = list(namespace.get("INSTALLED_APPS", ()))
    for app in REQUIRED_APPS:
        _insert_app(apps, app)
    namespace["INSTALLED_APPS"] = apps

    middleware = list(namespace.get("MIDDLEWARE", ()))
    for entry, after in REQUIRED_MIDDLEWARE:
        _insert_middleware(middleware, entry, after)
    namespace["MIDDLEWARE"] = middleware

    backends = list(namespace.get("AUTHENTICATION_BACKENDS", ()) or ())
    # Django's ModelBackend accepts issued passwords after 72 hours: WorkPro's subclass replaces it.
    backends = [ISSUED_PASSWORD_BACKEND if path == MODEL_BACKEND else path for path in backends]
    if AXES_BACKEND not in backends:
        backends.insert(0, AXES_BACKEND)
    for path in (ISSUED_PASSWORD_BACKEND, SMS_PASSWORD_BACKEND):
        if path not in backends:
            backends.append(path)
    namespace["AUTHENTICATION_BACKENDS"] = list(dict.fromkeys(backends))

    namespace["PASSWORD_HASHERS"] = _password_hashers(namespace.get("PASSWORD_HASHERS"))

    for name, value in HOST_DEFAULTS.items():
        namespace.setdefault(name, value)
    namespace.setdefault("CONTENT_SECURITY_POLICY", CONTENT_SECURITY_POLICY)
    if redis_url:
        namespace.setdefault("CACHES", {"default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}})
        cluster = {key: value for key, value in Q_CLUSTER.items() if key != "orm"}
        namespace.setdefault("Q_CLUSTER", {**cluster, "redis": redis_url, "broker_class": POOLED_REDIS_BROKER})
    namespace.setdefault("Q_CLUSTER", dict(Q_CLUSTER))

    storages = dict(namespace.get("STORAGES") or {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    })
    if "private" not in storages:
        storages["private"] = {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(private_root(namespace)), "base_url": None},
        }
    namespace["STORAGES"] = storages
    return namespace


def _password_hashers(hashers) -> list[str]:
    """WorkPro's argon2id first unless the host listed it itself (then the host's order stays); the
    host's hashers after it, and Django's Argon2 and PBKDF2 kept so existing hashes still verify.
    Without argon2-cffi (the plugin does not require it; the `site` extra brings it) nothing changes."""
    if find_spec("argon2") is None:
        return list(hashers) if hashers else list(PASSWORD_HASHERS[2:])
    if not hashers:
        return list(PASSWORD_HASHERS)
    hashers = list(hashers)
    if WORKPRO_HASHER not in hashers:
        hashers.insert(0, WORKPRO_HASHER)
    for path in PASSWORD_HASHERS[1:3]:
        if path not in hashers:
            hashers.append(path)
    return hashers


def private_root(namespace: dict) -> Path:
    """Where documents live by default: PRIVATE_MEDIA_ROOT, else "private_media" beside MEDIA_ROOT
    (never inside it: MEDIA_ROOT is served under MEDIA_URL)."""
    if namespace.get("PRIVATE_MEDIA_ROOT"):
        return Path(namespace["PRIVATE_MEDIA_ROOT"])
    media = namespace.get("MEDIA_ROOT")
    if media:
        return Path(media).resolve().parent / "private_media"
    base = namespace.get("BASE_DIR")
    return (Path(base) if base else Path.cwd()) / "private_media"
