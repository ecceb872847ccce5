"""WorkPro's system checks: what the plugin needs of its host, and deploy hardening.

Registered on import (AppConfig.ready). Checks tagged `database` read the database and run with
`manage.py check --database default` and before `migrate`.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import get_hashers
from django.core import checks
from django.core.files.storage import FileSystemStorage
from django.db import DatabaseError
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string
from wagtail.admin.views import account as wagtail_account

from . import conf
from .access import two_factor_required
from .lib import hashers
from .middleware import UNSAFE_INLINE
from .services import signatures
from .services.institutions import groups_spanning_institutions


@checks.register(checks.Tags.security, checks.Tags.database)
def check_group_page_permissions(app_configs=None, databases=None, **kwargs):
    """A group whose page permissions reach several institutions lets its members edit and publish
    another institution's offers (Wagtail's default Editors and Moderators have rights on the root)."""
    if not databases or "default" not in databases:
        return []
    try:
        spanning = groups_spanning_institutions()
    except DatabaseError:  # not migrated yet (migrate runs the checks first)
        return []
    return [checks.Warning(
        f"The group {group.name!r} has page permissions on pages of several institutions "
        f"({', '.join(names)}): its members may edit and publish the offers of all of them.",
        hint="Give each institution's staff its own groups (WorkPro creates \"Sachbearbeitung …\" and "
             "\"Leitung …\" with rights on the institution's homepage only) and remove this group's page "
             "permissions above or across institutions' homepages (Settings → Groups). Wagtail's default "
             "Editors and Moderators have rights on the root page.",
        obj=group, id="workpro.W010") for group, names in spanning]


@checks.register(checks.Tags.security)
def check_trusted_proxies(app_configs=None, **kwargs):
    """A typo in TRUSTED_PROXIES must stop the start, not turn every request into a 500."""
    problems = []
    for entry in conf.get("TRUSTED_PROXIES") or ():
        try:
            ipaddress.ip_network(str(entry).strip(), strict=False)
        except ValueError:
            problems.append(checks.Error(
                f"WORKPRO_TRUSTED_PROXIES: {entry!r} is neither an IP address nor a network.",
                hint="Use addresses or CIDR networks, e.g. TRUSTED_PROXIES=127.0.0.1,10.0.0.0/8.",
                id="workpro.E001"))
    return problems


# --- login protection ------------------------------------------------------------------------

ISSUED_PASSWORD_BACKEND = conf.ISSUED_PASSWORD_BACKEND
ACCOUNT_LOCKOUT_HANDLER = conf.ACCOUNT_LOCKOUT_HANDLER
SMS_PASSWORD_BACKEND = conf.SMS_PASSWORD_BACKEND
HTTP_SMS_BACKEND = conf.HTTP_SMS_BACKEND
PROCESS_LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


def _imported(path: str):
    try:
        return import_string(path)
    except ImportError:
        return None


@checks.register(checks.Tags.security)
def check_login_protection(app_configs=None, **kwargs):
    """Issued-password expiry and the per-account lock live in settings-named classes: a host that
    keeps Django's ModelBackend or axes' default handler would silently lose them.

    The classes are looked up by name here, not imported with this module: the backends need
    django-axes, and these checks must run (and say what is missing) before it is installed."""
    problems = []
    if not apps.is_installed("axes"):
        return problems  # workpro.E020 names the missing app
    IssuedPasswordBackend = import_string(ISSUED_PASSWORD_BACKEND)  # noqa: N806
    AccountLockoutHandler = import_string(ACCOUNT_LOCKOUT_HANDLER)  # noqa: N806
    backends = [(path, _imported(path)) for path in getattr(settings, "AUTHENTICATION_BACKENDS", ())]
    if not any(isinstance(cls, type) and issubclass(cls, IssuedPasswordBackend) for _, cls in backends):
        problems.append(checks.Error(
            f"AUTHENTICATION_BACKENDS lacks {ISSUED_PASSWORD_BACKEND}: expired issued passwords would be accepted.",
            hint=f"Use {ISSUED_PASSWORD_BACKEND} instead of django.contrib.auth.backends.ModelBackend.",
            id="workpro.E011"))
    for path, cls in backends:
        if isinstance(cls, type) and issubclass(cls, ModelBackend) and not issubclass(cls, IssuedPasswordBackend):
            problems.append(checks.Error(
                f"AUTHENTICATION_BACKENDS contains {path}, which accepts issued passwords after 72 hours.",
                hint=f"Replace it with {ISSUED_PASSWORD_BACKEND} (keep axes.backends.AxesStandaloneBackend first).",
                id="workpro.E012"))
    handler = _imported(getattr(settings, "AXES_HANDLER", "") or "axes.handlers.database.AxesDatabaseHandler")
    if not (isinstance(handler, type) and issubclass(handler, AccountLockoutHandler)):
        problems.append(checks.Error(
            "AXES_HANDLER is not the WorkPro handler: failed logins would lock per address only.",
            hint=f"Set AXES_HANDLER = \"{ACCOUNT_LOCKOUT_HANDLER}\".", id="workpro.E013"))
    per_address = getattr(settings, "AXES_FAILURE_LIMIT", 3)
    account = conf.get("ACCOUNT_FAILURE_LIMIT")
    if isinstance(per_address, int) and int(account) <= per_address:
        problems.append(checks.Error(
            "WORKPRO_ACCOUNT_FAILURE_LIMIT must be higher than AXES_FAILURE_LIMIT.",
            hint="Otherwise a few tries from anywhere lock the owner out as well; the default is 20.",
            id="workpro.E014"))
    return problems


# --- identity paths --------------------------------------------------------------------------


@checks.register(checks.Tags.security)
def check_identity_paths(app_configs=None, **kwargs):
    """Every change of a login identity needs proof of the mailbox or the phone (issue #15).

    Wagtail's password reset mails a reset link to whatever address an account has; WorkPro's
    addresses are changed through proofs of their own, and staff recover through their Leitung
    or a superuser, so the reset must be off. Wagtail's account page would let staff change their
    address without any proof. Without the SMS backend, "Neues Passwort anfordern" sends
    passwords that nobody can use.
    """
    problems = []
    if wagtail_account.password_reset_enabled():
        problems.append(checks.Error(
            "Wagtail's password reset (/admin/password_reset/) is on: it mails a reset link to the account's "
            "address without any further proof.",
            hint="Set WAGTAIL_PASSWORD_RESET_ENABLED = False. Portal users request a password by SMS; staff "
                 "recover through their Leitung or a superuser.",
            id="workpro.E015"))
    if wagtail_account.email_management_enabled():
        problems.append(checks.Error(
            "Wagtail's account page (/admin/account/) lets staff change their mail address without confirming it.",
            hint="Set WAGTAIL_EMAIL_MANAGEMENT_ENABLED = False; a superuser changes staff addresses.",
            id="workpro.E016"))
    backends = list(getattr(settings, "AUTHENTICATION_BACKENDS", ()))
    if SMS_PASSWORD_BACKEND not in backends:
        problems.append(checks.Error(
            f"{SMS_PASSWORD_BACKEND} is missing from AUTHENTICATION_BACKENDS: passwords sent by "
            "\"Neues Passwort anfordern\" cannot be used to log in.",
            hint="Add it after axes.backends.AxesStandaloneBackend and ModelBackend.",
            id="workpro.E017"))
    return problems


# --- deploy checks ---------------------------------------------------------------------------

@checks.register(checks.Tags.security, deploy=True)
def check_hardening(app_configs=None, **kwargs):
    """`check --deploy` fails on a production setup that drops 2FA or re-allows inline code."""
    problems = []
    if not two_factor_required():
        problems.append(checks.Warning(
            "WORKPRO_REQUIRE_STAFF_2FA is off: staff can open the Wagtail admin without a second factor.",
            hint="Set WORKPRO_REQUIRE_STAFF_2FA=1 (the default of the production settings).",
            id="workpro.W001"))
    directives = (getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}).get("DIRECTIVES", {})
    for directive in ("default-src", "script-src", "style-src"):
        if UNSAFE_INLINE in (directives.get(directive) or ()):
            problems.append(checks.Warning(
                f"CONTENT_SECURITY_POLICY allows 'unsafe-inline' in {directive} for the public site.",
                hint="Move inline code to static files; only the Wagtail admin is relaxed, per request.",
                id="workpro.W002"))
    return problems


@checks.register(checks.Tags.security)
def check_password_hasher(app_configs=None, **kwargs):
    """The first hasher makes every new hash: argon2 below OWASP's minimum is too weak."""
    first = get_hashers()[0]
    if not hashers.is_weaker_than_minimum(first):
        return []
    return [checks.Warning(
        f"The first of PASSWORD_HASHERS ({type(first).__name__}: m = {first.memory_cost} KiB, "
        f"t = {first.time_cost}) is weaker than OWASP's minimum for argon2id "
        f"(m = {hashers.MIN_MEMORY_COST} KiB, t = {hashers.MIN_TIME_COST}, p = {hashers.MIN_PARALLELISM}).",
        hint=f'Put "{conf.WORKPRO_HASHER}" first in PASSWORD_HASHERS (configure(globals()) does).',
        id="workpro.W023")]


# --- what the plugin needs of its host -------------------------------------------------------
# Each hint names the setting to add; `configure(globals())` at the end of the settings module
# (README, "Install into an existing Wagtail site") adds all of them at once.

CONFIGURE = "from workpro_plugin.conf import configure; configure(globals())"

WHY_APP = {
    "workpro_plugin": "the plugin itself",
    "wagtail_modeladmin": "the WorkPro lists in the Wagtail admin",
    "django_q": "mails, SMS, PDFs and deadlines run as django-q2 tasks",
    "axes": "login lockouts (django-axes)",
    "django_otp": "staff two-factor authentication (django-otp)",
    "django_otp.plugins.otp_totp": "the staff's authenticator app codes",
    "django_otp.plugins.otp_static": "the staff's recovery codes",
}


@checks.register()
def check_host_apps(app_configs=None, **kwargs):
    return [checks.Error(
        f"INSTALLED_APPS lacks {app!r}, which WorkPro needs for {WHY_APP.get(app, 'its models')}.",
        hint=f"Add {app!r} to INSTALLED_APPS, or append `{CONFIGURE}` to the settings module.",
        id="workpro.E020") for app in conf.missing_apps()]


# (entry, entry it must follow): the protections read request.user, the 2FA gate user.is_verified().
MIDDLEWARE_ORDER = (
    (conf.OTP_MIDDLEWARE, conf.AUTHENTICATION_MIDDLEWARE),
    (conf.STAFF_2FA_MIDDLEWARE, conf.OTP_MIDDLEWARE),
    (conf.AUDIT_MIDDLEWARE, conf.AUTHENTICATION_MIDDLEWARE),
    (conf.ISSUED_PASSWORD_MIDDLEWARE, conf.AUTHENTICATION_MIDDLEWARE),
    (conf.AXES_MIDDLEWARE, conf.AUTHENTICATION_MIDDLEWARE),
)
# IssuedPasswordMiddleware is no requirement: the portal's URL patterns enforce the same themselves
# (portal.guards); configure() still adds it as a second line. AdminLanguageMiddleware protects
# nothing: without it the admin follows the browser's language.
OPTIONAL_MIDDLEWARE = (conf.ISSUED_PASSWORD_MIDDLEWARE, conf.ADMIN_LANGUAGE_MIDDLEWARE)
REQUIRED_MIDDLEWARE = (
    conf.SESSION_MIDDLEWARE, conf.AUTHENTICATION_MIDDLEWARE, conf.MESSAGE_MIDDLEWARE,
    *(entry for entry, _after in conf.REQUIRED_MIDDLEWARE if entry not in OPTIONAL_MIDDLEWARE),
)
PLACE = {entry: (after[-1] if after else None) for entry, after in conf.REQUIRED_MIDDLEWARE}
PLACE.update({conf.SESSION_MIDDLEWARE: "django.middleware.security.SecurityMiddleware",
              conf.AUTHENTICATION_MIDDLEWARE: conf.SESSION_MIDDLEWARE,
              conf.MESSAGE_MIDDLEWARE: conf.AUTHENTICATION_MIDDLEWARE})
WHY_MIDDLEWARE = {
    conf.OTP_MIDDLEWARE: "staff two-factor authentication",
    conf.STAFF_2FA_MIDDLEWARE: "the second factor before any Wagtail admin view",
    conf.AUDIT_MIDDLEWARE: "refused access in the audit log",
    conf.CSP_MIDDLEWARE: "the Content Security Policy",
    conf.SECURITY_HEADERS_MIDDLEWARE: "the Permissions-Policy header",
    conf.AXES_MIDDLEWARE: "login lockouts",
}


@checks.register(checks.Tags.security)
def check_host_middleware(app_configs=None, **kwargs):
    middleware = list(getattr(settings, "MIDDLEWARE", None) or ())
    problems = []
    for entry in REQUIRED_MIDDLEWARE:
        if entry not in middleware:
            why = WHY_MIDDLEWARE.get(entry, "sessions, logins and messages")
            after = PLACE.get(entry)
            place = f"after {after}" if after else "at the end"
            problems.append(checks.Error(
                f"MIDDLEWARE lacks {entry} ({why}).",
                hint=f"Add {entry!r} to MIDDLEWARE {place}, or append `{CONFIGURE}` to the settings module.",
                id="workpro.E021"))
    for entry, after in MIDDLEWARE_ORDER:
        if entry in middleware and after in middleware and middleware.index(entry) < middleware.index(after):
            problems.append(checks.Error(
                f"MIDDLEWARE lists {entry} before {after}.",
                hint=f"Move {entry} after {after}.", id="workpro.E022"))
    return problems


def _is_within(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


@checks.register(checks.Tags.security)
def check_private_storage(app_configs=None, **kwargs):
    """Applications, contracts and passport photos live in STORAGES["private"], never under MEDIA_URL."""
    config = (getattr(settings, "STORAGES", None) or {}).get("private")
    if not config:
        return [checks.Error(
            'STORAGES has no "private" entry: WorkPro stores applications, contracts and passport photos there.',
            hint='Add STORAGES["private"] = {"BACKEND": "django.core.files.storage.FileSystemStorage", '
                 '"OPTIONS": {"location": "<a folder outside MEDIA_ROOT>", "base_url": None}} (or an S3 storage '
                 f"with private ACLs), or append `{CONFIGURE}` to the settings module.",
            id="workpro.E023")]
    backend = _imported(config.get("BACKEND", ""))
    location = (config.get("OPTIONS") or {}).get("location")
    media_root = getattr(settings, "MEDIA_ROOT", "")
    if (isinstance(backend, type) and issubclass(backend, FileSystemStorage) and location and media_root
            and _is_within(Path(location), Path(media_root))):
        return [checks.Error(
            f'STORAGES["private"] stores into {location}, inside MEDIA_ROOT: the web server would serve '
            "private documents to anyone under MEDIA_URL.",
            hint="Give it a location outside MEDIA_ROOT (e.g. PRIVATE_MEDIA_ROOT beside it).",
            id="workpro.E024")]
    return []


@checks.register(checks.Tags.urls)
def check_urls_and_login_url(app_configs=None, **kwargs):
    try:
        login = reverse("workpro:login")
    except NoReverseMatch:
        return [checks.Error(
            "The WorkPro URLs (namespace \"workpro\") are not included in ROOT_URLCONF.",
            hint='Put urlpatterns = [path("workpro/", include("workpro_plugin.urls"))] + urlpatterns at the end '
                 "of the site's urls.py (in front of Wagtail's catch-all page route).",
            id="workpro.E025")]
    try:
        configured = resolve_url(settings.LOGIN_URL)
    except NoReverseMatch:
        configured = str(settings.LOGIN_URL)
    if configured != login:
        return [checks.Error(
            f"LOGIN_URL is {settings.LOGIN_URL!r}: portal users who must log in would not reach WorkPro's login.",
            hint=f'Set LOGIN_URL = "{conf.LOGIN_URL}", or append `{CONFIGURE}` to the settings module.',
            id="workpro.E026")]
    return []


@checks.register()
def check_sms_backend(app_configs=None, **kwargs):
    """Passwords and 2FA links travel by SMS: without DEBUG, nobody may get the console backend by default."""
    path = conf.get("SMS_BACKEND")
    if not path:
        return [checks.Error(
            "WORKPRO_SMS_BACKEND is not set and DEBUG is off: \"Neues Passwort anfordern\" could send nothing.",
            hint="Set WORKPRO_SMS_GATEWAY_URL and WORKPRO_SMS_GATEWAY_TOKEN (then the HTTP gateway backend is "
                 "used), or WORKPRO_SMS_BACKEND to your own backend; the console backend is the default only "
                 "with DEBUG on.",
            id="workpro.E027")]
    if _imported(path) is None:
        return [checks.Error(f"WORKPRO_SMS_BACKEND {path!r} cannot be imported.",
                             hint="Name a class with send_messages(messages), e.g. "
                                  "workpro_plugin.sms.backends.http.SmsBackend.", id="workpro.E028")]
    if path == HTTP_SMS_BACKEND and not conf.get("SMS_GATEWAY_URL"):
        return [checks.Error("WORKPRO_SMS_BACKEND is the HTTP gateway, but WORKPRO_SMS_GATEWAY_URL is empty.",
                             hint="Set WORKPRO_SMS_GATEWAY_URL (and WORKPRO_SMS_GATEWAY_TOKEN).",
                             id="workpro.E028")]
    return []


@checks.register()
def check_retention(app_configs=None, **kwargs):
    table = conf.get("RETENTION_DAYS")
    return [checks.Warning(
        f"WORKPRO_RETENTION_DAYS[{key!r}] is {table[key]} days: concluded contracts must be kept ten years "
        "(§ 147 AO, § 257 HGB).",
        hint=f"Remove the key (default {conf.TEN_YEARS}) or set it to at least {conf.TEN_YEARS}.",
        id="workpro.W021") for key in conf.TAX_RELEVANT_RETENTION if int(table[key]) < conf.TEN_YEARS]


@checks.register(checks.Tags.security, deploy=True)
def check_production_services(app_configs=None, **kwargs):
    """Rate limits, lockouts and Wagtail's caches must be shared by all processes; SMS must reach phones."""
    problems = []
    if settings.DEBUG:
        return problems
    cache_backend = (getattr(settings, "CACHES", None) or {}).get("default", {}).get("BACKEND", "")
    if cache_backend in PROCESS_LOCAL_CACHES:
        # An error, not a warning: rate limits (registration, password requests, SMS, 2FA) counted per
        # worker let through workers × the limit, and a change published in one process never reaches
        # the others' caches. `check --deploy` fails until the cache is shared.
        problems.append(checks.Error(
            f"The default cache is {cache_backend}: every process counts rate limits and keeps caches of its own.",
            hint='Use a shared cache, e.g. REDIS_URL, or CACHES = {"default": {"BACKEND": '
                 '"django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://..."}}.',
            id="workpro.E029"))
    path = conf.get("SMS_BACKEND")
    if path in conf.NON_DELIVERING_SMS_BACKENDS:
        problems.append(checks.Warning(
            f"WORKPRO_SMS_BACKEND is {path}, which never reaches a phone (passwords would end up in logs or files).",
            hint="Use workpro_plugin.sms.backends.http.SmsBackend with WORKPRO_SMS_GATEWAY_URL, or your own backend.",
            id="workpro.W022"))
    return problems


@checks.register(checks.Tags.database)
def check_signing_keys(app_configs=None, databases=None, **kwargs):
    """In production every institution signs its Angebote and ratified contracts; without a key (or
    with one whose password is missing) they are issued unsigned, and the portal says so."""
    if settings.DEBUG or not databases or "default" not in databases:
        return []
    Institution = apps.get_model("workpro_plugin", "Institution")
    try:
        institutions = list(Institution.objects.all())
    except DatabaseError:  # not migrated yet
        return []
    problems = []
    for institution in institutions:
        if not signatures.has_signing_key(institution):
            problems.append(checks.Warning(
                f"The institution {institution.name!r} has no signing certificate: its Angebote and ratified "
                "contracts are issued without a digital signature.",
                hint="Upload a PKCS#12 file (.p12) in the institution's settings and set its password in the "
                     f"environment variable {signatures.password_env_names(institution)[-2]}, or configure "
                     "WORKPRO_SIGNING_KEYS.", obj=institution, id="workpro.W030"))
        elif not signatures.can_sign(institution):
            problems.append(checks.Warning(
                f"The signing certificate of {institution.name!r} cannot be opened (file missing or wrong "
                "password): documents are issued unsigned.",
                hint="Check the file and the environment variables "
                     f"{', '.join(signatures.password_env_names(institution))}.", obj=institution, id="workpro.W031"))
    return problems
